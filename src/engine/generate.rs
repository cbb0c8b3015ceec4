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
    /// How many sequences [`Forward::forward_batch`] can hold at once (1: no batching).
    fn batch_slots(&self) -> usize {
        1
    }
    /// Several sequences in one pass, each `(slot, tokens, pos)` with its own KV cache
    /// slot; returns the logits of each one's last position.
    fn forward_batch(&mut self, seqs: &[(usize, &[u32], usize)]) -> Result<Vec<Vec<f32>>> {
        match seqs {
            [(0, tokens, pos)] => Ok(vec![self.forward(tokens, *pos)?]),
            _ => Err(Error::Engine("this backend runs one sequence at a time".into())),
        }
    }
    /// Whether [`Forward::fork_slot`] works (prompts that share a prefix then prefill it once).
    fn can_fork(&self) -> bool {
        false
    }
    /// Makes slot `dst` hold the first `len` cached positions of slot `src`.
    fn fork_slot(&mut self, _src: usize, _dst: usize, _len: usize) -> Result<()> {
        Err(Error::Engine("this backend cannot copy a cache slot".into()))
    }
    /// Whether one [`Forward::forward_batch`] may mix a prompt written into a slot from
    /// any position up to that slot's cached length (the rest of the slot forgotten) with
    /// other slots' next tokens, each row computed as it would be alone: then a slot whose
    /// sequence stops takes the next waiting prompt at once ([`generate_batch`]).
    fn can_refill(&self) -> bool {
        false
    }
}

/// The seed of every run that does not name one (sampling only; greedy ignores it).
pub const DEFAULT_SEED: u64 = 299_792_458;

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
            seed: DEFAULT_SEED,
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
    /// How many sequences shared `prefill` and `decode` (batched generation); 1 alone.
    pub shared_with: usize,
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

/// The stop rules and sampler of one sequence being generated.
struct Seq<'a> {
    params: &'a GenParams,
    sampler: Sampler,
    prompt_len: usize,
    out: Vec<u32>,
    text: String,
    stop: Option<StopReason>,
}

impl<'a> Seq<'a> {
    fn new(params: &'a GenParams, prompt_len: usize) -> Self {
        Seq { params, sampler: Sampler::new(params), prompt_len, out: Vec::new(), text: String::new(), stop: None }
    }

    /// Samples the next token from `logits` and applies the stop rules; returns the
    /// token to feed back, or `None` once the sequence has stopped.
    fn step(
        &mut self,
        logits: &mut [f32],
        limit: usize,
        is_eog: &dyn Fn(u32) -> bool,
        decode: &dyn Fn(&[u32]) -> Result<String>,
    ) -> Result<Option<u32>> {
        let p = self.params;
        let next = self.sampler.sample(logits, &self.out);
        if is_eog(next) && !p.ignore_eog {
            self.stop = Some(StopReason::EndOfGeneration);
            return Ok(None);
        }
        self.out.push(next);
        if p.stop_strings.iter().any(|s| !s.is_empty()) || p.max_lines > 0 {
            self.text = decode(&self.out)?;
            let cut = p.stop_strings.iter().filter(|s| !s.is_empty()).filter_map(|s| self.text.find(s.as_str())).min();
            if let Some(cut) = cut {
                self.text.truncate(cut);
                self.stop = Some(StopReason::StopString);
            } else if p.max_lines > 0 && complete_lines(&self.text) >= p.max_lines {
                self.stop = Some(StopReason::MaxLines);
            }
        }
        if self.stop.is_none() && self.out.len() >= p.max_tokens {
            self.stop = Some(StopReason::Budget);
        }
        if self.stop.is_none() && self.prompt_len + self.out.len() >= limit {
            self.stop = Some(StopReason::Context);
        }
        Ok(if self.stop.is_some() { None } else { Some(next) })
    }

    fn finish(
        mut self,
        prefill: Duration,
        decode_time: Duration,
        decode: &dyn Fn(&[u32]) -> Result<String>,
    ) -> Result<Generation> {
        let stop = self.stop.unwrap_or(StopReason::Budget);
        if !matches!(stop, StopReason::StopString | StopReason::MaxLines) {
            self.text = decode(&self.out)?;
        }
        Ok(Generation {
            tokens: self.out,
            text: self.text,
            stop,
            prompt_tokens: self.prompt_len,
            prefill,
            decode: decode_time,
            shared_with: 1,
        })
    }
}

fn check_prompt(prompt: &[u32], limit: usize) -> Result<()> {
    if prompt.is_empty() {
        return Err(Error::Engine("empty prompt".into()));
    }
    if prompt.len() >= limit {
        return Err(Error::Engine(format!(
            "prompt of {} tokens does not fit the model's {limit}-token context",
            prompt.len()
        )));
    }
    Ok(())
}

