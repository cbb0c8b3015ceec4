//! `precis summarize FILE...`: read, plan (or summarise), render, write.

use super::args::{SummarizeArgs, SummaryArgs};
use super::outputs;
use crate::config::RunConfig;
use crate::error::{Error, Result};
use crate::input::Document;
use crate::pipeline::{self, SummarizeOptions};
use crate::render::{self, Format};
use crate::{atomic, interrupt, progress, session};
use std::io::Write;
use std::path::{Path, PathBuf};

impl SummaryArgs {
    pub fn options(&self, seed: u64, temperature: f32) -> Result<(SummarizeOptions, Format)> {
        if self.chunk_tokens < 32 {
            return Err(Error::Usage(format!("--chunk-tokens {}: must be at least 32", self.chunk_tokens)));
        }
        if self.points == Some(0) || self.points.is_some_and(|p| p > 50) {
            return Err(Error::Usage("--points: must be between 1 and 50".into()));
        }
        let opts = SummarizeOptions {
            chunk_tokens: self.chunk_tokens,
            max_points: self.points.unwrap_or(0),
            strict: self.strict,
            seed,
            temperature,
            ..Default::default()
        };
        Ok((opts, self.format.parse()?))
    }
}

pub fn run(args: SummarizeArgs, verbosity: i8) -> Result<()> {
    let cfg = args.model.to_config(verbosity)?;
    let (opts, format) = args.summary.options(cfg.seed, cfg.temperature)?;
    if args.files.len() > 1 && args.output.as_ref().is_some_and(|o| o.exists() && !o.is_dir()) {
        return Err(Error::Usage("-o: with several inputs, -o must name a folder".into()));
    }
    if args.plan {
        return plan(&args, &cfg, &opts, verbosity);
    }
    // Where each summary goes, checked before anything is read or run.
    let targets = targets(&args.files, args.output.as_deref(), format)?;
    // Read every input first: a bad file is reported, the others still run. A single
    // input's error is the run's error (one line, exit 1).
    let single = args.files.len() == 1;
    let mut failed = 0;
    let mut docs = Vec::new();
    for (f, target) in args.files.iter().zip(targets) {
        match Document::read_limited(f, args.summary.max_input_bytes).and_then(|d| d.check_enough_text().map(|()| d)) {
            Ok(d) => docs.push((d, target)),
            Err(e) if single => return Err(e),
            Err(e) => {
                super::report(&e);
                failed += 1;
            }
        }
    }
    if !docs.is_empty() {
        let (mut engine, model_ref) = session::open(&cfg)?;
        for (k, (doc, target)) in docs.iter().enumerate() {
            interrupt::set_status(format!(
                "{k} of {} summaries written; stopped while summarising {}",
                docs.len(),
                doc.path.display()
            ));
            let pb = progress::bar(1, verbosity, "summarize");
            pb.set_message(doc.path.display().to_string());
            let mut on_progress = |stage: &str, done: usize, total: usize| {
                pb.set_length(total as u64);
                pb.set_position(done as u64);
                pb.set_message(stage.to_string());
            };
            let result = pipeline::summarize(doc, engine.as_mut(), &model_ref, &opts, &mut on_progress)
                .and_then(|s| emit(&render::render(&s, format), target.as_deref()));
            pb.finish_and_clear();
            match result {
                Err(e) if single => return Err(e),
                Err(e) => {
                    super::report(&Error::input(&doc.path, e.to_string()));
                    failed += 1;
                }
                Ok(()) => {}
            }
        }
        // Every output is written and the process ends next: leave the model to the OS
        // rather than tear it down (on CUDA, destroying the context is a visible part of a
        // one-second run).
        std::mem::forget(engine);
    }
    if failed > 0 {
        return Err(Error::BatchFailed { failed, total: args.files.len() });
    }
    Ok(())
}

