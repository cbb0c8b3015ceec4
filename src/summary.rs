//! The summary: the `precis.summary/v1` JSON document (its schema is
//! `prompts/summary.schema.json`) and its parts. Pure data: it imports nothing of precis.

use serde::{Deserialize, Serialize};

pub const SCHEMA: &str = "precis.summary/v1";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    pub schema: String,
    pub source: SourceInfo,
    pub model: ModelRef,
    pub title: String,
    pub tldr: String,
    pub key_points: Vec<KeyPoint>,
    pub chunks: Vec<ChunkInfo>,
    pub stats: Stats,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SourceInfo {
    pub path: String,
    pub sha256: String,
    pub bytes: usize,
    pub tokens: usize,
    pub format: String,
}

/// The model a summary was made with.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ModelRef {
    pub id: String,
    pub file_sha256: String,
    pub revision: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct KeyPoint {
    pub text: String,
    pub evidence: Vec<EvidenceSpan>,
    pub support: f32,
}

/// Byte offsets into the source file as read; `quote` is exactly those bytes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EvidenceSpan {
    pub start: usize,
    pub end: usize,
    pub quote: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ChunkInfo {
    pub index: usize,
    pub start: usize,
    pub end: usize,
    pub tokens: usize,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Stats {
    pub model_calls: usize,
    pub prompt_tokens: usize,
    pub generated_tokens: usize,
    pub prefill_tok_s: f64,
    pub decode_tok_s: f64,
    pub load_s: f64,
    pub wall_s: f64,
}
