//! What a batch keeps in its output folder: an advisory lock (one batch writes to an OUT
//! at a time), the resume journal, and this run's manifest.
//!
//! - `OUT/.precis.lock`: held (flock) for the whole run; a second batch is told so.
//! - `OUT/.precis-resume.jsonl`: for every output written, the input's sha256, the
//!   settings and the output's own sha256; a rerun skips an output whose three still
//!   match, in every format. Appended and synced right after each output.
//! - `OUT/manifest.jsonl`: one line per document of this run, appended and synced right
//!   after the document's output, so that the two agree after any stop.
//!
//! Must not read documents or run models.

use crate::atomic;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

const LOCK: &str = ".precis.lock";
const JOURNAL: &str = ".precis-resume.jsonl";
pub(crate) const MANIFEST: &str = "manifest.jsonl";

/// One journal line: what made the output at `output` (relative to OUT).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Entry {
    output: String,
    sha256: String,
    settings: String,
    output_sha256: String,
}

/// An output folder opened by a batch: locked, its journal read, a fresh manifest begun.
pub(crate) struct OutDir {
    dir: PathBuf,
    journal: HashMap<String, Entry>,
    journal_file: File,
    manifest: File,
    manifest_path: PathBuf,
    _lock: File,
}

impl OutDir {
    /// Locks `dir` (creating it), reads its journal, and starts this run's manifest. A
    /// shard (`shard` = `K-of-N`) takes its own lock and manifest, so that the shards of a
    /// job array can share one folder.
    pub(crate) fn open(dir: &Path, shard: Option<&str>) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let lock_path = match shard {
            Some(k) => dir.join(format!("{LOCK}.{k}")),
            None => dir.join(LOCK),
        };
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Error::io(&lock_path, e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(Error::input(
                    dir,
                    format!(
                        "another precis batch is writing to this folder ({} is locked); wait for it to finish, or choose another --out",
                        lock_path.display()
                    ),
                ))
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(Error::io(&lock_path, e)),
        }
        let journal_path = dir.join(JOURNAL);
        let (journal, lines) = read_journal(&journal_path);
        // Keep the journal small: rewrite it when most of its lines are superseded.
        if lines > 2 * journal.len() + 64 {
            let mut text = String::new();
            for e in journal.values() {
                text += &serde_json::to_string(e).unwrap_or_default();
                text.push('\n');
            }
            atomic::write(&journal_path, text.as_bytes())?;
        }
        let journal_file = append(&journal_path)?;
        let manifest_path = match shard {
            Some(k) => dir.join(format!("manifest.{k}.jsonl")),
            None => dir.join(MANIFEST),
        };
        atomic::write(&manifest_path, b"")?;
        let manifest = append(&manifest_path)?;
        Ok(OutDir { dir: dir.to_path_buf(), journal, journal_file, manifest, manifest_path, _lock: lock })
    }

    /// Whether the output at `out` was made from input bytes `sha256` with `settings`, and
    /// is still as it was written.
    pub(crate) fn up_to_date(&self, out: &Path, sha256: &str, settings: &str) -> bool {
        let Some(e) = self.journal.get(&self.key(out)) else { return false };
        if e.sha256 != sha256 || e.settings != settings {
            return false;
        }
        std::fs::read(out).is_ok_and(|bytes| hex::encode(Sha256::digest(&bytes)) == e.output_sha256)
    }

    /// Records that `out` now holds `bytes`, made from `sha256` with `settings` (appended
    /// and synced).
    pub(crate) fn record(&mut self, out: &Path, sha256: &str, settings: &str, bytes: &[u8]) -> Result<()> {
        let e = Entry {
            output: self.key(out),
            sha256: sha256.to_string(),
            settings: settings.to_string(),
            output_sha256: hex::encode(Sha256::digest(bytes)),
        };
        let line = serde_json::to_string(&e).unwrap_or_default() + "\n";
        let path = self.dir.join(JOURNAL);
        write_synced(&mut self.journal_file, &path, line.as_bytes())?;
        self.journal.insert(e.output.clone(), e);
        Ok(())
    }

    /// Appends one manifest line (synced).
    pub(crate) fn manifest_line(&mut self, line: &impl Serialize) -> Result<()> {
        let text = serde_json::to_string(line).unwrap_or_default() + "\n";
        write_synced(&mut self.manifest, &self.manifest_path, text.as_bytes())
    }

    fn key(&self, out: &Path) -> String {
        out.strip_prefix(&self.dir).unwrap_or(out).to_string_lossy().into_owned()
    }
}

fn append(path: &Path) -> Result<File> {
    OpenOptions::new().create(true).append(true).open(path).map_err(|e| Error::io(path, e))
}

fn write_synced(f: &mut File, path: &Path, bytes: &[u8]) -> Result<()> {
    f.write_all(bytes).and_then(|()| f.sync_data()).map_err(|e| Error::io(path, e))
}

/// The journal's entries (the last line for an output wins; a torn or foreign line is
/// skipped), and how many lines it had.
fn read_journal(path: &Path) -> (HashMap<String, Entry>, usize) {
    let mut map = HashMap::new();
    let Ok(text) = std::fs::read_to_string(path) else { return (map, 0) };
    let mut lines = 0;
    for l in text.lines() {
        lines += 1;
        if let Ok(e) = serde_json::from_str::<Entry>(l) {
            map.insert(e.output.clone(), e);
        }
    }
    (map, lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_survives_reopen_and_detects_edits() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("a.md");
        {
            let mut o = OutDir::open(dir.path(), None).unwrap();
            assert!(!o.up_to_date(&out, "s", "k"));
            std::fs::write(&out, "summary").unwrap();
            o.record(&out, "s", "k", b"summary").unwrap();
            o.manifest_line(&serde_json::json!({"path": "a.txt"})).unwrap();
            assert!(o.up_to_date(&out, "s", "k"));
            // A second batch on the same folder is refused while this one holds it.
            let err = OutDir::open(dir.path(), None).err().unwrap().to_string();
            assert!(err.contains("another precis batch"), "{err}");
        }
        let o = OutDir::open(dir.path(), None).unwrap();
        assert!(o.up_to_date(&out, "s", "k"));
        assert!(!o.up_to_date(&out, "s2", "k"));
        assert!(!o.up_to_date(&out, "s", "k2"));
        std::fs::write(&out, "edited").unwrap();
        assert!(!o.up_to_date(&out, "s", "k"));
        assert_eq!(std::fs::read_to_string(dir.path().join(MANIFEST)).unwrap(), "", "a fresh manifest per run");
    }
}
