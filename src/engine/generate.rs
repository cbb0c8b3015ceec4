//! Generation parameters and results, and the one prefill/decode loop that every
//! backend shares: clear the cache, prefill, then decode one token at a time until an
//! end-of-generation token, a stop rule or the budget. Sampling works on plain `f32`
//! logits. Returns values; never prints.

use crate::error::{Error, Result};
use rand::{rngs::StdRng, Rng, SeedableRng};
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// A model that maps tokens at positions `pos..` to the logits of the last position.
pub trait Forward {
    fn clear_cache(&mut self);
    fn forward(&mut self, tokens: &[u32], pos: usize) -> Result<Vec<f32>>;
    /// Longest sequence (prompt + generated) the backend can hold.
    fn max_positions(&self) -> usize;
}

#[derive(Debug, Clone, PartialEq)]
pub struct GenParams {
    /// Budget of generated tokens.
    pub max_tokens: usize,
    /// 0 = greedy (argmax), deterministic.
    pub temperature: f32,
    pub top_k: usize,
    pub top_p: f32,
    /// > 1 penalises tokens seen in the last `repeat_last_n` generated tokens.
    pub repeat_penalty: f32,
    pub repeat_last_n: usize,
    /// Forbid repeating any n-gram of generated tokens of this size (0 = off).
    pub no_repeat_ngram: usize,
    pub seed: u64,
    /// Stop once the generated text contains one of these (the text is cut before it).
    pub stop_strings: Vec<String>,
    /// Stop once this many non-empty lines are complete (0 = off).
    pub max_lines: usize,
    /// Keep going past end-of-generation tokens (for speed tests).
    pub ignore_eog: bool,
}

