//! `precis batch DIR --out OUTDIR`: every matching document under DIR, each to
//! OUTDIR/<same path>.json, resumable, with OUTDIR/manifest.jsonl. One bad file never
//! stops the batch; the exit code is 1 if any failed.

use super::args::BatchArgs;
use crate::error::{Error, Result};
use crate::input::Document;
use crate::pipeline::{self, SummarizeOptions};
use crate::render::{self, Format};
use crate::summary::Summary;
use crate::{atomic, progress, session};
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
    let manifest_name = args.shard.map_or_else(|| "manifest.jsonl".to_string(), |sh| sh.manifest_name());
    if files.is_empty() {
        // A shard of a small folder may own nothing; its manifest still says it ran.
        write_manifest(&args.out.join(&manifest_name), &[])?;
    }
    let settings = settings_key(&cfg.model_key(), &opts);
    let outputs = output_paths(&files, &args.dir, &args.out, format);
    let mut manifest: Vec<ManifestLine> = Vec::new();
    let mut engine = None;
    let pb = progress::bar(files.len() as u64, verbosity, "batch");
    for (file, out) in files.iter().zip(&outputs) {
        pb.set_message(file.display().to_string());
        let t0 = Instant::now();
        let rel = file.strip_prefix(&args.dir).unwrap_or(file).display().to_string();
        let result = (|| -> Result<&'static str> {
            let doc = Document::read(file)?;
            if !args.force && up_to_date(out, &doc.sha256, &settings) {
                return Ok("skipped");
            }
            if engine.is_none() {
                engine = Some(session::open(&cfg)?);
            }
            let (eng, model_ref) = engine.as_mut().expect("engine loaded");
            let mut s = pipeline::summarize(&doc, eng.as_mut(), model_ref, &opts, &mut |_, _, _| {})?;
            s.source.path = rel.clone();
            atomic::write(out, with_settings(&s, &settings, format).as_bytes())?;
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
        manifest.push(ManifestLine {
            path: rel,
            output: out.strip_prefix(&args.out).unwrap_or(out).display().to_string(),
            status,
            error,
            seconds: (t0.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        });
        write_manifest(&args.out.join(&manifest_name), &manifest)?;
        pb.inc(1);
    }
    pb.finish_and_clear();
    let failed = manifest.iter().filter(|m| m.status == "failed").count();
    let skipped = manifest.iter().filter(|m| m.status == "skipped").count();
    if verbosity >= 0 {
        eprintln!(
            "precis: {} documents: {} summarised, {} up to date, {} failed; manifest at {}",
            manifest.len(),
            manifest.len() - failed - skipped,
            skipped,
            failed,
            args.out.join(&manifest_name).display()
        );
    }
    if failed > 0 {
        return Err(Error::BatchFailed { failed, total: manifest.len() });
    }
    Ok(())
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

/// OUT/a/b.json for DIR/a/b.txt; `b.txt.json` where two inputs would share a name.
fn output_paths(files: &[PathBuf], dir: &Path, out: &Path, format: Format) -> Vec<PathBuf> {
    let ext = format.extension();
    let plain: Vec<PathBuf> =
        files.iter().map(|f| out.join(f.strip_prefix(dir).unwrap_or(f)).with_extension(ext)).collect();
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

/// An existing JSON output made from the same input bytes with the same settings.
fn up_to_date(out: &Path, sha256: &str, settings: &str) -> bool {
    let Ok(bytes) = std::fs::read(out) else { return false };
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) else { return false };
    v["source"]["sha256"] == sha256 && v["precis_settings"] == settings
}

fn write_manifest(path: &Path, lines: &[ManifestLine]) -> Result<()> {
    let mut text = String::new();
    for l in lines {
        text += &serde_json::to_string(l).unwrap_or_default();
        text.push('\n');
    }
    atomic::write(path, text.as_bytes())
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
