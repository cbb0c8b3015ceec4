//! Map → reduce → ground: the summary plan and its execution.
//!
//! - Plan: sentences, then chunks of whole sentences sized by the model's tokens.
//! - Map: each chunk → a short numbered list of key points (`prompts/map.j2`), with the
//!   guards a tiny model needs: an assistant prefix that starts the list, a stop after
//!   N lines, a token budget per point, a repeat penalty and n-gram blocking.
//! - Reduce: clean, deduplicate and select the points, spread over the whole document
//!   and kept in source order; the tl;dr from the model (hierarchically when the points
//!   do not fit one call), and the title from the article's opening (its two prompts
//!   ride in the first batch of map prompts, since they need only the opening).
//! - Ground: each point gets the byte spans of the source sentences that back it and a
//!   support score; names and numbers absent from the source are flagged (or dropped).
//!
//! Knows the [`Engine`] trait only; never touches candle, files or the terminal.

use crate::chunk::{self, Chunk};
use crate::engine::{Engine, GenParams};
use crate::error::Result;
use crate::ground;
use crate::input::Document;
use crate::session::ModelRef;
use crate::summary::{self, ChunkInfo, EvidenceSpan, KeyPoint, SourceInfo, Stats, Summary};
use crate::template::{ChatPrompt, Prompts};
use serde_json::json;
use std::ops::Range;
use std::time::{Duration, Instant};

/// Settings of one summary.
#[derive(Debug, Clone)]
pub struct SummarizeOptions {
    /// Most article tokens per chunk (the model's context also bounds it).
    pub chunk_tokens: usize,
    pub overlap_sentences: usize,
    pub points_per_chunk: usize,
    /// Key points in the final summary (0 = from the document's length).
    pub max_points: usize,
    /// Words per key point, at most.
    pub point_words: usize,
    /// Drop points whose names or numbers the source does not contain.
    pub strict: bool,
    pub seed: u64,
    pub temperature: f32,
}

impl Default for SummarizeOptions {
    fn default() -> Self {
        SummarizeOptions {
            chunk_tokens: 160,
            overlap_sentences: 1,
            points_per_chunk: 3,
            max_points: 0,
            point_words: 40,
            strict: false,
            seed: 299792458,
            temperature: 0.0,
        }
    }
}

/// Tokens reserved per map call for the template and instruction around the chunk.
pub const PROMPT_OVERHEAD: usize = 64;
/// Prompts handed to the engine at once (a batch, where the engine batches): the two
/// title prompts and up to eight map prompts.
const BATCH: usize = 10;
/// Least quality (support, less 1 if flagged) of a point picked to cover its part of the document.
const MIN_SPREAD_QUALITY: f32 = 0.75;
/// Tokens a map call may generate per point.
pub const TOKENS_PER_POINT: usize = 44;

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

/// Key points one tl;dr call takes; more are merged hierarchically (a group's tl;dr,
/// then one over the groups), so the prompt always fits a small context.
const TLDR_GROUP: usize = 16;

/// How many tl;dr calls a list of `n` points takes (groups of TLDR_GROUP, then one over them).
fn tldr_groups(n: usize) -> usize {
    if n <= TLDR_GROUP {
        1
    } else {
        n.div_ceil(TLDR_GROUP) + 1
    }
}

/// Progress of a summary: (stage, done, total).
pub type Progress<'a> = &'a mut dyn FnMut(&str, usize, usize);

struct Calls<'e> {
    engine: &'e mut dyn Engine,
    stats: Stats,
    prefill: Duration,
    decode: Duration,
    decoded: usize,
}

impl Calls<'_> {
    fn run(&mut self, chat: &ChatPrompt, params: &GenParams) -> Result<String> {
        Ok(self.run_batch(&[(chat, params)])?.remove(0))
    }

    /// Several chats, each with its parameters, batched where the engine can.
    fn run_batch(&mut self, chats: &[(&ChatPrompt, &GenParams)]) -> Result<Vec<String>> {
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
}

/// What a prompt of the map batch is for.
enum Job<'a> {
    Map(&'a Chunk),
    Title,
    Tldr,
}

/// A point with where it came from.
#[derive(Debug, Clone)]
struct Candidate {
    text: String,
    evidence: Vec<ground::Evidence>,
    support: f32,
    /// Byte offset in `doc.text` of its best evidence (for ordering and spread).
    at: usize,
    /// Support, less 1 when the grounding checks flag it (for selection).
    quality: f32,
    /// Swapped attributions corrected to the source's name.
    repaired: Vec<String>,
    /// What the grounding checks flag in it, if anything.
    problem: Option<String>,
}

