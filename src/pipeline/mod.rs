//! The summary pipeline: a document in, a [`Summary`] out, through named stages that hand
//! typed data on.
//!
//! ```text
//! Document ──plan──▶ Plan (sentences, chunks, token counts)             plan.rs
//!          ──salience──▶ Salience (a score per sentence; no model)      salience/
//!          ──select──▶ Vec<Candidate> (concept coverage, in budget)    select.rs, compress/
//!          ──map──▶ Mapped (rewrites, titles, tl;dr: one model pass)    map.rs
//!          ──ground──▶ Vec<KeyPoint> (faithful text, evidence, flags)   points.rs
//!          ──title, tl;dr──▶ String, String (checked, with fallbacks)   headline.rs
//!          ──assemble──▶ Summary (precis.summary/v1, within its words)  this file
//! ```
//!
//! The tuning numbers live here, in [`SummarizeOptions`] (what a user can set) and the
//! constants below. Knows the [`Engine`] trait only; never touches candle, files or the
//! terminal.

mod calls;
mod candidate;
mod compress;
mod headline;
mod map;
mod plan;
mod points;
mod salience;
mod select;
mod text;

pub use plan::{plan, Plan};

use crate::engine::{Engine, GenParams, DEFAULT_SEED};
use crate::error::Result;
use crate::ground::{self, SourceClaims};
use crate::input::Document;
use crate::summary::{self, ChunkInfo, ModelRef, SourceInfo, Summary};
use crate::template::Prompts;
use calls::{round3, Calls};
use salience::Salience;
use std::time::Instant;

/// Settings of one summary.
#[derive(Debug, Clone)]
pub struct SummarizeOptions {
    /// Most article tokens per chunk (the model's context also bounds it).
    pub chunk_tokens: usize,
    pub overlap_sentences: usize,
    pub points_per_chunk: usize,
    /// Key points in the final summary (0 = from the document's length).
    pub max_points: usize,
    /// Words per key point, at most (the summary as a whole keeps within SUMMARY_WORDS).
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
            point_words: 25,
            strict: false,
            seed: DEFAULT_SEED,
            temperature: 0.0,
        }
    }
}

/// Tokens reserved per map call for the template and instruction around the chunk.
pub const PROMPT_OVERHEAD: usize = 64;
/// Tokens a map call may generate per point.
pub const TOKENS_PER_POINT: usize = 44;
/// Most words of a whole summary: title, tl;dr and key points.
pub const SUMMARY_WORDS: usize = 200;
/// Words of the title and tl;dr assumed while choosing points (the final cut uses theirs):
/// a title of about ten words, a tl;dr of about twenty-five.
const HEADLINE_WORDS: usize = 36;
/// Fewest words a key point is cut to when many points share the summary's words.
const MIN_POINT_WORDS: usize = 16;
/// Prompts handed to the engine at once (a batch, where the engine batches): the two
/// title prompts and up to eight map prompts.
const BATCH: usize = 10;
/// The most salient sentences the tl;dr prompt reads.
const TLDR_SENTENCES: usize = 3;

/// Progress of a summary: (stage, done, total).
pub type Progress<'a> = &'a mut dyn FnMut(&str, usize, usize);

/// What every stage reads: the document, its plan, the prompts and the options.
struct Ctx<'a> {
    doc: &'a Document,
    plan: &'a Plan,
    opts: &'a SummarizeOptions,
    prompts: Prompts,
    /// Who says what in the source, indexed once for every check of a generated text.
    claims: SourceClaims,
    /// The document's first two sentences (title and tl;dr prompts).
    opening: String,
    /// Most words of one key point in this summary (see [`point_words`]).
    point_words: usize,
}

/// The generation parameters of each kind of call.
struct Params {
    point: GenParams,
    title: GenParams,
    tldr: GenParams,
}