/// The generation loop: clear the cache, prefill, decode until a stop rule. `decode`
/// turns tokens into text (for stop rules); `is_eog` tells end-of-generation tokens.
pub fn generate(
    model: &mut dyn Forward,
    prompt: &[u32],
    params: &GenParams,
    is_eog: &dyn Fn(u32) -> bool,
    decode: &dyn Fn(&[u32]) -> Result<String>,
) -> Result<Generation> {
    let limit = model.max_positions();
    check_prompt(prompt, limit)?;
    let mut seq = Seq::new(params, prompt.len());
    model.clear_cache();
    let t0 = Instant::now();
    let mut logits = model.forward(prompt, 0)?;
    let prefill = t0.elapsed();
    let t1 = Instant::now();
    while let Some(next) = seq.step(&mut logits, limit, is_eog, decode)? {
        logits = model.forward(&[next], prompt.len() + seq.out.len() - 1)?;
    }
    seq.finish(prefill, t1.elapsed(), decode)
}

/// One sequence to generate: its prompt and its own parameters.
#[derive(Debug, Clone, Copy)]
pub struct Job<'a> {
    pub prompt: &'a [u32],
    pub params: &'a GenParams,
}

/// Several sequences, each with its own parameters, decoded together where the backend
/// holds several (one weight pass serves every sequence at each step), else one after
/// another. Results are in job order; each reports the shared wall time of its group's
/// prefill and decode.
pub fn generate_batch(
    model: &mut dyn Forward,
    jobs: &[Job],
    is_eog: &dyn Fn(u32) -> bool,
    decode: &dyn Fn(&[u32]) -> Result<String>,
) -> Result<Vec<Generation>> {
    let slots = model.batch_slots();
    if slots < 2 || jobs.len() < 2 {
        return jobs.iter().map(|j| generate(model, j.prompt, j.params, is_eog, decode)).collect();
    }
    if jobs.len() > slots && model.can_refill() {
        return generate_refilling(model, jobs, slots, is_eog, decode);
    }
    let limit = model.max_positions();
    let mut results = Vec::with_capacity(jobs.len());
    for group in jobs.chunks(slots) {
        for j in group {
            check_prompt(j.prompt, limit)?;
        }
        model.clear_cache();
        let t0 = Instant::now();
        let mut logits = prefill_group(model, group)?;
        let prefill = t0.elapsed();
        let t1 = Instant::now();
        let mut seqs: Vec<Seq> = group.iter().map(|j| Seq::new(j.params, j.prompt.len())).collect();
        let (mut passes, mut rows) = (1usize, group.len());
        let mut next: Vec<Option<u32>> = Vec::with_capacity(group.len());
        for (s, l) in seqs.iter_mut().zip(logits.iter_mut()) {
            next.push(s.step(l, limit, is_eog, decode)?);
        }
        while next.iter().any(Option::is_some) {
            let live: Vec<usize> = (0..group.len()).filter(|&i| next[i].is_some()).collect();
            let toks: Vec<[u32; 1]> = live.iter().map(|&i| [next[i].unwrap_or(0)]).collect();
            let inputs: Vec<(usize, &[u32], usize)> = live
                .iter()
                .zip(&toks)
                .map(|(&i, t)| (i, &t[..], group[i].prompt.len() + seqs[i].out.len() - 1))
                .collect();
            logits = model.forward_batch(&inputs)?;
            (passes, rows) = (passes + 1, rows + inputs.len());
            for (k, &i) in live.iter().enumerate() {
                next[i] = seqs[i].step(&mut logits[k], limit, is_eog, decode)?;
            }
        }
        let decode_time = t1.elapsed();
        log_passes(group.len(), slots, passes, rows);
        for s in seqs {
            results.push(Generation { shared_with: group.len(), ..s.finish(prefill, decode_time, decode)? });
        }
    }
    Ok(results)
}

