//! `precis batch DIR --out OUTDIR`: every matching document under DIR, each to
//! OUTDIR/<same path>.json, resumable in every format, with OUTDIR/manifest.jsonl (the
//! lock, resume journal and manifest live in `cli/outdir.rs`). One bad file never stops
//! the batch; the exit code is 1 if any failed.

use super::args::BatchArgs;
use super::outdir::{OutDir, MANIFEST};
use super::outputs;
use crate::error::{Error, Result};
use crate::input::Document;
use crate::pipeline::{self, SummarizeOptions};
use crate::render::{self, Format};
use crate::summary::Summary;
use crate::{atomic, interrupt, progress, session};
use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Instant;

const DEFAULT_GLOBS: &[&str] = &["*.txt", "*.md", "*.markdown", "*.html"];

#[derive(Serialize)]
struct ManifestLine {
    path: String,
    output: String,
    status: &'static str,
    error: Option<String>,
    seconds: f64,
}

pub fn run(args: BatchArgs, verbosity: i8) -> Result<()> {
    let cfg = args.model.to_config(verbosity)?;
    let (opts, format) = args.summary.options(cfg.seed, cfg.temperature)?;
    if !args.dir.is_dir() {
        return Err(Error::Usage(format!("{}: not a folder", args.dir.display())));
    }
    check_out(&args.dir, &args.out)?;
    let globs = globset(&args.glob)?;
    let files = walk(&args.dir, &globs, &args.out)?;
    if files.is_empty() {
        return Err(Error::Usage(format!(
            "{}: no files match {}",
            args.dir.display(),
            patterns(&args.glob).join(", ")
        )));
    }
    if args.merge {
        return merge(&args, &files, verbosity);
    }
    let files = match args.shard {
        Some(sh) => files.into_iter().filter(|f| sh.owns(f.strip_prefix(&args.dir).unwrap_or(f))).collect(),
        None => files,
    };
    let settings = settings_key(&cfg.model_key(), &opts);
    let outputs = output_paths(&files, &args.dir, &args.out, format);
    // A shard that owns no file still writes its (empty) manifest: it ran.
    let shard = args.shard.map(|sh| sh.manifest_name());
    let shard_key = shard.as_deref().map(|m| m.trim_start_matches("manifest.").trim_end_matches(".jsonl").to_string());
    let mut outdir = OutDir::open(&args.out, shard_key.as_deref())?;
    let manifest_path = args.out.join(shard.as_deref().unwrap_or(MANIFEST));
    let (mut done, mut failed, mut skipped) = (0usize, 0usize, 0usize);
    let mut engine = None;
    let pb = progress::bar(files.len() as u64, verbosity, "batch");
    for (k, (file, out)) in files.iter().zip(&outputs).enumerate() {
        interrupt::set_status(format!(
            "{k} of {} documents done (manifest.jsonl lists them); stopped at {}; run the same command again to resume",
            files.len(),
            file.display()
        ));
        pb.set_message(file.display().to_string());
        let t0 = Instant::now();
        let rel = file.strip_prefix(&args.dir).unwrap_or(file).display().to_string();
        let result = (|| -> Result<&'static str> {
            let doc = Document::read_limited(file, args.summary.max_input_bytes)?;
            if !args.force
                && (outdir.up_to_date(out, &doc.sha256, &settings)
                    || (format == Format::Json && json_up_to_date(out, &doc.sha256, &settings)))
            {
                return Ok("skipped");
            }
            doc.check_enough_text()?;
            if engine.is_none() {
                engine = Some(session::open(&cfg)?);
            }
            let (eng, model_ref) = engine.as_mut().expect("engine loaded");
            let mut s = pipeline::summarize(&doc, eng.as_mut(), model_ref, &opts, &mut |_, _, _| {})?;
            s.source.path = rel.clone();
            let bytes = with_settings(&s, &settings, format);
            atomic::write(out, bytes.as_bytes())?;
            outdir.record(out, &doc.sha256, &settings, bytes.as_bytes())?;
            Ok("ok")
        })();
        let (status, error) = match result {
            Ok(s) => (s, None),
            // A model that cannot be loaded (or a server that fails) fails every document: stop here.
            Err(e @ (Error::Fetch(_) | Error::Model { .. } | Error::Device { .. } | Error::Remote { .. })) => {
                return Err(e)
            }
            Err(e) => {
                super::report(&e);
                ("failed", Some(e.to_string()))
            }
        };
        match status {
            "failed" => failed += 1,
            "skipped" => skipped += 1,
            _ => {}
        }
        done += 1;
        outdir.manifest_line(&ManifestLine {
            path: rel,
            output: out.strip_prefix(&args.out).unwrap_or(out).display().to_string(),
            status,
            error,
            seconds: (t0.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        })?;
        pb.inc(1);
    }
    pb.finish_and_clear();
    if verbosity >= 0 {
        eprintln!(
            "precis: {done} documents: {} summarised, {skipped} up to date, {failed} failed; manifest at {}",
            done - failed - skipped,
            manifest_path.display()
        );
    }
    if failed > 0 {
        return Err(Error::BatchFailed { failed, total: done });
    }
    Ok(())
}

/// Refuses an OUT that is DIR itself or holds DIR (OUT inside DIR is fine: it is skipped).
fn check_out(dir: &Path, out: &Path) -> Result<()> {
    let (Ok(d), Some(o)) = (std::fs::canonicalize(dir), canonical_or_parent(out)) else { return Ok(()) };
    if d == o {
        return Err(Error::Usage(format!(
            "--out {}: is the input folder; summaries need a folder of their own",
            out.display()
        )));
    }
    if d.starts_with(&o) {
        return Err(Error::Usage(format!(
            "--out {}: holds the input folder {}; choose an --out that does not hold it",
            out.display(),
            dir.display()
        )));
    }
    outputs::check_folder_writable(out).map_err(|why| Error::input(out, format!("cannot write summaries here: {why}")))
}