/// Summarises `doc` with `engine`.
pub fn summarize(
    doc: &Document,
    engine: &mut dyn Engine,
    model: &ModelRef,
    opts: &SummarizeOptions,
    progress: Progress,
) -> Result<Summary> {
    let t0 = Instant::now();
    let prompts = Prompts::load()?;
    let context = engine.info().context_length;
    let load_s = engine.info().load_time.as_secs_f64();
    let mut count_err = None;
    let mut count = |s: &str| {
        engine.count_tokens(s).unwrap_or_else(|e| {
            count_err.get_or_insert(e);
            0
        })
    };
    let plan = plan(doc, context, opts, &mut count);
    if let Some(e) = count_err {
        return Err(e);
    }
    let mut warnings = doc.warnings.clone();
    let mut calls =
        Calls { engine, stats: Stats::default(), prefill: Duration::ZERO, decode: Duration::ZERO, decoded: 0 };
    let base = GenParams { seed: opts.seed, temperature: opts.temperature, ..Default::default() };

    // Map: every chunk's prompt, decoded together where the engine batches; the title's
    // two prompts (the second, plainer one is used when the first names what the source
    // lacks) ride in the first batch.
    let total = plan.chunks.len() + 3;
    progress("map", 0, total);
    let opening: String = plan.sentences.iter().take(2).map(|r| &doc.text[r.clone()]).collect::<Vec<_>>().join(" ");
    let title_params = GenParams { max_tokens: 32, max_lines: 1, repeat_penalty: 1.1, ..base.clone() };
    let map_params = GenParams {
        max_tokens: opts.points_per_chunk * TOKENS_PER_POINT,
        max_lines: opts.points_per_chunk,
        repeat_penalty: 1.15,
        repeat_last_n: 64,
        no_repeat_ngram: 4,
        ..base.clone()
    };
    let tl_params = GenParams {
        max_tokens: 56,
        max_lines: 1,
        repeat_penalty: 1.1,
        no_repeat_ngram: 4,
        stop_strings: vec!["Key points".into()],
        ..base.clone()
    };
    let mut jobs: Vec<(ChatPrompt, &GenParams, Job)> = Vec::new();
    for c in &plan.chunks {
        let text = without_headings(&doc.text[c.range.clone()]);
        let user = prompts.render("map.j2", json!({ "text": text, "n_points": opts.points_per_chunk }))?;
        jobs.push((ChatPrompt::user(user).with_prefix("1."), &map_params, Job::Map(c)));
    }
    // After the first batch's map prompts (a map prompt leads, so that the prompts after it
    // share its whole instruction where the engine reuses a shared prefix). A document that
    // takes one batch gets its tl;dr from the opening there too: one pass over the model.
    let one_batch = jobs.len() + 3 <= BATCH;
    let mut extra = Vec::new();
    for prompt in ["title.j2", "title_retry.j2"] {
        extra.push((ChatPrompt::user(prompts.render(prompt, json!({ "text": opening }))?), &title_params, Job::Title));
    }
    if one_batch {
        let user = prompts.render("tldr.j2", json!({ "opening": opening, "points": [] }))?;
        extra.push((ChatPrompt::user(user), &tl_params, Job::Tldr));
    }
    let at = jobs.len().min(BATCH - extra.len());
    jobs.splice(at..at, extra);
    // Who says what in the source, indexed once for every check of a generated text.
    let claims = ground::SourceClaims::new(&doc.text);
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut titles = Vec::new();
    let mut tldr_reply = None;
    let mut done = 0;
    for group in jobs.chunks(BATCH) {
        let chats: Vec<(&ChatPrompt, &GenParams)> = group.iter().map(|(c, p, _)| (c, *p)).collect();
        let t = Instant::now();
        let replies = calls.run_batch(&chats)?;
        tracing::info!("map: {} prompts in {:.2} s", group.len(), t.elapsed().as_secs_f64());
        for (reply, (_, _, job)) in replies.iter().zip(group) {
            let c = match job {
                Job::Title => {
                    titles.push(summary::clean_title(reply));
                    continue;
                }
                Job::Tldr => {
                    tldr_reply = Some(summary::clean_tldr(reply, 45));
                    continue;
                }
                Job::Map(c) => c,
            };
            for p in summary::parse_points(reply, opts.point_words) {
                let (p, repaired) = claims.repair(&p);
                let (evidence, support) = ground::evidence(&p, &doc.text, &plan.sentences, 2);
                let at = evidence.first().map(|e| plan.sentences[e.sentence].start).unwrap_or(c.range.start);
                candidates.push(Candidate {
                    text: p,
                    evidence,
                    support,
                    at,
                    quality: support,
                    repaired,
                    problem: None,
                });
            }
        }
        done += group.len();
        progress("map", done, total);
    }

    // Reduce: drop copies of long sentences and of headings (a line without final
    // punctuation states no fact), and near-duplicates; then select.
    candidates.retain(|c| {
        !c.evidence.iter().any(|e| {
            let s = doc.text[plan.sentences[e.sentence].clone()].trim();
            let heading = !s.ends_with(['.', '!', '?', '"', '”', '’', ')']);
            (heading || s.split_whitespace().count() > opts.point_words) && ground::copies_sentence(&c.text, s)
        })
    });
    let mut candidates = dedup_candidates(candidates);
    for c in &mut candidates {
        // Grounded once here: a point the checks flag ranks below every clean one, and the
        // flags become its warnings if it is chosen.
        let missing = ground::unsupported_terms(&c.text, &doc.text);
        let swapped = claims.swapped(&c.text);
        c.problem = if !missing.is_empty() {
            Some(format!("terms not in the source ({})", missing.join(", ")))
        } else if !swapped.is_empty() {
            Some(format!("words the source says of another name ({})", swapped.join("; ")))
        } else {
            None
        };
        c.quality = if c.problem.is_some() { c.support - 1.0 } else { c.support };
        tracing::debug!(at = c.at, support = c.support, flagged = c.problem.is_some(), "candidate: {}", c.text);
    }
    let want = if opts.max_points > 0 { opts.max_points } else { (2 + plan.chunks.len()).clamp(3, 10) };
    let mut chosen = select_spread(candidates, want, doc.text.len());
    chosen.sort_by_key(|c| c.at);

    // Ground: --strict drops what the checks flag; then a person's first mention in the kept
    // points gets the full name the source gives, before the warnings quote the points.
    let mut kept = Vec::new();
    for c in chosen {
        match &c.problem {
            Some(problem) if opts.strict => {
                warnings.push(format!("dropped (--strict) a point with {problem}: {}", c.text));
            }
            _ => kept.push(c),
        }
    }
    let mut texts: Vec<String> = kept.iter().map(|c| c.text.clone()).collect();
    for (i, from, to) in ground::introduce_names(&mut texts, &doc.text) {
        tracing::debug!("key point {i}: first mention {from:?} -> {to:?}");
    }
    let mut key_points = Vec::new();
    for (c, text) in kept.into_iter().zip(texts) {
        for r in &c.repaired {
            warnings.push(format!("key point corrected to the source's attribution ({r}): {text}"));
        }
        if let Some(problem) = &c.problem {
            warnings.push(format!("key point has {problem}: {text}"));
        } else if c.support < 0.5 {
            warnings.push(format!("key point weakly supported by the source (support {:.2}): {text}", c.support));
        }
        let evidence = c
            .evidence
            .iter()
            .map(|e| {
                let raw = doc.raw_span(plan.sentences[e.sentence].clone());
                EvidenceSpan { start: raw.start, end: raw.end, quote: doc.quote(raw) }
            })
            .collect();
        key_points.push(KeyPoint { text, evidence, support: (c.support * 100.0).round() / 100.0 });
    }

    // Title: the first prompt's, unless the second names fewer terms the source lacks.
    let unsupported = |t: &str| ground::unsupported_terms(t, &doc.text).len();
    let mut title = String::new();
    for candidate in titles {
        if !candidate.is_empty() && (title.is_empty() || unsupported(&candidate) < unsupported(&title)) {
            title = candidate;
        }
    }
    if title.is_empty() {
        title = summary::cap_words(&opening, 12);
    }
    flag_terms("title", &title, &doc.text, &claims, &mut warnings);

    // TL;DR: written beside the map calls, or else from the key points (groups of
    // TLDR_GROUP, then one over the group summaries).
    progress("tldr", total - 1, total);
    let points: Vec<String> = key_points.iter().map(|k| k.text.clone()).collect();
    let t = Instant::now();
    let mut tldr = match tldr_reply {
        Some(t) => t,
        None => {
            let mut layer = points.clone();
            while layer.len() > TLDR_GROUP {
                let mut next = Vec::new();
                for group in layer.chunks(TLDR_GROUP) {
                    let user = prompts.render("tldr.j2", json!({ "opening": "", "points": group }))?;
                    next.push(summary::clean_tldr(&calls.run(&ChatPrompt::user(user), &tl_params)?, 40));
                }
                layer = next;
            }
            if layer.is_empty() {
                String::new()
            } else {
                let user = prompts.render("tldr.j2", json!({ "opening": opening, "points": layer }))?;
                summary::clean_tldr(&calls.run(&ChatPrompt::user(user), &tl_params)?, 45)
            }
        }
    };
    tracing::info!("tl;dr in {:.2} s", t.elapsed().as_secs_f64());
    let (mut repaired, fixes) = claims.repair(&tldr);
    ground::introduce_names(std::slice::from_mut(&mut repaired), &doc.text);
    for r in fixes {
        warnings.push(format!("tl;dr corrected to the source's attribution ({r}): {repaired}"));
    }
    tldr = repaired;
    if tldr.split_whitespace().count() < 4 {
        tldr = points.first().cloned().unwrap_or_else(|| title.clone());
    }
    flag_terms("tl;dr", &tldr, &doc.text, &claims, &mut warnings);
    if key_points.is_empty() {
        warnings.push("the model produced no usable key points".into());
    }
    progress("done", total, total);

    let secs = |d: Duration| d.as_secs_f64();
    let stats = Stats {
        prefill_tok_s: round2(calls.stats.prompt_tokens as f64 / secs(calls.prefill).max(1e-9)),
        decode_tok_s: round2(calls.decoded as f64 / secs(calls.decode).max(1e-9)),
        load_s: round3(load_s),
        wall_s: round3(t0.elapsed().as_secs_f64() + load_s),
        ..calls.stats
    };
    Ok(Summary {
        schema: summary::SCHEMA.into(),
        source: SourceInfo {
            path: doc.path.display().to_string(),
            sha256: doc.sha256.clone(),
            bytes: doc.raw.len(),
            tokens: plan.doc_tokens,
            format: doc.format.name().into(),
        },
        model: model.into(),
        title,
        tldr,
        key_points,
        chunks: plan
            .chunks
            .iter()
            .map(|c| {
                let raw = doc.raw_span(c.range.clone());
                ChunkInfo { index: c.index, start: raw.start, end: raw.end, tokens: c.tokens }
            })
            .collect(),
        stats,
        warnings,
    })
}

