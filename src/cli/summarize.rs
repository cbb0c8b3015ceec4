//! `precis summarize FILE...`: read, plan (or summarise), render, write.

use super::args::{SummarizeArgs, SummaryArgs};
use crate::config::RunConfig;
use crate::error::{Error, Result};
use crate::input::Document;
use crate::pipeline::{self, SummarizeOptions};
use crate::render::{self, Format};
use crate::{atomic, progress, session};
use std::io::Write;
use std::path::Path;

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
    if args.files.len() > 1 && args.output.as_ref().is_some_and(|o| o.is_file()) {
        return Err(Error::Usage("-o: with several inputs, -o must name a folder".into()));
    }
    if args.plan {
        return plan(&args, &cfg, &opts);
    }
    // Read every input first: a bad file is reported, the others still run. A single
    // input's error is the run's error (one line, exit 1).
    let single = args.files.len() == 1;
    let mut failed = 0;
    let mut docs = Vec::new();
    for f in &args.files {
        match Document::read(f) {
            Ok(d) => docs.push(d),
            Err(e) if single => return Err(e),
            Err(e) => {
                super::report(&e);
                failed += 1;
            }
        }
    }
    if !docs.is_empty() {
        let (mut engine, model_ref) = session::open(&cfg)?;
        for doc in &docs {
            let pb = progress::bar(1, verbosity, "summarize");
            pb.set_message(doc.path.display().to_string());
            let mut on_progress = |stage: &str, done: usize, total: usize| {
                pb.set_length(total as u64);
                pb.set_position(done as u64);
                pb.set_message(stage.to_string());
            };
            let result = pipeline::summarize(doc, engine.as_mut(), &model_ref, &opts, &mut on_progress).and_then(|s| {
                emit(&render::render(&s, format), &doc.path, args.output.as_deref(), args.files.len(), format)
            });
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

/// Writes one rendered summary to stdout, to `-o FILE`, or into `-o DIR`.
fn emit(text: &str, input: &Path, output: Option<&Path>, n_inputs: usize, format: Format) -> Result<()> {
    match output {
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes()).map_err(|e| Error::io("<stdout>", e))
        }
        Some(o) if n_inputs > 1 || o.is_dir() => {
            let stem = input.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "stdin".into());
            atomic::write(&o.join(format!("{stem}.{}", format.extension())), text.as_bytes())
        }
        Some(o) => atomic::write(o, text.as_bytes()),
    }
}

/// `--plan`: chunks and an estimate, from the tokenizer alone: the model is resolved and
/// checked as a run does it (`session::preview`), its weights never loaded.
fn plan(args: &SummarizeArgs, cfg: &RunConfig, opts: &SummarizeOptions) -> Result<()> {
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
        let doc = Document::read(f)?;
        let p = pipeline::plan(&doc, context, opts, &mut |s| preview.count_tokens(s));
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
