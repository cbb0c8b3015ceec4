//! Stage 1, plan: the document's sentences and token-aware chunks, and what a summary of
//! it will cost, computed without running the model (`summarize --plan` prints it).

use super::{SummarizeOptions, BATCH, PROMPT_OVERHEAD, TLDR_GROUP, TOKENS_PER_POINT};
use crate::chunk::{self, Chunk};
use crate::input::Document;
use std::ops::Range;

/// The chunk plan of a document, computed without running the model.
#[derive(Debug, Clone)]
pub struct Plan {
    pub sentences: Vec<Range<usize>>,
    pub chunks: Vec<Chunk>,
    pub doc_tokens: usize,
    /// Map calls plus the two title calls and the tl;dr calls.
    pub model_calls: usize,
    pub est_prompt_tokens: usize,
    pub est_generated_tokens: usize,
    /// Tokens per chunk after the context bound.
    pub budget: usize,
}

impl Plan {
    /// Seconds at the given prefill and decode speeds, one call after another (batched
    /// decode makes a real run faster than this).
    pub fn estimate_s(&self, prefill_tok_s: f64, decode_tok_s: f64) -> f64 {
        self.est_prompt_tokens as f64 / prefill_tok_s.max(1e-9)
            + self.est_generated_tokens as f64 / decode_tok_s.max(1e-9)
    }
}

/// Plans the chunks of `doc` for a model of `context` tokens.
pub fn plan(doc: &Document, context: usize, opts: &SummarizeOptions, count: &mut dyn FnMut(&str) -> usize) -> Plan {
    let sentences = chunk::sentences(&doc.text);
    let out_budget = opts.points_per_chunk * TOKENS_PER_POINT;
    let budget = opts.chunk_tokens.min(context.saturating_sub(PROMPT_OVERHEAD + out_budget)).max(16);
    let chunks = chunk::plan(&doc.text, &sentences, budget, opts.overlap_sentences, count);
    let doc_tokens = count(&doc.text);
    let map_prompt: usize = chunks.iter().map(|c| c.tokens + PROMPT_OVERHEAD).sum();
    // As `summarize` runs it: two title prompts; one tl;dr from the opening when the map
    // prompts and those three fit one batch, else tl;dr calls over the key points.
    let tldr_calls = if chunks.len() + 3 <= BATCH { 1 } else { tldr_groups(chunks.len() * opts.points_per_chunk) };
    Plan {
        model_calls: chunks.len() + 2 + tldr_calls,
        est_prompt_tokens: map_prompt + 2 * (PROMPT_OVERHEAD + 80) + tldr_calls * (PROMPT_OVERHEAD + 200),
        est_generated_tokens: chunks.len() * out_budget / 2 + 2 * 24 + tldr_calls * 48,
        sentences,
        chunks,
        doc_tokens,
        budget,
    }
}

/// How many tl;dr calls a list of `n` points takes (groups of TLDR_GROUP, then one over them).
pub(super) fn tldr_groups(n: usize) -> usize {
    if n <= TLDR_GROUP {
        1
    } else {
        n.div_ceil(TLDR_GROUP) + 1
    }
}
