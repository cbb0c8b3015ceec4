//! `precis batch --shard K/N` and `--merge`: a deterministic 1/N of a folder's files per
//! job of a job array (Slurm, Kubernetes Indexed Jobs, GNU parallel), each shard with its
//! own manifest, and the merge that joins the shards' manifests and lists what no shard
//! has done.
//!
//! A file belongs to shard `fnv1a64(path relative to DIR, '/'-separated) mod N`: the same
//! on every machine, whatever order the folder lists in.

use crate::atomic;
use crate::error::{Error, Result};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

/// One job's share of a batch: shard `k` (counted from 0) of `n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub k: u32,
    pub n: u32,
}

impl std::str::FromStr for Shard {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = |why: &str| Error::Usage(format!("--shard {s}: {why}"));
        let (k, n) = s.split_once('/').ok_or_else(|| bad("expected K/N, e.g. 0/4"))?;
        let k: u32 = k.trim().parse().map_err(|_| bad("K must be a whole number"))?;
        let n: u32 = n.trim().parse().map_err(|_| bad("N must be a whole number"))?;
        if n == 0 || n > 100_000 {
            return Err(bad("N must be between 1 and 100000"));
        }
        if k >= n {
            return Err(bad("K counts from 0 and must be less than N (e.g. 0/4 … 3/4)"));
        }
        Ok(Shard { k, n })
    }
}

impl Shard {
    /// Whether the file at `rel` (relative to the batch folder) is this shard's.
    pub fn owns(&self, rel: &Path) -> bool {
        shard_of(rel, self.n) == self.k
    }

    /// This shard's manifest: `manifest.K-of-N.jsonl`.
    pub fn manifest_name(&self) -> String {
        format!("manifest.{}-of-{}.jsonl", self.k, self.n)
    }
}

/// The shard of `rel` among `n`.
pub fn shard_of(rel: &Path, n: u32) -> u32 {
    (fnv1a64(portable(rel).as_bytes()) % u64::from(n)) as u32
}

/// `a/b/c.txt` whatever the platform's separator.
fn portable(rel: &Path) -> String {
    rel.components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// 64-bit FNV-1a: small, stable and specified, unlike the standard library's hasher.
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Outcome of a merge.
#[derive(Debug, Default, PartialEq)]
pub struct Merged {
    /// Shard manifests read.
    pub manifests: usize,
    pub done: usize,
    pub failed: Vec<String>,
    /// Files under DIR that no shard manifest lists.
    pub missing: Vec<String>,
}

/// Joins `OUT/manifest.*-of-*.jsonl` into `OUT/manifest.jsonl`, one line per file of
/// `files` (DIR's matching files) in their order. A file done (ok or skipped) by any
/// shard counts as done; one only failed keeps its failure; one no shard lists gets
/// `"status": "missing"`.
pub fn merge(dir: &Path, files: &[PathBuf], out: &Path) -> Result<Merged> {
    let mut manifests: Vec<PathBuf> = match std::fs::read_dir(out) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(is_shard_manifest))
            .collect(),
        Err(e) => return Err(Error::io(out, e)),
    };
    manifests.sort();
    if manifests.is_empty() {
        return Err(Error::Usage(format!(
            "{}: no shard manifests (manifest.K-of-N.jsonl) to merge; run precis batch --shard K/N first",
            out.display()
        )));
    }
    let mut best: HashMap<String, Value> = HashMap::new();
    for m in &manifests {
        let text = std::fs::read_to_string(m).map_err(|e| Error::io(m, e))?;
        for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let v: Value = serde_json::from_str(line)
                .map_err(|e| Error::input(m, format!("line {}: not a manifest line: {e}", i + 1)))?;
            let Some(path) = v["path"].as_str().map(str::to_string) else {
                return Err(Error::input(m, format!("line {}: no \"path\"", i + 1)));
            };
            let better = match best.get(&path) {
                None => true,
                Some(old) => !is_done(old) && is_done(&v),
            };
            if better {
                best.insert(path, v);
            }
        }
    }
    let mut merged = Merged { manifests: manifests.len(), ..Default::default() };
    let mut text = String::new();
    for f in files {
        let rel = f.strip_prefix(dir).unwrap_or(f).display().to_string();
        let line = match best.remove(&rel) {
            Some(v) => {
                if is_done(&v) {
                    merged.done += 1;
                } else {
                    merged.failed.push(rel.clone());
                }
                v
            }
            None => {
                merged.missing.push(rel.clone());
                serde_json::json!({ "path": rel, "output": Value::Null, "status": "missing", "error": Value::Null })
            }
        };
        text += &line.to_string();
        text.push('\n');
    }
    atomic::write(&out.join("manifest.jsonl"), text.as_bytes())?;
    Ok(merged)
}

fn is_done(v: &Value) -> bool {
    matches!(v["status"].as_str(), Some("ok" | "skipped"))
}