/// `p` canonicalised, or (when it does not exist yet) its nearest existing ancestor's
/// canonical path joined with the rest.
fn canonical_or_parent(p: &Path) -> Option<PathBuf> {
    let abs = std::path::absolute(p).ok()?;
    let mut rest = Vec::new();
    let mut cur = abs.as_path();
    loop {
        if let Ok(c) = std::fs::canonicalize(cur) {
            return Some(rest.iter().rev().fold(c, |acc: PathBuf, n| acc.join(n)));
        }
        rest.push(cur.file_name()?.to_owned());
        cur = cur.parent()?;
    }
}

fn patterns(user: &[String]) -> Vec<String> {
    if user.is_empty() {
        DEFAULT_GLOBS.iter().map(|s| s.to_string()).collect()
    } else {
        user.to_vec()
    }
}

fn globset(user: &[String]) -> Result<GlobSet> {
    let mut b = GlobSetBuilder::new();
    for p in patterns(user) {
        // A pattern without a folder part matches the file name anywhere.
        let p = if p.contains('/') { p } else { format!("**/{p}") };
        b.add(Glob::new(&p).map_err(|e| Error::Usage(format!("--glob {p}: {e}")))?);
    }
    b.build().map_err(|e| Error::Usage(format!("--glob: {e}")))
}

/// Matching files under `dir`, sorted, never descending into `out`.
fn walk(dir: &Path, globs: &GlobSet, out: &Path) -> Result<Vec<PathBuf>> {
    let out_abs = std::fs::canonicalize(out).ok();
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!("{}: {e}", e.path().map(|p| p.display().to_string()).unwrap_or_default());
                continue;
            }
        };
        if out_abs.is_some() && std::fs::canonicalize(entry.path()).ok() == out_abs {
            continue;
        }
        let rel = entry.path().strip_prefix(dir).unwrap_or(entry.path());
        if entry.file_type().is_file() && globs.is_match(rel) {
            files.push(entry.path().to_path_buf());
        }
    }
    files.retain(|f| out_abs.as_ref().is_none_or(|o| !std::fs::canonicalize(f).is_ok_and(|c| c.starts_with(o))));
    Ok(files)
}

/// OUT/a/b.json for DIR/a/b.txt; `b.txt.json` where two inputs would share a name. Every
/// path is strictly inside OUT, whatever the input is called (`..txt` → `..txt.json`).
fn output_paths(files: &[PathBuf], dir: &Path, out: &Path, format: Format) -> Vec<PathBuf> {
    let ext = format.extension();
    let plain: Vec<PathBuf> = files
        .iter()
        .map(|f| {
            let rel = f.strip_prefix(dir).unwrap_or(f);
            let parent = rel.parent().filter(|p| outputs::is_plain_relative(p));
            let name = outputs::output_name(rel.file_name().unwrap_or("document".as_ref()), ext);
            parent.map_or_else(|| out.join(&name), |p| out.join(p).join(&name))
        })
        .collect();
    plain
        .iter()
        .zip(files)
        .map(|(p, f)| {
            if plain.iter().filter(|q| *q == p).count() > 1 {
                let name = f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                p.with_file_name(format!("{name}.{ext}"))
            } else {
                p.clone()
            }
        })
        .collect()
}

/// A digest of everything that changes a summary besides the input.
fn settings_key(model_id: &str, o: &SummarizeOptions) -> String {
    let s = format!(
        "{model_id}|{}|{}|{}|{}|{}|{}|{}|{}|{}",
        env!("CARGO_PKG_VERSION"),
        o.chunk_tokens,
        o.overlap_sentences,
        o.points_per_chunk,
        o.max_points,
        o.point_words,
        o.strict,
        o.seed,
        o.temperature
    );
    hex::encode(&Sha256::digest(s.as_bytes())[..8])
}

/// The rendered output; JSON outputs carry the settings key so a rerun can skip them.
fn with_settings(s: &Summary, settings: &str, format: Format) -> String {
    match format {
        Format::Json => {
            let mut v = serde_json::to_value(s).unwrap_or_default();
            v["precis_settings"] = serde_json::Value::String(settings.to_string());
            serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
        }
        _ => render::render(s, format),
    }
}

/// An existing JSON output made from the same input bytes with the same settings (one
/// written before the resume journal existed).
fn json_up_to_date(out: &Path, sha256: &str, settings: &str) -> bool {
    let Ok(bytes) = std::fs::read(out) else { return false };
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) else { return false };
    v["source"]["sha256"] == sha256 && v["precis_settings"] == settings
}

/// `--merge`: the shards' manifests joined; what no shard has done on stdout.
fn merge(args: &BatchArgs, files: &[PathBuf], verbosity: i8) -> Result<()> {
    let m = super::shard::merge(&args.dir, files, &args.out)?;
    for rel in m.missing.iter().chain(&m.failed) {
        println!("{rel}");
    }
    if verbosity >= 0 {
        eprintln!(
            "precis: {} files: {} done, {} failed, {} not done by any shard ({} shard manifests); manifest at {}",
            files.len(),
            m.done,
            m.failed.len(),
            m.missing.len(),
            m.manifests,
            args.out.join("manifest.jsonl").display()
        );
    }
    let undone = m.failed.len() + m.missing.len();
    if undone > 0 {
        return Err(Error::BatchFailed { failed: undone, total: files.len() });
    }
    Ok(())
}
