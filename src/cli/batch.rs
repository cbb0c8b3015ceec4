//! `precis batch DIR --out OUTDIR`: every matching document under DIR, each to
//! OUTDIR/<same path>.json, resumable in every format, with OUTDIR/manifest.jsonl (the
//! lock, resume journal and manifest live in `cli/outdir.rs`). One bad file never stops
//! the batch; the exit code is 1 if any failed. `--jobs N` documents are in flight at
//! once, on N threads that share the one engine: their model calls are merged into one
//! batch (`engine/shared.rs`).

use super::args::BatchArgs;
use super::outdir::{OutDir, MANIFEST};
use super::outputs;
use crate::config::RunConfig;
use crate::engine::shared::{Coordinator, Worker};
use crate::error::{Error, Result};
use crate::input::Document;
use crate::pipeline::{self, SummarizeOptions};
use crate::render::{self, Format};
use crate::session::{self, ModelRef};
use crate::summary::Summary;
use crate::{atomic, interrupt, progress};
use globset::{Glob, GlobSet, GlobSetBuilder};
use indicatif::ProgressBar;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

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
    let jobs = args.jobs.unwrap_or_else(|| default_jobs(&cfg));
    if !(1..=256).contains(&jobs) {
        return Err(Error::Usage(format!("--jobs {jobs}: must be between 1 and 256")));
    }
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
    let outdir = OutDir::open(&args.out, shard_key.as_deref())?;
    let manifest_path = args.out.join(shard.as_deref().unwrap_or(MANIFEST));
    let jobs = jobs.min(files.len()).max(1);
    let pb = progress::bar(files.len() as u64, verbosity, "batch");
    let state =
        Mutex::new(State { outdir, next: 0, in_flight: Vec::new(), done: 0, failed: 0, skipped: 0, fatal: None });
    let ctx = Run { files: &files, outputs: &outputs, args: &args, opts: &opts, format, settings: &settings, pb: &pb };
    let shared = std::thread::scope(|s| {
        let mut coord = Coordinator::new(|| session::open(&cfg), GATHER_WINDOW);
        for i in 0..jobs {
            let (worker, ctx, state) = (coord.worker(), &ctx, &state);
            let spawned = std::thread::Builder::new()
                .name(format!("precis-batch-{i}"))
                .spawn_scoped(s, move || ctx.worker(worker, state));
            if let Err(e) = spawned {
                lock(state).fatal.get_or_insert(Error::Engine(format!("cannot start a batch thread: {e}")));
            }
        }
        // A coordinator that panics (an engine bug) stops the workers after their document.
        let _stop = StopOnUnwind(&state);
        coord.serve()
    });
    pb.finish_and_clear();
    if shared.calls > 0 {
        tracing::info!(
            "--jobs {jobs}: {} engine calls of {:.1} chats on average (at most {}), {} of them merging several documents",
            shared.calls,
            shared.chats as f64 / shared.calls as f64,
            shared.max_chats,
            shared.merged_calls,
        );
    }
    let st = state.into_inner().unwrap_or_else(|p| p.into_inner());
    if let Some(e) = st.fatal {
        return Err(e);
    }
    let (done, failed, skipped) = (st.done, st.failed, st.skipped);
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

/// How long the engine waits, once one document's chats have come, for the other
/// documents in flight to send theirs (they are usually planning a chunk or grounding a
/// reply, milliseconds of work, while a model call takes seconds).
const GATHER_WINDOW: Duration = Duration::from_millis(50);

/// Documents in flight unless `--jobs` says: enough for the local engine's batches to
/// fill its decode slots across documents; as many as the requests a server takes at once.
fn default_jobs(cfg: &RunConfig) -> usize {
    cfg.remote.as_ref().map_or(4, |r| r.parallel)
}

/// What the workers share, behind one lock.
struct State {
    outdir: OutDir,
    /// The next file to take.
    next: usize,
    /// Files taken and not yet finished, by index.
    in_flight: Vec<usize>,
    done: usize,
    failed: usize,
    skipped: usize,
    /// The error that stops the batch (a model that cannot load, a server that fails, a
    /// manifest that cannot be written): no worker takes another file.
    fatal: Option<Error>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

struct StopOnUnwind<'s>(&'s Mutex<State>);

