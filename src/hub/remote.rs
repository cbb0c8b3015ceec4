//! The hub: a TCP pre-flight, then hf-hub's sync client into the cache.

use super::cache::{link_snapshot, verify, Layout};
use super::FetchOptions;
use crate::error::{Error, Result};
use crate::registry::ModelCard;
use hf_hub::api::sync::{ApiBuilder, ApiError};
use hf_hub::{Cache, Repo, RepoType};
use std::fs;
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;

/// Downloads through hf-hub into the cache and checks the file. `Ok(Err(why))` is a hub
/// failure the mirror may make up for; `Err` (a bad checksum, a busy lock) is final.
pub(super) fn fetch_hub(
    card: &ModelCard,
    layout: &Layout,
    opts: &FetchOptions,
) -> Result<std::result::Result<PathBuf, String>> {
    let f = &card.file;
    if let Err(why) = preflight(opts) {
        return Ok(Err(why));
    }
    let api = ApiBuilder::from_cache(Cache::new(opts.cache_dir.clone()))
        .with_endpoint(opts.endpoint.clone())
        .with_token(opts.token.clone())
        .with_progress(opts.progress)
        .with_retries(2)
        .with_user_agent("precis", env!("CARGO_PKG_VERSION"))
        .build();
    let api = match api {
        Ok(api) => api,
        Err(e) => return Ok(Err(format!("hub client for {}: {e}", opts.endpoint))),
    };
    let repo = api.repo(Repo::with_revision(f.repo.clone(), RepoType::Model, f.revision.clone()));
    let url = repo.url(&f.name);
    tracing::info!("downloading {url} ({} bytes)", f.size);
    let got = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| repo.download(&f.name)));
    let pointer = match got {
        Ok(Ok(p)) => p,
        Ok(Err(ApiError::LockAcquisition(lock))) => {
            return Err(Error::Fetch(format!(
                "{}: another process is downloading {url}; try again when it is done",
                lock.display()
            )))
        }
        Ok(Err(e)) => {
            let detail = one_line(&e.to_string()).replace(&format!("{url}: "), "");
            let mut why = format!("hub download of {url} failed: {detail}");
            if why.contains("status code 401") || why.contains("status code 403") {
                why += " (a gated or private repo needs HF_TOKEN)";
            }
            return Ok(Err(why));
        }
        Err(_) => return Ok(Err(format!("hub download of {url} failed: hf-hub panicked"))),
    };
    if let Ok(blob) = fs::canonicalize(&pointer) {
        let _ = fs::remove_file(blob.with_extension("lock"));
    }
    verify(card, layout, &pointer, true)?;
    if pointer != layout.snapshot {
        // The hub answered with another commit than the pinned one: link ours too.
        let blob = fs::canonicalize(&pointer).map_err(|e| Error::io(&pointer, e))?;
        link_snapshot(layout, &blob)?;
    }
    Ok(Ok(layout.snapshot.clone()))
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A quick TCP connect to the hub (or to the proxy ureq will use), so an unreachable
/// hub costs `connect_timeout`, not ureq's 30 s per request.
fn preflight(opts: &FetchOptions) -> std::result::Result<(), String> {
    let endpoint = &opts.endpoint;
    let (host, port, via) = match proxy_from_env() {
        Some((h, p)) => (h.clone(), p, format!(" through proxy {h}:{p}")),
        None => {
            let (h, p) = host_port(endpoint).ok_or_else(|| format!("hub endpoint {endpoint}: not an http(s) URL"))?;
            (h, p, String::new())
        }
    };
    let t = opts.connect_timeout;
    let unreachable = |e: String| format!("hub {endpoint} unreachable{via} ({e}, timeout {:.1} s)", t.as_secs_f32());
    // Name lookup has no timeout in std: run it in a thread and stop waiting after `t`.
    let (tx, rx) = std::sync::mpsc::channel();
    let target = (host.clone(), port);
    std::thread::spawn(move || {
        let _ = tx.send(target.to_socket_addrs().map(|a| a.collect::<Vec<_>>()));
    });
    let addrs = match rx.recv_timeout(t) {
        Ok(Ok(a)) if !a.is_empty() => a,
        Ok(Ok(_)) => return Err(unreachable(format!("{host}: no address"))),
        Ok(Err(e)) => return Err(unreachable(format!("{host}: {e}"))),
        Err(_) => return Err(unreachable(format!("{host}: name lookup timed out"))),
    };
    let mut last = String::new();
    for addr in addrs.iter().take(3) {
        match TcpStream::connect_timeout(addr, t) {
            Ok(_) => return Ok(()),
            Err(e) => last = format!("{addr}: {e}"),
        }
    }
    Err(unreachable(last))
}

/// `(host, port)` of an `http://` or `https://` URL.
fn host_port(url: &str) -> Option<(String, u16)> {
    let (rest, default) =
        if let Some(r) = url.strip_prefix("https://") { (r, 443) } else { (url.strip_prefix("http://")?, 80) };
    authority(rest, default)
}

/// `[user@]host[:port][/…]` → `(host, port)`.
fn authority(s: &str, default: u16) -> Option<(String, u16)> {
    let s = s.split(['/', '?', '#']).next()?;
    let s = s.rsplit_once('@').map_or(s, |(_, h)| h);
    let (host, port) = match s.strip_prefix('[') {
        Some(v6) => {
            let (h, p) = v6.split_once(']')?;
            (h, p.strip_prefix(':'))
        }
        None => match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        },
    };
    let port = match port {
        Some(p) => p.parse().ok()?,
        None => default,
    };
    (!host.is_empty()).then(|| (host.to_string(), port))
}

/// The proxy ureq 2 picks from the environment (same variables, same order, same rules).
fn proxy_from_env() -> Option<(String, u16)> {
    ["ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"].iter().find_map(|k| {
        let v = std::env::var(k).ok()?;
        let v = v.trim_end_matches('/');
        let (rest, default) = match v.split_once("://") {
            Some(("http", r)) => (r, 80),
            Some(("socks4" | "socks4a" | "socks" | "socks5", r)) => (r, 1080),
            Some(_) => return None,
            None => (v, 80),
        };
        authority(rest, default)
    })
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_host_and_port() {
        assert_eq!(host_port("https://huggingface.co"), Some(("huggingface.co".into(), 443)));
        assert_eq!(host_port("http://127.0.0.1:8080/x"), Some(("127.0.0.1".into(), 8080)));
        assert_eq!(host_port("http://u:p@[::1]:9/"), Some(("::1".into(), 9)));
        assert_eq!(host_port("ftp://x"), None);
        assert_eq!(host_port("http://:80"), None);
    }
}
