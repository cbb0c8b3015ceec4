//! The pipeline's road to the engine: batches of chats handed to [`Engine::generate_chats`],
//! with the call, token and time counts that become the summary's stats.

use crate::engine::{Engine, GenParams};
use crate::error::Result;
use crate::summary::Stats;
use crate::template::ChatPrompt;
use std::time::Duration;

pub(super) struct Calls<'e> {
    pub(super) engine: &'e mut dyn Engine,
    pub(super) stats: Stats,
    pub(super) prefill: Duration,
    pub(super) decode: Duration,
    pub(super) decoded: usize,
}

impl<'e> Calls<'e> {
    pub(super) fn new(engine: &'e mut dyn Engine) -> Self {
        Calls { engine, stats: Stats::default(), prefill: Duration::ZERO, decode: Duration::ZERO, decoded: 0 }
    }

    /// Several chats, each with its parameters, batched where the engine can. Each reply
    /// starts with its chat's assistant prefix.
    pub(super) fn run_batch(&mut self, chats: &[(&ChatPrompt, &GenParams)]) -> Result<Vec<String>> {
        let gens = self.engine.generate_chats(chats)?;
        let mut out = Vec::with_capacity(gens.len());
        for (g, (chat, _)) in gens.iter().zip(chats) {
            tracing::debug!(prompt_tokens = g.prompt_tokens, stop = ?g.stop, "reply: {:?}", g.text);
            tracing::trace!(
                prefill_s = g.prefill.as_secs_f64(),
                decode_s = g.decode.as_secs_f64(),
                tokens = g.tokens.len(),
                "timing"
            );
            self.stats.model_calls += 1;
            self.stats.prompt_tokens += g.prompt_tokens;
            self.stats.generated_tokens += g.tokens.len();
            // Batched sequences share their group's wall time: count it once.
            let share = g.shared_with.max(1) as u32;
            self.prefill += g.prefill / share;
            self.decode += g.decode / share;
            self.decoded += g.tokens.len().saturating_sub(1);
            out.push(format!("{}{}", chat.assistant_prefix, g.text));
        }
        Ok(out)
    }

    /// The stats of every call so far; `wall_s` and `load_s` are the caller's.
    pub(super) fn stats(&self) -> Stats {
        // A speed whose time is unknown (a server that reports no timings) is 0.
        let rate = |n: usize, d: Duration| if d.is_zero() { 0.0 } else { round2(n as f64 / d.as_secs_f64()) };
        Stats {
            prefill_tok_s: rate(self.stats.prompt_tokens, self.prefill),
            decode_tok_s: rate(self.decoded, self.decode),
            ..self.stats.clone()
        }
    }
}

pub(super) fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
pub(super) fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