/// The text of a chunk for its map prompt: lines that read as headings (short, capitalised,
/// no closing punctuation) left out, since a small model copies them as "facts". Evidence
/// and offsets still use the whole text.
fn without_headings(text: &str) -> String {
    let heading = |l: &str| {
        let l = l.trim();
        !l.is_empty()
            && l.split_whitespace().count() <= 10
            && l.chars().next().is_some_and(char::is_uppercase)
            && !l.ends_with(['.', '!', '?', ':', ';', ',', '"', '”', '’', ')'])
    };
    let kept: Vec<&str> = text.lines().filter(|l| !heading(l)).collect();
    if kept.iter().all(|l| l.trim().is_empty()) {
        return text.to_string();
    }
    kept.join("\n")
}

/// Warns of names and numbers in `text` that the source lacks; of words it gives a name
/// that the source says of another, too, where `text` is prose (a title's capitals hide
/// which words are names).
fn flag_terms(what: &str, text: &str, source: &str, claims: &ground::SourceClaims, warnings: &mut Vec<String>) {
    let missing = ground::unsupported_terms(text, source);
    if !missing.is_empty() {
        warnings.push(format!("{what} has terms not in the source ({}): {text}", missing.join(", ")));
    }
    let swapped = if what == "title" { Vec::new() } else { claims.swapped(text) };
    if !swapped.is_empty() {
        warnings.push(format!("{what} has words the source says of another name ({}): {text}", swapped.join("; ")));
    }
}

