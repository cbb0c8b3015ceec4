//! `precis bench`: llama-bench's tests and fields. `ppN` times a prefill of N tokens,
//! `tgN` the generation of N tokens one at a time, and `sum@FILE` a whole summary of a
//! file (model already loaded). Each test runs once to warm up, then `repetitions`
//! times; rows carry mean and standard deviation, in llama-bench's field names.

pub mod export;

use crate::engine::{Engine, GenParams};
use crate::error::{Error, Result};
use crate::input::Document;
use crate::pipeline::{self, SummarizeOptions};
use crate::session::ModelRef;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// One test to run.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    Prompt(usize),
    /// `n` tokens generated for each of `seqs` sequences decoded together.
    Gen {
        n: usize,
        seqs: usize,
    },
    Summary(PathBuf),
}

impl Test {
    pub fn name(&self) -> String {
        match self {
            Test::Prompt(n) => format!("pp{n}"),
            Test::Gen { n, seqs: 1 } => format!("tg{n}"),
            Test::Gen { n, seqs } => format!("tg{n}x{seqs}"),
            Test::Summary(p) => {
                format!("sum@{}", p.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default())
            }
        }
    }
}

/// One result row (llama-bench's fields, plus precis's).
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub build_commit: String,
    pub model_filename: String,
    pub model_type: String,
    pub model_size: u64,
    pub model_n_params: u64,
    pub device: String,
    pub backend: String,
    pub n_threads: usize,
    /// The load's experiment switches (`default`, or those off the default).
    pub switches: String,
    pub n_prompt: usize,
    pub n_gen: usize,
    /// Sequences decoded together (tg tests at `-b` > 1).
    pub n_seqs: usize,
    pub test: String,
    pub repetitions: usize,
    pub avg_ns: u64,
    pub stddev_ns: u64,
    pub avg_ts: f64,
    pub stddev_ts: f64,
    pub samples_ns: Vec<u64>,
    pub samples_ts: Vec<f64>,
    /// Time to first token (ns) for pp and sum tests: prefill plus the first sample.
    pub ttft_ns: Option<u64>,
    pub load_ms: f64,
}

/// Deterministic pseudo-random prompt tokens (llama-bench also uses random tokens).
pub fn prompt_tokens(n: usize, vocab: usize) -> Vec<u32> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (100 + x % (vocab.saturating_sub(200).max(1) as u64)) as u32
        })
        .collect()
}

/// One timed run: (ns, tokens per second, time to first token ns).
fn run_once(engine: &mut dyn Engine, model: &ModelRef, test: &Test) -> Result<(u64, f64, Option<u64>)> {
    let vocab = engine.info().vocab_size.min(1 << 20);
    match test {
        Test::Prompt(n) => {
            let prompt = prompt_tokens(*n, vocab);
            let t = Instant::now();
            let g = engine.generate(&prompt, &GenParams { max_tokens: 1, ignore_eog: true, ..Default::default() })?;
            let ns = g.prefill.as_nanos() as u64;
            Ok((ns, *n as f64 / (ns as f64 / 1e9), Some(t.elapsed().as_nanos() as u64)))
        }
        Test::Gen { n, seqs } => {
            // Each sequence starts from its own single token; t/s counts every sequence's tokens.
            let prompts: Vec<Vec<u32>> = (0..*seqs).map(|i| vec![prompt_tokens(i + 1, vocab)[i]]).collect();
            let t = Instant::now();
            let gens = engine
                .generate_batch(&prompts, &GenParams { max_tokens: *n, ignore_eog: true, ..Default::default() })?;
            let ns = t.elapsed().as_nanos() as u64;
            let tokens: usize = gens.iter().map(|g| g.tokens.len()).sum();
            Ok((ns, tokens as f64 / (ns as f64 / 1e9), None))
        }
        Test::Summary(path) => {
            let doc = Document::read(path)?;
            let t = Instant::now();
            let mut first = None;
            let s = pipeline::summarize(&doc, engine, model, &SummarizeOptions::default(), &mut |_, done, _| {
                if done == 1 && first.is_none() {
                    first = Some(t.elapsed().as_nanos() as u64);
                }
            })?;
            let ns = t.elapsed().as_nanos() as u64;
            Ok((ns, s.source.tokens as f64 / (ns as f64 / 1e9), first))
        }
    }
}

