//! The Hugging Face cache layout for one card: paths, checking, eviction, links.

use super::{sha256_file, FetchOptions};
use crate::error::{Error, Result};
use crate::registry::ModelCard;
use std::fs;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

/// The card's paths in the cache.
pub(super) struct Layout {
    pub(super) repo_dir: PathBuf,
    pub(super) snapshot: PathBuf,
    /// The snapshot link's target: `../../blobs/` with one more `..` per folder in the name.
    pub(super) up: PathBuf,
}

impl Layout {
    pub(super) fn new(card: &ModelCard, opts: &FetchOptions) -> Result<Self> {
        let f = &card.file;
        let plain = |s: &str| !s.is_empty() && Path::new(s).components().all(|c| matches!(c, Component::Normal(_)));
        if !plain(&f.repo) || !plain(&f.name) || f.repo.contains('\\') || f.name.contains('\\') {
            return Err(Error::Card {
                id: card.id.clone(),
                msg: format!("file {}/{}: not a plain relative path", f.repo, f.name),
            });
        }
        let repo_dir = opts.cache_dir.join(format!("models--{}", f.repo.replace('/', "--")));
        let snapshot = repo_dir.join("snapshots").join(&f.revision).join(&f.name);
        let mut up = PathBuf::new();
        for _ in 0..=Path::new(&f.name).components().count() {
            up.push("..");
        }
        Ok(Layout { repo_dir, snapshot, up })
    }
    pub(super) fn blobs(&self) -> PathBuf {
        self.repo_dir.join("blobs")
    }
}

/// Checks size and sha256 of `path` (a snapshot entry); on a mismatch removes it from the
/// cache and errs. A file hashed before is not hashed again unless `fresh` or its stamp
/// (size, modification and change times, inode; see [`stamp`]) changed since.
pub(super) fn verify(card: &ModelCard, layout: &Layout, path: &Path, fresh: bool) -> Result<()> {
    let f = &card.file;
    let what = format!("{}: {}/{}@{}", path.display(), f.repo, f.name, short(&f.revision));
    let size = fs::metadata(path).map_err(|e| Error::io(path, e))?.len();
    if size != f.size {
        evict(layout, path);
        return Err(Error::Fetch(format!(
            "{what}: size mismatch: expected {} bytes, got {size}; removed it from the cache",
            f.size
        )));
    }
    let expected = f.sha256.to_ascii_lowercase();
    let stamp_file = stamp_path(layout, &expected);
    let before = stamp(path);
    if !fresh && before.is_some() && fs::read_to_string(&stamp_file).ok() == before {
        return Ok(());
    }
    let actual = sha256_file(path)?;
    if actual != expected {
        evict(layout, path);
        return Err(Error::Fetch(format!(
            "{what}: sha256 mismatch: expected {expected}, got {actual}; removed it from the cache"
        )));
    }
    // Remembered only if the file did not change while it was hashed.
    if let Some(s) = before.filter(|s| stamp(path).as_ref() == Some(s)) {
        let saved = new_temp(&layout.repo_dir).and_then(|mut tmp| {
            tmp.write_all(s.as_bytes()).map_err(|e| Error::io(&stamp_file, e))?;
            tmp.persist(&stamp_file).map(drop).map_err(|e| Error::io(&stamp_file, e.error))
        });
        if let Err(e) = saved {
            tracing::debug!("{e}");
        }
    }
    Ok(())
}

/// Where the stamp of a verified file is kept: beside the repo's `blobs/`, outside the
/// layout that huggingface_hub reads.
fn stamp_path(layout: &Layout, sha: &str) -> PathBuf {
    layout.repo_dir.join(format!(".precis-verified-{sha}"))
}

/// What identifies a file's content without reading it: size, modification and change
/// times (nanoseconds), inode. Any write to the file changes the change time.
fn stamp(path: &Path) -> Option<String> {
    let m = fs::metadata(path).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some(format!(
            "{} {}.{} {}.{} {}:{}",
            m.len(),
            m.mtime(),
            m.mtime_nsec(),
            m.ctime(),
            m.ctime_nsec(),
            m.dev(),
            m.ino()
        ))
    }
    #[cfg(not(unix))]
    {
        let t = m.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?;
        Some(format!("{} {}", m.len(), t.as_nanos()))
    }
}