impl Drop for StopOnUnwind<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            lock(self.0).fatal.get_or_insert(Error::Engine("the engine thread panicked".into()));
        }
    }
}

/// What every worker reads.
struct Run<'a> {
    files: &'a [PathBuf],
    outputs: &'a [PathBuf],
    args: &'a BatchArgs,
    opts: &'a SummarizeOptions,
    format: Format,
    settings: &'a str,
    pb: &'a ProgressBar,
}

impl Run<'_> {
    /// One worker thread: takes the next file until none is left or the batch stops.
    /// Manifest lines go in the order documents finish, each right after its output (so
    /// that the manifest and the outputs agree after any stop); with `--jobs 1` that is
    /// file order.
    fn worker(&self, mut worker: Worker<ModelRef>, state: &Mutex<State>) {
        loop {
            let k = {
                let mut st = lock(state);
                if st.fatal.is_some() || st.next >= self.files.len() {
                    return;
                }
                let k = st.next;
                st.next += 1;
                st.in_flight.push(k);
                self.status(&st);
                k
            };
            let (file, out) = (&self.files[k], &self.outputs[k]);
            let t0 = Instant::now();
            let rel = file.strip_prefix(&self.args.dir).unwrap_or(file).display().to_string();
            let result = self.one(file, out, &rel, &mut worker, state);
            let mut st = lock(state);
            st.in_flight.retain(|&i| i != k);
            let (status, error) = match result {
                Ok(s) => (s, None),
                // A model that cannot be loaded (or a server that fails) fails every document: stop here.
                Err(e @ (Error::Fetch(_) | Error::Model { .. } | Error::Device { .. } | Error::Remote { .. })) => {
                    st.fatal.get_or_insert(e);
                    return;
                }
                Err(e) => {
                    super::report(&e);
                    ("failed", Some(e.to_string()))
                }
            };
            match status {
                "failed" => st.failed += 1,
                "skipped" => st.skipped += 1,
                _ => {}
            }
            st.done += 1;
            let line = ManifestLine {
                path: rel,
                output: out.strip_prefix(&self.args.out).unwrap_or(out).display().to_string(),
                status,
                error,
                seconds: (t0.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
            };
            if let Err(e) = st.outdir.manifest_line(&line) {
                st.fatal.get_or_insert(e);
                return;
            }
            self.pb.inc(1);
            if !st.in_flight.is_empty() {
                self.status(&st);
            }
        }
    }

    /// The interrupt line and the progress bar's message: what is done, what is in flight.
    fn status(&self, st: &State) {
        let mut names: Vec<usize> = st.in_flight.clone();
        names.sort_unstable();
        let names = names.iter().map(|&i| self.files[i].display().to_string()).collect::<Vec<_>>().join(", ");
        interrupt::set_status(format!(
            "{} of {} documents done (manifest.jsonl lists them); stopped at {names}; run the same command again to resume",
            st.done,
            self.files.len(),
        ));
        self.pb.set_message(names);
    }

    /// One document: skipped if up to date, else summarised and written.
    fn one(
        &self,
        file: &Path,
        out: &Path,
        rel: &str,
        worker: &mut Worker<ModelRef>,
        state: &Mutex<State>,
    ) -> Result<&'static str> {
        let doc = Document::read_limited(file, self.args.summary.max_input_bytes)?;
        if !self.args.force
            && (lock(state).outdir.up_to_date(out, &doc.sha256, self.settings)
                || (self.format == Format::Json && json_up_to_date(out, &doc.sha256, self.settings)))
        {
            return Ok("skipped");
        }
        doc.check_enough_text()?;
        let (mut eng, model_ref) = worker.engine()?;
        let mut s = pipeline::summarize(&doc, &mut eng, &model_ref, self.opts, &mut |_, _, _| {})?;
        s.source.path = rel.to_string();
        let bytes = with_settings(&s, self.settings, self.format);
        atomic::write(out, bytes.as_bytes())?;
        lock(state).outdir.record(out, &doc.sha256, self.settings, bytes.as_bytes())?;
        Ok("ok")
    }
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
