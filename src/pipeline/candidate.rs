//! A candidate key point: the source sentence it stands for, its salience, and the text
//! that will say it (compressed from the sentence, or the model's rewrite of it).

/// One point of the summary as it moves from selection to grounding.
#[derive(Debug, Clone)]
pub(super) struct Candidate {
    /// The source sentence (index into the plan's sentences) the point says.
    pub(super) sentence: usize,
    /// The sentence's salience.
    pub(super) salience: f32,
    /// The sentence compressed to a point (the extractive form).
    pub(super) compressed: String,
    /// The text that will be printed.
    pub(super) text: String,
    /// How well the sentence backs `text` (0..=1).
    pub(super) support: f32,
    /// Whether `text` is the model's rewrite (else the compressed sentence).
    pub(super) rewritten: bool,
}