impl Params {
    fn new(opts: &SummarizeOptions) -> Params {
        let base = GenParams { seed: opts.seed, temperature: opts.temperature, ..Default::default() };
        Params {
            point: GenParams { max_tokens: TOKENS_PER_POINT, max_lines: 1, ..base.clone() },
            title: GenParams { max_tokens: 32, max_lines: 1, repeat_penalty: 1.1, ..base.clone() },
            tldr: GenParams {
                max_tokens: 56,
                max_lines: 1,
                repeat_penalty: 1.1,
                no_repeat_ngram: 4,
                stop_strings: vec!["Key points".into()],
                ..base
            },
        }
    }
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
    let context = engine.info().context_length;
    let load_s = engine.info().load_time.as_secs_f64();
    let plan = count_and_plan(doc, engine, context, opts)?;
    let opening: String = plan.sentences.iter().take(2).map(|r| &doc.text[r.clone()]).collect::<Vec<_>>().join(" ");
    let want =
        if opts.max_points > 0 { opts.max_points } else { select::points_for(doc.text.split_whitespace().count()) };
    let cx = Ctx {
        doc,
        plan: &plan,
        opts,
        prompts: Prompts::load()?,
        claims: SourceClaims::new(&doc.text),
        opening,
        point_words: point_words(opts.point_words, want),
    };
    let params = Params::new(opts);
    let mut warnings = doc.warnings.clone();
    let mut calls = Calls::new(engine);

    let sal = Salience::new(&doc.text, &plan.sentences);
    // The title and the tl;dr's likely sentence are said anyway: points add to them. One
    // spare point, in case the tl;dr says what one of them says.
    let said: Vec<String> = sal
        .title
        .iter()
        .chain(headline::tldr_sentence(&cx, &sal).as_ref())
        .map(|&i| doc.text[plan.sentences[i].clone()].to_string())
        .collect();
    let budget = select::Budget {
        points: want + 1,
        words: SUMMARY_WORDS.saturating_sub(HEADLINE_WORDS),
        point_words: cx.point_words,
    };
    let candidates = select::run(&doc.text, &plan.sentences, &sal, budget, &said);
    let mut best: Vec<usize> = sal.ranked().into_iter().take(TLDR_SENTENCES).collect();
    best.sort_unstable();
    let tldr_source = best.iter().map(|&i| doc.text[plan.sentences[i].clone()].trim()).collect::<Vec<_>>().join(" ");

    let mapped = map::run(&cx, &params, &mut calls, &candidates, &tldr_source, progress)?;
    let mut candidates = points::choose(&cx, candidates, &mapped.rewrites);
    let title = headline::title(&cx, &sal, &mapped.titles, &mut warnings);
    let (tldr, tldr_sentence) = headline::tldr(&cx, &sal, &mapped.tldr, &tldr_source, &mut warnings);
    // A point that the tl;dr already says is dropped.
    candidates.retain(|c| Some(c.sentence) != tldr_sentence && !ground::near_duplicate(&c.text, &tldr));
    while candidates.len() > want {
        let (i, _) =
            candidates.iter().enumerate().min_by(|a, b| a.1.salience.total_cmp(&b.1.salience)).expect("not empty");
        candidates.remove(i);
    }
    let key_points = within_words(points::run(&cx, candidates, &mut warnings), &title, &tldr);
    if key_points.is_empty() {
        warnings.push("no key points: the document has no sentence of running text".into());
    }