/// Near-duplicates removed, keeping the better-supported one.
fn dedup_candidates(mut cands: Vec<Candidate>) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    cands.sort_by(|a, b| b.support.total_cmp(&a.support).then(a.at.cmp(&b.at)));
    for c in cands {
        if !out.iter().any(|o| ground::near_duplicate(&o.text, &c.text)) {
            out.push(c);
        }
    }
    out
}

/// `want` points spread over the document: split it into `want` equal parts by offset,
/// take the best-supported point of each part, then fill with the best of the rest.
fn select_spread(mut cands: Vec<Candidate>, want: usize, len: usize) -> Vec<Candidate> {
    if cands.len() <= want {
        return cands;
    }
    // Coverage first: the best point of each of `want` equal parts of the document, where
    // that point is well supported and clean. Then the best of the rest, earlier points
    // ahead by up to 0.2 (an article says what matters most first).
    cands.sort_by(|a, b| b.quality.total_cmp(&a.quality).then(a.at.cmp(&b.at)));
    let mut chosen = Vec::new();
    let part = len.div_ceil(want).max(1);
    for k in 0..want {
        if let Some(i) = cands.iter().position(|c| c.at / part == k && c.quality >= MIN_SPREAD_QUALITY) {
            chosen.push(cands.remove(i));
        }
    }
    let rank = |c: &Candidate| c.quality + 0.2 * (1.0 - c.at as f32 / len.max(1) as f32);
    cands.sort_by(|a, b| rank(b).total_cmp(&rank(a)));
    chosen.extend(cands.into_iter().take(want.saturating_sub(chosen.len())));
    chosen
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