/// The output path of each input (`None`: stdout), refused when one is an input, two
/// inputs share one, or it cannot be written.
fn targets(files: &[PathBuf], output: Option<&Path>, format: Format) -> Result<Vec<Option<PathBuf>>> {
    let Some(o) = output else { return Ok(vec![None; files.len()]) };
    let trailing_slash = o.as_os_str().to_string_lossy().ends_with(std::path::MAIN_SEPARATOR);
    let paths: Vec<PathBuf> = if files.len() > 1 || o.is_dir() || trailing_slash {
        let ext = format.extension();
        files.iter().map(|f| o.join(outputs::output_name(f.file_name().unwrap_or("stdin".as_ref()), ext))).collect()
    } else {
        vec![o.to_path_buf()]
    };
    let pairs: Vec<(&Path, PathBuf)> = files.iter().map(PathBuf::as_path).zip(paths.iter().cloned()).collect();
    outputs::check_not_inputs(&pairs, "-o")?;
    for p in &paths {
        outputs::check_writable(p)?;
    }
    Ok(paths.into_iter().map(Some).collect())
}

/// Writes one rendered summary to stdout or to its file (atomically).
fn emit(text: &str, target: Option<&Path>) -> Result<()> {
    match target {
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes()).map_err(|e| Error::io("<stdout>", e))
        }
        Some(p) => atomic::write(p, text.as_bytes()),
    }
}

/// `--plan`: chunks and an estimate, from the tokenizer alone: the model is resolved and
/// checked as a run does it (`session::preview`), its weights never loaded.
fn plan(args: &SummarizeArgs, cfg: &RunConfig, opts: &SummarizeOptions, verbosity: i8) -> Result<()> {
    let preview = session::preview(cfg)?;
    let context = preview.context_length;
    // The speed of the last `precis bench` of this file is recorded under its sha256.
    let measured = crate::bench::measured_speed(&preview.model_ref.file_sha256);
    let (pp, tg) = measured.map_or(crate::bench::GUESSED_SPEED, |m| (m.pp, m.tg));
    let source = if measured.is_some() {
        "from the last precis bench of this model"
    } else {
        "a guess: run precis bench on this model to measure"
    };
    for f in &args.files {
        let doc = Document::read_limited(f, args.summary.max_input_bytes)?;
        let pb = progress::bytes_spinner(verbosity, "plan", "tokenised");
        let p = pipeline::plan(&doc, context, opts, &mut |s| {
            pb.inc(s.len() as u64);
            preview.count_tokens(s)
        });
        pb.finish_and_clear();
        println!(
            "{}: {} bytes, {} tokens, {} sentences",
            doc.path.display(),
            doc.raw.len(),
            p.doc_tokens,
            p.sentences.len()
        );
        println!(
            "  chunk budget {} tokens (context {}), overlap {} sentence(s)",
            p.budget, context, opts.overlap_sentences
        );
        for c in &p.chunks {
            let raw = doc.raw_span(c.range.clone());
            println!(
                "  chunk {:>3}: bytes {:>7}..{:<7} {:>5} tokens, sentences {}..{}",
                c.index, raw.start, raw.end, c.tokens, c.sentences.start, c.sentences.end
            );
        }
        let estimate = match measured.and_then(|m| m.sum) {
            // A whole summary timed by `bench --sum` includes batching and prefix sharing.
            Some(sum) => format!(
                "estimated {:.1} s at {sum:.0} source tok/s (the last precis bench --sum of this model)",
                p.doc_tokens as f64 / sum.max(1e-9)
            ),
            None => format!(
                "estimated at most {:.1} s at {pp:.0} tok/s prefill, {tg:.0} tok/s decode, one call after another ({source}; batched decode is faster; precis bench --sum FILE measures a whole summary)",
                p.estimate_s(pp, tg)
            ),
        };
        println!(
            "  {} model calls, ~{} prompt + ~{} generated tokens; {estimate}",
            p.model_calls, p.est_prompt_tokens, p.est_generated_tokens
        );
    }
    Ok(())
}