    let stats =
        summary::Stats { load_s: round3(load_s), wall_s: round3(t0.elapsed().as_secs_f64() + load_s), ..calls.stats() };
    Ok(Summary {
        schema: summary::SCHEMA.into(),
        source: SourceInfo {
            path: doc.path.display().to_string(),
            sha256: doc.sha256.clone(),
            bytes: doc.raw.len(),
            tokens: plan.doc_tokens,
            format: doc.format.name().into(),
        },
        model: model.clone(),
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

/// Most words of one key point when `points` share the summary: the points' share of
/// SUMMARY_WORDS, at most `limit` (the option) and at least MIN_POINT_WORDS. More points
/// say less each, so that a long document's summary holds more facts, not longer ones.
fn point_words(limit: usize, points: usize) -> usize {
    let share = SUMMARY_WORDS.saturating_sub(HEADLINE_WORDS) / points.max(1);
    share.max(MIN_POINT_WORDS).min(limit.max(1))
}

/// The key points in source order, the least salient dropped until title, tl;dr and
/// points keep within SUMMARY_WORDS.
fn within_words(mut points: Vec<(summary::KeyPoint, f32)>, title: &str, tldr: &str) -> Vec<summary::KeyPoint> {
    let words = |s: &str| s.split_whitespace().count();
    let mut total = words(title) + words(tldr) + points.iter().map(|(k, _)| words(&k.text)).sum::<usize>();
    while total > SUMMARY_WORDS && !points.is_empty() {
        let (i, _) = points.iter().enumerate().min_by(|a, b| a.1 .1.total_cmp(&b.1 .1)).expect("not empty");
        total -= words(&points.remove(i).0.text);
    }
    points.into_iter().map(|(k, _)| k).collect()
}

/// The plan, with the engine's tokenizer counting; the first tokenizer error ends it.
fn count_and_plan(doc: &Document, engine: &dyn Engine, context: usize, opts: &SummarizeOptions) -> Result<Plan> {
    let mut count_err = None;
    let mut count = |s: &str| {
        engine.count_tokens(s).unwrap_or_else(|e| {
            count_err.get_or_insert(e);
            0
        })
    };
    let plan = plan(doc, context, opts, &mut count);
    match count_err {
        Some(e) => Err(e),
        None => Ok(plan),
    }
}

/// Runs `f` with the context and salience of `text`, as a summary of it would (tests).
#[cfg(test)]
fn with_ctx<R>(text: &str, f: impl FnOnce(&Ctx, &Salience) -> R) -> R {
    let doc = Document::from_bytes("article.txt".into(), text.as_bytes().to_vec(), None).expect("document");
    let opts = SummarizeOptions::default();
    let plan = plan(&doc, 2048, &opts, &mut |s: &str| s.split_whitespace().count());
    let opening = plan.sentences.iter().take(2).map(|r| &doc.text[r.clone()]).collect::<Vec<_>>().join(" ");
    let cx = Ctx {
        doc: &doc,
        plan: &plan,
        opts: &opts,
        prompts: Prompts::load().expect("prompts"),
        claims: SourceClaims::new(&doc.text),
        opening,
        point_words: opts.point_words,
    };
    let sal = Salience::new(&doc.text, &plan.sentences);
    f(&cx, &sal)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(text: &str) -> summary::KeyPoint {
        summary::KeyPoint { text: text.into(), evidence: Vec::new(), support: 1.0 }
    }

    #[test]
    fn points_get_shorter_as_they_get_more() {
        assert_eq!(point_words(25, 5), 25, "a short document's five points keep the option's limit");
        assert_eq!(point_words(25, 7), 23);
        assert_eq!(point_words(25, 10), MIN_POINT_WORDS);
        assert_eq!(point_words(12, 5), 12, "the option's limit holds");
        assert!(
            (1..=10)
                .all(|n| point_words(25, n) * n + HEADLINE_WORDS <= SUMMARY_WORDS
                    || point_words(25, n) == MIN_POINT_WORDS)
        );
    }

    #[test]
    fn a_summary_keeps_within_its_words_dropping_the_least_salient_points() {
        let long = "word ".repeat(24);
        let points: Vec<_> = (0..10).map(|k| (point(&format!("{long}{k}.")), 1.0 - k as f32 / 10.0)).collect();
        let title = "A title of six words here";
        let tldr = "A tl;dr of some twenty words that says what the document says, in one sentence, for the reader.";
        let kept = within_words(points, title, tldr);
        let words = |s: &str| s.split_whitespace().count();
        let total = words(title) + words(tldr) + kept.iter().map(|k| words(&k.text)).sum::<usize>();
        assert!(total <= SUMMARY_WORDS, "{total}");
        assert_eq!(kept.len(), (SUMMARY_WORDS - words(title) - words(tldr)) / 25);
        // The most salient stay, in their order.
        assert!(kept.iter().enumerate().all(|(k, p)| p.text.ends_with(&format!("{k}."))));
    }
}