/// Runs `test` once to warm up, then `reps` times.
pub fn measure(engine: &mut dyn Engine, model: &ModelRef, test: &Test, reps: usize) -> Result<Row> {
    if reps == 0 {
        return Err(Error::Usage("-r: at least one repetition".into()));
    }
    run_once(engine, model, test)?;
    let mut ns = Vec::with_capacity(reps);
    let mut ts = Vec::with_capacity(reps);
    let mut ttft = Vec::new();
    for _ in 0..reps {
        let (n, t, first) = run_once(engine, model, test)?;
        ns.push(n);
        ts.push(t);
        ttft.extend(first);
    }
    let info = engine.info();
    let (n_prompt, n_gen) = match test {
        Test::Prompt(n) => (*n, 0),
        Test::Gen { n, .. } => (0, *n),
        Test::Summary(_) => (0, 0),
    };
    let nsf: Vec<f64> = ns.iter().map(|&x| x as f64).collect();
    Ok(Row {
        build_commit: env!("PRECIS_BUILD_COMMIT").to_string(),
        model_filename: info.filename.clone(),
        model_type: info.model_type.clone(),
        model_size: info.size_bytes,
        model_n_params: info.n_params,
        device: info.device.clone(),
        backend: info.backend.clone(),
        n_threads: info.threads,
        switches: info.switches.clone(),
        n_prompt,
        n_gen,
        n_seqs: if let Test::Gen { seqs, .. } = test { *seqs } else { 1 },
        test: test.name(),
        repetitions: reps,
        avg_ns: mean(&nsf) as u64,
        stddev_ns: stddev(&nsf) as u64,
        avg_ts: round2(mean(&ts)),
        stddev_ts: round2(stddev(&ts)),
        samples_ns: ns,
        samples_ts: ts.iter().map(|&x| round2(x)).collect(),
        ttft_ns: (!ttft.is_empty()).then(|| ttft.iter().sum::<u64>() / ttft.len() as u64),
        load_ms: (info.load_time.as_secs_f64() * 1e5).round() / 100.0,
    })
}

pub fn mean(x: &[f64]) -> f64 {
    if x.is_empty() {
        0.0
    } else {
        x.iter().sum::<f64>() / x.len() as f64
    }
}

/// Sample standard deviation (n − 1), 0 for fewer than two samples.
pub fn stddev(x: &[f64]) -> f64 {
    if x.len() < 2 {
        return 0.0;
    }
    let m = mean(x);
    (x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (x.len() - 1) as f64).sqrt()
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn speed_file() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))?;
    Some(base.join("precis/speed.json"))
}

/// Measured speeds of a model, for `summarize --plan`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Speed {
    /// Prefill and batch-1 decode, tok/s.
    pub pp: f64,
    pub tg: f64,
    /// A whole summary (`bench --sum`), source tokens/s, if one was timed.
    pub sum: Option<f64>,
}

/// Remembers the measured speeds of a model (its first pp, tg and sum@ rows).
pub fn record_speed(model_key: &str, rows: &[Row]) {
    let Some(path) = speed_file() else { return };
    let mut all: serde_json::Map<String, serde_json::Value> =
        std::fs::read(&path).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
    let get = |p: &str| rows.iter().find(|r| r.test.starts_with(p)).map(|r| r.avg_ts);
    let (Some(pp), Some(tg)) = (get("pp"), get("tg")) else { return };
    all.insert(model_key.to_string(), serde_json::json!({ "pp": pp, "tg": tg, "sum": get("sum@") }));
    let _ = crate::atomic::write(&path, serde_json::to_string_pretty(&all).unwrap_or_default().as_bytes());
}

/// Prefill and decode tok/s assumed for estimates when nothing was measured.
pub const GUESSED_SPEED: (f64, f64) = (100.0, 30.0);

/// The speeds of the last `precis bench` of this model file (keyed by its sha256, so a card
/// and a path to the same file meet), if any.
pub fn measured_speed(model_key: &str) -> Option<Speed> {
    let v = speed_file()
        .and_then(|p| std::fs::read(p).ok())
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())?;
    let m = &v[model_key];
    Some(Speed { pp: m["pp"].as_f64()?, tg: m["tg"].as_f64()?, sum: m["sum"].as_f64() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_match_hand_computed_values() {
        assert_eq!(mean(&[1.0, 2.0, 3.0]), 2.0);
        assert!((stddev(&[1.0, 2.0, 3.0, 4.0]) - 1.2909944).abs() < 1e-6);
        assert_eq!(stddev(&[5.0]), 0.0);
    }

    #[test]
    fn prompt_tokens_are_deterministic_and_in_range() {
        let a = prompt_tokens(512, 49152);
        assert_eq!(a, prompt_tokens(512, 49152));
        assert!(a.iter().all(|&t| (100..49152).contains(&t)));
        assert_eq!(Test::Prompt(512).name(), "pp512");
        assert_eq!(Test::Summary("/x/a.txt".into()).name(), "sum@a.txt");
    }
}
