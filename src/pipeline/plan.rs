//! Stage 1, plan: the document's sentences and token-aware chunks, and what a summary of
//! it will cost, computed without running the model (`summarize --plan` prints it).

use super::{select, SummarizeOptions, PROMPT_OVERHEAD, TOKENS_PER_POINT};
use crate::chunk::{self, Chunk};
use crate::input::Document;
use std::ops::Range;

/// The chunk plan of a document, computed without running the model.
#[derive(Debug, Clone)]
pub struct Plan {
    pub sentences: Vec<Range<usize>>,
    pub chunks: Vec<Chunk>,
    pub doc_tokens: usize,
    /// One call per key point, two title calls and one tl;dr call.
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
    // As `summarize` runs it: a short rewrite prompt per key point (one sentence each),
    // two title prompts over the opening, one tl;dr prompt over three sentences.
    let points =
        if opts.max_points > 0 { opts.max_points } else { select::points_for(doc.text.split_whitespace().count()) };
    Plan {
        model_calls: points + 3,
        est_prompt_tokens: points * (PROMPT_OVERHEAD + 48) + 2 * (PROMPT_OVERHEAD + 80) + (PROMPT_OVERHEAD + 150),
        est_generated_tokens: points * TOKENS_PER_POINT / 2 + 2 * 24 + 48,
        sentences,
        chunks,
        doc_tokens,
        budget,
    }
}