/// `manifest.K-of-N.jsonl`.
fn is_shard_manifest(name: &str) -> bool {
    let Some(mid) = name.strip_prefix("manifest.").and_then(|r| r.strip_suffix(".jsonl")) else {
        return false;
    };
    mid.split_once("-of-").is_some_and(|(k, n)| {
        !k.is_empty() && !n.is_empty() && k.bytes().all(|b| b.is_ascii_digit()) && n.bytes().all(|b| b.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(count: usize) -> Vec<PathBuf> {
        (0..count).map(|i| PathBuf::from(format!("dir{}/doc-{i}.txt", i % 7))).collect()
    }

    #[test]
    fn every_file_is_in_exactly_one_shard_for_n_1_to_7() {
        let files = names(500);
        for n in 1..=7u32 {
            let shards: Vec<Shard> = (0..n).map(|k| format!("{k}/{n}").parse().unwrap()).collect();
            let mut sizes = vec![0usize; n as usize];
            for f in &files {
                let owners: Vec<u32> = shards.iter().filter(|s| s.owns(f)).map(|s| s.k).collect();
                assert_eq!(owners.len(), 1, "{} with N={n}: owners {owners:?}", f.display());
                sizes[owners[0] as usize] += 1;
            }
            // Roughly even: no shard gets under half its share.
            let share = files.len() / n as usize;
            assert!(sizes.iter().all(|&s| s * 2 >= share), "N={n}: sizes {sizes:?}");
        }
    }

    #[test]
    fn the_shard_depends_on_the_relative_path_only() {
        // Fixed values: a change of hash would move files between shards of running jobs.
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        let a = shard_of(Path::new("x/y.txt"), 7);
        assert_eq!(shard_of(Path::new("./x/y.txt"), 7), a);
        assert_eq!(shard_of(&Path::new("x").join("y.txt"), 7), a);
    }

    #[test]
    fn bad_shards_are_usage_errors() {
        for bad in ["4/4", "1", "a/2", "0/0", "-1/3"] {
            let e = bad.parse::<Shard>().unwrap_err();
            assert!(matches!(e, Error::Usage(_)), "{bad}");
            assert!(e.to_string().starts_with(&format!("--shard {bad}:")), "{e}");
        }
        assert_eq!("3/4".parse::<Shard>().unwrap(), Shard { k: 3, n: 4 });
        assert_eq!(Shard { k: 2, n: 5 }.manifest_name(), "manifest.2-of-5.jsonl");
    }

    #[test]
    fn shard_manifest_names() {
        assert!(is_shard_manifest("manifest.0-of-4.jsonl"));
        assert!(is_shard_manifest("manifest.12-of-100.jsonl"));
        assert!(!is_shard_manifest("manifest.jsonl"));
        assert!(!is_shard_manifest("manifest.a-of-4.jsonl"));
        assert!(!is_shard_manifest("manifest.0-of-.jsonl"));
    }

    #[test]
    fn merge_joins_shards_and_lists_what_none_did() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("in");
        let out = tmp.path().join("out");
        std::fs::create_dir_all(&out).unwrap();
        let files: Vec<PathBuf> = ["a.txt", "b.txt", "c.txt", "d.txt"].iter().map(|n| dir.join(n)).collect();
        let line = |p: &str, st: &str| {
            format!("{{\"path\":\"{p}\",\"output\":\"{p}.json\",\"status\":\"{st}\",\"error\":null}}\n")
        };
        std::fs::write(out.join("manifest.0-of-2.jsonl"), line("a.txt", "ok") + &line("b.txt", "failed")).unwrap();
        // A rerun of a shard that did b.txt, and an earlier failure of a.txt that must not win.
        std::fs::write(out.join("manifest.1-of-2.jsonl"), line("b.txt", "skipped") + &line("a.txt", "failed")).unwrap();
        std::fs::write(out.join("manifest.0-of-3.jsonl"), line("c.txt", "failed")).unwrap();
        let m = merge(&dir, &files, &out).unwrap();
        assert_eq!(m, Merged { manifests: 3, done: 2, failed: vec!["c.txt".into()], missing: vec!["d.txt".into()] });
        let text = std::fs::read_to_string(out.join("manifest.jsonl")).unwrap();
        let statuses: Vec<String> = text
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["status"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(statuses, ["ok", "skipped", "failed", "missing"]);

        std::fs::write(out.join("manifest.2-of-3.jsonl"), "{not json\n").unwrap();
        let e = merge(&dir, &files, &out).unwrap_err().to_string();
        assert!(e.contains("manifest.2-of-3.jsonl: line 1: not a manifest line"), "{e}");
    }

    #[test]
    fn merge_without_shard_manifests_says_so() {
        let tmp = tempfile::tempdir().unwrap();
        let e = merge(tmp.path(), &[], tmp.path()).unwrap_err().to_string();
        assert!(e.contains("no shard manifests"), "{e}");
    }
}