/// Best-effort removal of a bad entry: the snapshot entry, its blob (only if the blob is
/// in this repo's `blobs/`), hf-hub's lock file, and any folders and ref left empty.
pub(super) fn evict(layout: &Layout, path: &Path) {
    let blobs = fs::canonicalize(layout.blobs()).ok();
    let is_link = fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if let Some(blob) = fs::canonicalize(path).ok().filter(|b| is_link && b.parent() == blobs.as_deref()) {
        let _ = fs::remove_file(blob.with_extension("lock"));
        let _ = fs::remove_file(&blob);
    }
    for p in [path, &layout.snapshot] {
        if fs::symlink_metadata(p).is_ok() {
            if let Err(e) = fs::remove_file(p) {
                tracing::warn!("{}: could not remove: {e}", p.display());
            }
        }
    }
    if let Ok(rd) = fs::read_dir(&layout.repo_dir) {
        for e in rd.flatten().filter(|e| e.file_name().to_string_lossy().starts_with(".precis-verified-")) {
            let _ = fs::remove_file(e.path());
        }
    }
    let snapshots = layout.repo_dir.join("snapshots");
    for p in [path, &layout.snapshot] {
        let mut dir = p.parent();
        while let Some(d) = dir.filter(|d| d.starts_with(&snapshots) && *d != snapshots) {
            if fs::remove_dir(d).is_err() {
                break;
            }
            if d.parent() == Some(&snapshots) {
                let rev = d.file_name().unwrap_or_default();
                let _ = fs::remove_file(layout.repo_dir.join("refs").join(rev));
            }
            dir = d.parent();
        }
    }
    tidy(layout);
}

/// Removes the repo's folders that are empty, so a failed fetch leaves no husk that
/// Python's `scan-cache` would report as corrupted.
pub(super) fn tidy(layout: &Layout) {
    for d in ["snapshots", "refs", "blobs", ""] {
        let _ = fs::remove_dir(layout.repo_dir.join(d));
    }
}

/// Turns a checked plain file at the snapshot path (put there by hand) into a blob and
/// a link, so the next run need not hash it.
pub(super) fn adopt(layout: &Layout, sha: &str) {
    let plain = fs::symlink_metadata(&layout.snapshot).is_ok_and(|m| m.is_file());
    let blob = layout.blobs().join(sha.to_ascii_lowercase());
    if !plain || fs::create_dir_all(layout.blobs()).is_err() || blob.exists() {
        return;
    }
    if fs::rename(&layout.snapshot, &blob).is_ok() && link_snapshot(layout, &blob).is_err() {
        let _ = fs::rename(&blob, &layout.snapshot);
    }
}

/// Points the card's snapshot entry at `blob` with a relative symlink, atomically.
pub(super) fn link_snapshot(layout: &Layout, blob: &Path) -> Result<()> {
    let link = &layout.snapshot;
    let dir = link.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let name = link.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{name}.precis-{}", std::process::id()));
    let _ = fs::remove_file(&tmp);
    #[cfg(unix)]
    let made = std::os::unix::fs::symlink(layout.up.join("blobs").join(blob.file_name().unwrap_or_default()), &tmp);
    #[cfg(not(unix))]
    let made = fs::hard_link(blob, &tmp).or_else(|_| fs::copy(blob, &tmp).map(drop));
    made.and_then(|()| fs::rename(&tmp, link)).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::io(link, e)
    })
}

/// A temporary file in `dir` (created if needed) for an atomic write, with the mode of an
/// ordinary new file (0666 less the umask, as huggingface_hub leaves blobs), not
/// tempfile's private 0600, so that a shared cache stays readable. An interrupted run
/// removes it.
pub(super) fn new_temp(dir: &Path) -> Result<tempfile::NamedTempFile> {
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut b = tempfile::Builder::new();
    b.prefix(".precis-").suffix(".incomplete");
    #[cfg(unix)]
    b.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let tmp = b.tempfile_in(dir).map_err(|e| Error::io(dir, e))?;
    // Removed if the run is interrupted (a path already renamed away is simply gone).
    crate::interrupt::temp_created(tmp.path());
    Ok(tmp)
}

/// Writes `refs/REVISION` (what hf-hub writes too, so its `Cache::get` finds the file).
pub(super) fn write_ref(layout: &Layout, revision: &str) -> Result<()> {
    let path = layout.repo_dir.join("refs").join(revision);
    let mut tmp = new_temp(&layout.repo_dir.join("refs"))?;
    tmp.write_all(revision.as_bytes()).map_err(|e| Error::io(&path, e))?;
    tmp.persist(&path).map_err(|e| Error::io(&path, e.error))?;
    Ok(())
}

pub(super) fn short(rev: &str) -> &str {
    rev.get(..8).unwrap_or(rev)
}
