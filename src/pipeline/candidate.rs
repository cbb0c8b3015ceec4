//! A candidate key point: generated text with the source sentences that back it, as the
//! map stage hands it to selection and selection to grounding.

use crate::ground;

/// A point with where it came from.
#[derive(Debug, Clone)]
pub(super) struct Candidate {
    pub(super) text: String,
    pub(super) evidence: Vec<ground::Evidence>,
    pub(super) support: f32,
    /// Byte offset in `doc.text` of its best evidence (for ordering and spread).
    pub(super) at: usize,
    /// Support, less 1 when the grounding checks flag it (for selection).
    pub(super) quality: f32,
    /// Swapped attributions corrected to the source's name.
    pub(super) repaired: Vec<String>,
    /// What the grounding checks flag in it, if anything.
    pub(super) problem: Option<String>,
}