/// More jobs than slots, on a backend that can refill a slot: the first `slots` jobs are
/// prefilled together, and whenever a sequence stops, its slot takes the next job, whose
/// prompt goes into the same forward pass as the other slots' next tokens (only the part
/// after what it shares with the slot's previous prompt, still cached). The slots stay
/// full until the jobs run out, instead of each group waiting for its longest reply.
/// Every result reports the call's whole prefill and decode time, shared by all the jobs.
fn generate_refilling(
    model: &mut dyn Forward,
    jobs: &[Job],
    slots: usize,
    is_eog: &dyn Fn(u32) -> bool,
    decode: &dyn Fn(&[u32]) -> Result<String>,
) -> Result<Vec<Generation>> {
    let limit = model.max_positions();
    for j in jobs {
        check_prompt(j.prompt, limit)?;
    }
    model.clear_cache();
    let t0 = Instant::now();
    let mut logits = prefill_group(model, &jobs[..slots])?;
    let prefill = t0.elapsed();
    let mut seqs: Vec<Seq> = jobs.iter().map(|j| Seq::new(j.params, j.prompt.len())).collect();
    // The job in each row of `logits`, with its slot; the job each slot last held.
    let mut rows: Vec<(usize, usize)> = (0..slots).map(|i| (i, i)).collect();
    let mut held: Vec<usize> = (0..slots).collect();
    let mut waiting = slots..jobs.len();
    let (mut passes, mut rows_run) = (1usize, slots);
    loop {
        let mut inputs: Vec<(usize, Vec<u32>, usize)> = Vec::with_capacity(rows.len());
        let mut next_rows = Vec::with_capacity(rows.len());
        for (&(slot, job), l) in rows.iter().zip(logits.iter_mut()) {
            if let Some(t) = seqs[job].step(l, limit, is_eog, decode)? {
                inputs.push((slot, vec![t], jobs[job].prompt.len() + seqs[job].out.len() - 1));
                next_rows.push((slot, job));
            } else if let Some(new) = waiting.next() {
                let (old, prompt) = (jobs[held[slot]].prompt, jobs[new].prompt);
                let shared = old.iter().zip(prompt).take_while(|(a, b)| a == b).count().min(prompt.len() - 1);
                inputs.push((slot, prompt[shared..].to_vec(), shared));
                next_rows.push((slot, new));
                held[slot] = new;
            }
        }
        if inputs.is_empty() {
            break;
        }
        (passes, rows_run) = (passes + 1, rows_run + inputs.len());
        let refs: Vec<(usize, &[u32], usize)> = inputs.iter().map(|(s, t, p)| (*s, &t[..], *p)).collect();
        logits = model.forward_batch(&refs)?;
        rows = next_rows;
    }
    let decode_time = t0.elapsed() - prefill;
    log_passes(jobs.len(), slots, passes, rows_run);
    seqs.into_iter()
        .map(|s| Ok(Generation { shared_with: jobs.len(), ..s.finish(prefill, decode_time, decode)? }))
        .collect()
}

/// How full the slots were: forward passes, and sequences in them (a prefill counts as
/// one pass of its prompts). `PRECIS_LOG=precis::engine::generate=debug` shows it.
fn log_passes(sequences: usize, slots: usize, passes: usize, rows: usize) {
    tracing::debug!(
        "batch of {sequences} sequences in {slots} slots: {passes} forward passes, {rows} sequence-steps ({:.1} per pass)",
        rows as f64 / passes.max(1) as f64
    );
}