impl Default for GenParams {
    fn default() -> Self {
        GenParams {
            max_tokens: 256,
            temperature: 0.0,
            top_k: 40,
            top_p: 0.95,
            repeat_penalty: 1.0,
            repeat_last_n: 64,
            no_repeat_ngram: 0,
            seed: 299792458,
            stop_strings: Vec::new(),
            max_lines: 0,
            ignore_eog: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    EndOfGeneration,
    StopString,
    MaxLines,
    Budget,
    Context,
}

#[derive(Debug, Clone)]
pub struct Generation {
    pub tokens: Vec<u32>,
    pub text: String,
    pub stop: StopReason,
    pub prompt_tokens: usize,
    pub prefill: Duration,
    pub decode: Duration,
}

impl Generation {
    pub fn prefill_tok_s(&self) -> f64 {
        rate(self.prompt_tokens, self.prefill)
    }
    /// Decode speed over the tokens after the first (the first comes from prefill).
    pub fn decode_tok_s(&self) -> f64 {
        rate(self.tokens.len().saturating_sub(1), self.decode)
    }
}

fn rate(n: usize, d: Duration) -> f64 {
    if d.is_zero() {
        0.0
    } else {
        n as f64 / d.as_secs_f64()
    }
}

/// The generation loop. `decode` turns tokens into text (for stop rules); `is_eog`
/// tells end-of-generation tokens.
pub fn generate(
    model: &mut dyn Forward,
    prompt: &[u32],
    params: &GenParams,
    is_eog: &dyn Fn(u32) -> bool,
    decode: &dyn Fn(&[u32]) -> Result<String>,
) -> Result<Generation> {
    if prompt.is_empty() {
        return Err(Error::Engine("empty prompt".into()));
    }
    let limit = model.max_positions();
    if prompt.len() >= limit {
        return Err(Error::Engine(format!(
            "prompt of {} tokens does not fit the model's {limit}-token context",
            prompt.len()
        )));
    }
    let mut sampler = Sampler::new(params);
    model.clear_cache();
    let t0 = Instant::now();
    let mut logits = model.forward(prompt, 0)?;
    let prefill = t0.elapsed();
    let t1 = Instant::now();
    let mut out: Vec<u32> = Vec::new();
    let mut text = String::new();
    let stop = loop {
        let next = sampler.sample(&mut logits, &out);
        if is_eog(next) && !params.ignore_eog {
            break StopReason::EndOfGeneration;
        }
        out.push(next);
        if params.stop_strings.iter().any(|s| !s.is_empty()) || params.max_lines > 0 {
            text = decode(&out)?;
            if let Some(cut) =
                params.stop_strings.iter().filter(|s| !s.is_empty()).filter_map(|s| text.find(s.as_str())).min()
            {
                text.truncate(cut);
                break StopReason::StopString;
            }
            if params.max_lines > 0 && complete_lines(&text) >= params.max_lines {
                break StopReason::MaxLines;
            }
        }
        if out.len() >= params.max_tokens {
            break StopReason::Budget;
        }
        let pos = prompt.len() + out.len() - 1;
        if pos + 1 >= limit {
            break StopReason::Context;
        }
        logits = model.forward(&[next], pos)?;
    };
    let decode_time = t1.elapsed();
    if !matches!(stop, StopReason::StopString | StopReason::MaxLines) {
        text = decode(&out)?;
    }
    Ok(Generation { tokens: out, text, stop, prompt_tokens: prompt.len(), prefill, decode: decode_time })
}

/// Non-empty lines that are followed by a newline.
fn complete_lines(text: &str) -> usize {
    let Some(last_nl) = text.rfind('\n') else { return 0 };
    text[..last_nl].lines().filter(|l| !l.trim().is_empty()).count()
}

/// Greedy or seeded sampling, with repeat penalty and n-gram blocking.
pub struct Sampler {
    params: GenParams,
    rng: StdRng,
}

impl Sampler {
    pub fn new(params: &GenParams) -> Self {
        Sampler { params: params.clone(), rng: StdRng::seed_from_u64(params.seed) }
    }

    /// Picks the next token given the logits and the tokens generated so far.
    pub fn sample(&mut self, logits: &mut [f32], generated: &[u32]) -> u32 {
        let p = &self.params;
        if p.repeat_penalty != 1.0 && p.repeat_penalty > 0.0 {
            let recent: HashSet<u32> = generated.iter().rev().take(p.repeat_last_n).copied().collect();
            for t in recent {
                if let Some(l) = logits.get_mut(t as usize) {
                    *l = if *l > 0.0 { *l / p.repeat_penalty } else { *l * p.repeat_penalty };
                }
            }
        }
        for t in banned_by_ngram(generated, p.no_repeat_ngram) {
            if let Some(l) = logits.get_mut(t as usize) {
                *l = f32::NEG_INFINITY;
            }
        }
        if p.temperature <= 0.0 {
            return argmax(logits);
        }
        let mut idx: Vec<usize> = (0..logits.len()).filter(|&i| logits[i].is_finite()).collect();
        if idx.is_empty() {
            return argmax(logits);
        }
        idx.sort_unstable_by(|&a, &b| logits[b].total_cmp(&logits[a]));
        if p.top_k > 0 {
            idx.truncate(p.top_k);
        }
        let max = logits[idx[0]];
        let mut probs: Vec<f32> = idx.iter().map(|&i| ((logits[i] - max) / p.temperature).exp()).collect();
        let sum: f32 = probs.iter().sum();
        probs.iter_mut().for_each(|x| *x /= sum);
        if p.top_p < 1.0 {
            let mut acc = 0.0;
            let keep = probs.iter().position(|&x| {
                acc += x;
                acc >= p.top_p
            });
            if let Some(k) = keep {
                probs.truncate(k + 1);
                idx.truncate(k + 1);
            }
        }
        let total: f32 = probs.iter().sum();
        let mut r = self.rng.random::<f32>() * total;
        for (i, &pr) in probs.iter().enumerate() {
            r -= pr;
            if r <= 0.0 {
                return idx[i] as u32;
            }
        }
        idx[probs.len() - 1] as u32
    }
}

fn argmax(logits: &[f32]) -> u32 {
    let mut best = 0;
    for (i, &l) in logits.iter().enumerate() {
        if l > logits[best] {
            best = i;
        }
    }
    best as u32
}

/// Tokens that would complete an n-gram already present in `generated`.
fn banned_by_ngram(generated: &[u32], n: usize) -> Vec<u32> {
    if n == 0 || generated.len() < n {
        return Vec::new();
    }
    let prefix = &generated[generated.len() - (n - 1)..];
    generated.windows(n).filter(|w| &w[..n - 1] == prefix).map(|w| w[n - 1]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A toy model whose logits favour `(last + 1) % 8`, with 7 as end-of-generation.
    struct Counter {
        calls: usize,
    }
    impl Forward for Counter {
        fn clear_cache(&mut self) {
            self.calls = 0;
        }
        fn forward(&mut self, tokens: &[u32], _pos: usize) -> Result<Vec<f32>> {
            self.calls += 1;
            let last = *tokens.last().unwrap();
            let mut l = vec![0.0; 8];
            l[((last + 1) % 8) as usize] = 5.0;
            l[3] = 4.0;
            Ok(l)
        }
        fn max_positions(&self) -> usize {
            100
        }
    }

    fn dec(t: &[u32]) -> Result<String> {
        Ok(t.iter().map(|x| format!("{x}\n")).collect())
    }

    #[test]
    fn greedy_stops_on_eog_and_budget() {
        let mut m = Counter { calls: 0 };
        let g = generate(&mut m, &[2], &GenParams::default(), &|t| t == 7, &dec).unwrap();
        assert_eq!(g.tokens, vec![3, 4, 5, 6]);
        assert_eq!(g.stop, StopReason::EndOfGeneration);
        let p = GenParams { max_tokens: 2, ..Default::default() };
        let g = generate(&mut m, &[2], &p, &|t| t == 7, &dec).unwrap();
        assert_eq!((g.tokens.len(), g.stop), (2, StopReason::Budget));
    }

    #[test]
    fn stop_rules_cut_text() {
        let mut m = Counter { calls: 0 };
        let p = GenParams { max_lines: 2, ..Default::default() };
        let g = generate(&mut m, &[0], &p, &|_| false, &dec).unwrap();
        assert_eq!((g.text.as_str(), g.stop), ("1\n2\n", StopReason::MaxLines));
        let p = GenParams { stop_strings: vec!["3".into()], ..Default::default() };
        let g = generate(&mut m, &[0], &p, &|_| false, &dec).unwrap();
        assert_eq!((g.text.as_str(), g.stop), ("1\n2\n", StopReason::StopString));
    }

    #[test]
    fn ngram_blocking_and_seeded_sampling() {
        assert_eq!(banned_by_ngram(&[1, 2, 3, 1, 2], 3), vec![3]);
        assert!(banned_by_ngram(&[1, 2], 3).is_empty());
        let p = GenParams { temperature: 1.0, top_k: 0, top_p: 1.0, seed: 7, ..Default::default() };
        let draw = |p: &GenParams| {
            let mut s = Sampler::new(p);
            (0..20).map(|_| s.sample(&mut vec![1.0, 1.1, 0.9, 1.0], &[])).collect::<Vec<_>>()
        };
        assert_eq!(draw(&p), draw(&p), "same seed, same draws");
        assert_ne!(draw(&p), draw(&GenParams { seed: 8, ..p.clone() }));
    }

    #[test]
    fn context_overflow_is_an_error() {
        let mut m = Counter { calls: 0 };
        let err = generate(&mut m, &[0; 100], &GenParams::default(), &|_| false, &dec).unwrap_err();
        assert!(err.to_string().contains("context"), "{err}");
    }
}