/// Prefills a group of prompts into slots `0..`, and returns each one's last logits. Where
/// the backend can copy cache slots, the prefix each prompt shares with the first is
/// computed once (in slot 0) and copied: map prompts share their template and instruction.
fn prefill_group(model: &mut dyn Forward, group: &[Job]) -> Result<Vec<Vec<f32>>> {
    let first = group[0].prompt;
    let shared: Vec<usize> = group
        .iter()
        .map(|j| first.iter().zip(j.prompt).take_while(|(a, b)| a == b).count().min(j.prompt.len() - 1))
        .collect();
    if !model.can_fork() || shared[1..].iter().all(|&n| n == 0) {
        let inputs: Vec<(usize, &[u32], usize)> = group.iter().enumerate().map(|(i, j)| (i, j.prompt, 0)).collect();
        return model.forward_batch(&inputs);
    }
    let mut logits = model.forward_batch(&[(0, first, 0)])?;
    for (i, &n) in shared.iter().enumerate().skip(1) {
        model.fork_slot(0, i, n)?;
    }
    let rest: Vec<(usize, &[u32], usize)> =
        group.iter().zip(&shared).enumerate().skip(1).map(|(i, (j, &n))| (i, &j.prompt[n..], n)).collect();
    logits.extend(model.forward_batch(&rest)?);
    Ok(logits)
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
            (0..20).map(|_| s.sample(&mut [1.0, 1.1, 0.9, 1.0], &[])).collect::<Vec<_>>()
        };
        assert_eq!(draw(&p), draw(&p), "same seed, same draws");
        assert_ne!(draw(&p), draw(&GenParams { seed: 8, ..p.clone() }));
    }

    /// The toy model with batch slots: each slot keeps its own last token.
    struct BatchCounter;
    impl Forward for BatchCounter {
        fn clear_cache(&mut self) {}
        fn forward(&mut self, tokens: &[u32], pos: usize) -> Result<Vec<f32>> {
            Counter { calls: 0 }.forward(tokens, pos)
        }
        fn max_positions(&self) -> usize {
            100
        }
        fn batch_slots(&self) -> usize {
            2
        }
        fn forward_batch(&mut self, seqs: &[(usize, &[u32], usize)]) -> Result<Vec<Vec<f32>>> {
            seqs.iter().map(|(_, t, p)| self.forward(t, *p)).collect()
        }
    }

    #[test]
    fn batched_generation_equals_one_at_a_time() {
        let prompts = [vec![2], vec![0, 5], vec![6], vec![4]];
        let p = GenParams { max_tokens: 6, ..Default::default() };
        let eog = |t| t == 7;
        let one: Vec<_> =
            prompts.iter().map(|q| generate(&mut Counter { calls: 0 }, q, &p, &eog, &dec).unwrap()).collect();
        let short = GenParams { max_tokens: 1, ..p.clone() };
        let jobs: Vec<Job> = prompts
            .iter()
            .enumerate()
            .map(|(i, q)| Job { prompt: q, params: if i == 0 { &short } else { &p } })
            .collect();
        let many = generate_batch(&mut BatchCounter, &jobs, &eog, &dec).unwrap();
        assert_eq!(many.len(), 4);
        for (i, (a, b)) in one.iter().zip(&many).enumerate() {
            if i == 0 {
                // Its own, shorter budget.
                assert_eq!((&b.tokens[..], b.stop), (&a.tokens[..1], StopReason::Budget));
            } else {
                assert_eq!((&a.tokens, a.stop), (&b.tokens, b.stop));
            }
        }
        assert_eq!(many[0].shared_with, 2);
        assert_eq!(many[3].tokens, vec![5, 6]);
    }

    /// A toy model with three cache slots that keep their tokens: the logits favour a hash
    /// of the whole cached sequence, so a slot refilled from the wrong position or with
    /// the wrong prefix gives other tokens.
    struct Cached {
        slots: Vec<Vec<u32>>,
        passes: Vec<Vec<usize>>,
    }
    impl Forward for Cached {
        fn clear_cache(&mut self) {
            self.slots = vec![Vec::new(); 3];
        }
        fn forward(&mut self, tokens: &[u32], pos: usize) -> Result<Vec<f32>> {
            Ok(self.forward_batch(&[(0, tokens, pos)])?.swap_remove(0))
        }
        fn max_positions(&self) -> usize {
            100
        }
        fn batch_slots(&self) -> usize {
            3
        }
        fn can_refill(&self) -> bool {
            true
        }
        fn forward_batch(&mut self, seqs: &[(usize, &[u32], usize)]) -> Result<Vec<Vec<f32>>> {
            self.passes.push(seqs.iter().map(|s| s.1.len()).collect());
            seqs.iter()
                .map(|&(slot, toks, pos)| {
                    let s = &mut self.slots[slot];
                    if pos > s.len() {
                        return Err(Error::Engine(format!("slot {slot}: position {pos} after {}", s.len())));
                    }
                    s.truncate(pos);
                    s.extend_from_slice(toks);
                    let h = s.iter().fold(17u32, |a, &t| a.wrapping_mul(31).wrapping_add(t));
                    let mut l = vec![0.0; 8];
                    l[(h % 8) as usize] = 5.0;
                    Ok(l)
                })
                .collect()
        }
    }

    #[test]
    fn refilled_slots_generate_what_each_prompt_gets_alone() {
        let prompts: Vec<Vec<u32>> = (0..8u32).map(|i| vec![1, 2, 3, i % 3, i, (i * 5) % 8]).collect();
        let p = GenParams { max_tokens: 9, ..Default::default() };
        let eog = |t| t == 7;
        let fresh = || Cached { slots: vec![Vec::new(); 3], passes: Vec::new() };
        let one: Vec<_> = prompts.iter().map(|q| generate(&mut fresh(), q, &p, &eog, &dec).unwrap()).collect();
        let jobs: Vec<Job> = prompts.iter().map(|q| Job { prompt: q, params: &p }).collect();
        let mut m = fresh();
        let many = generate_batch(&mut m, &jobs, &eog, &dec).unwrap();
        for (a, b) in one.iter().zip(&many) {
            assert_eq!((&a.tokens, a.stop), (&b.tokens, b.stop));
        }
        assert!(one.iter().map(|g| g.tokens.len()).collect::<HashSet<_>>().len() > 1, "replies of several lengths");
        // A prompt went into a freed slot beside the other slots' next tokens, without the
        // prefix it shares with the slot's previous prompt.
        assert!(m.passes.iter().skip(2).any(|p| p.len() > 1 && p.iter().any(|&n| n > 1)), "{:?}", m.passes);
        assert!(m.passes[1..].iter().flatten().all(|&n| n < 6), "a whole prompt again: {:?}", m.passes);
        assert_eq!(many[0].shared_with, 8);
    }

    #[test]
    fn context_overflow_is_an_error() {
        let mut m = Counter { calls: 0 };
        let err = generate(&mut m, &[0; 100], &GenParams::default(), &|_| false, &dec).unwrap_err();
        assert!(err.to_string().contains("context"), "{err}");
    }
}
