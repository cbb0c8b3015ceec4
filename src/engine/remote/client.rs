//! HTTP to an OpenAI-compatible server: the only place engines speak HTTP (ureq). One
//! request with connect and read timeouts, retried with exponential backoff on 429, 5xx
//! and dropped connections (refused, reset, a body cut short); every failure ends as one
//! line naming the URL.

use crate::error::{Error, Result};
use serde_json::Value;
use std::io::Read;
use std::time::Duration;

/// Largest reply body read (a chat completion is a few KB).
const MAX_BODY: u64 = 8 << 20;

/// How to reach the server.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// The server's root (`http://host:port`); `/v1/...` and `/tokenize` hang off it.
    pub root: String,
    pub api_key: Option<String>,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
    /// Further tries after the first, on 429, 5xx and dropped connections.
    pub retries: u32,
    /// Wait before the first retry; doubled for each further one (a server's
    /// `Retry-After` wins when it is longer, up to a minute).
    pub backoff: Duration,
}

/// The server's root from a base URL as users give it (`http://h:8080`, `…/v1`, `…/v1/`).
pub fn root_of(base_url: &str) -> Result<String> {
    let url = base_url.trim().trim_end_matches('/');
    let url = url.strip_suffix("/v1").unwrap_or(url).trim_end_matches('/');
    let rest = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://"));
    match rest {
        Some(host) if !host.is_empty() => Ok(url.to_string()),
        _ => Err(Error::Usage(format!("--base-url {base_url}: expected an http:// or https:// URL"))),
    }
}

/// What went wrong with one try, and whether another may help.
enum Failure {
    /// 429, 5xx, a dropped connection or a body cut short: worth another try.
    Transient(String),
    /// Never better on a retry.
    Final(Error),
}

pub struct Client {
    agent: ureq::Agent,
    opts: ClientOptions,
}

impl Client {
    pub fn new(opts: ClientOptions) -> Self {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(opts.connect_timeout)
            .timeout_read(opts.read_timeout)
            .timeout_write(opts.read_timeout)
            .user_agent(concat!("precis/", env!("CARGO_PKG_VERSION")))
            .build();
        Client { agent, opts }
    }

    pub fn root(&self) -> &str {
        &self.opts.root
    }

    /// `GET path` once (no retries): for probing what the server offers at start-up.
    /// `Ok(None)` when the server answers 404/405 (it lacks the endpoint).
    pub fn get_once(&self, path: &str) -> Result<Option<Value>> {
        let url = format!("{}{path}", self.opts.root);
        let req = self.authorised(self.agent.get(&url));
        match self.attempt(&url, || req.clone().call().map_err(Box::new)) {
            Ok(v) => Ok(Some(v)),
            Err(Failure::Final(Error::Remote { msg, .. }))
                if msg.starts_with("HTTP 404") || msg.starts_with("HTTP 405") =>
            {
                Ok(None)
            }
            Err(Failure::Final(e)) => Err(e),
            Err(Failure::Transient(msg)) => Err(Error::Remote { url, msg }),
        }
    }

    /// `POST path` with a JSON body, retried with backoff on transient failures.
    pub fn post(&self, path: &str, body: &Value) -> Result<Value> {
        let url = format!("{}{path}", self.opts.root);
        let mut wait = self.opts.backoff;
        let mut tries = 0;
        loop {
            let req = self.authorised(self.agent.post(&url));
            match self.attempt(&url, || req.clone().send_json(body).map_err(Box::new)) {
                Ok(v) => return Ok(v),
                Err(Failure::Final(e)) => return Err(e),
                Err(Failure::Transient(msg)) if tries >= self.opts.retries => {
                    let msg = if tries == 0 { msg } else { format!("{msg} (after {} tries)", tries + 1) };
                    return Err(Error::Remote { url, msg });
                }
                Err(Failure::Transient(msg)) => {
                    tracing::warn!("{url}: {msg}; retrying in {:.1} s", wait.as_secs_f64());
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(Duration::from_secs(60));
                    tries += 1;
                }
            }
        }
    }

    fn authorised(&self, req: ureq::Request) -> ureq::Request {
        match &self.opts.api_key {
            Some(k) => req.set("Authorization", &format!("Bearer {k}")),
            None => req,
        }
    }

    /// One request and its JSON body, with the failure classified.
    fn attempt(
        &self,
        url: &str,
        send: impl FnOnce() -> std::result::Result<ureq::Response, Box<ureq::Error>>,
    ) -> std::result::Result<Value, Failure> {
        let remote = |msg: String| Failure::Final(Error::Remote { url: url.to_string(), msg });
        let resp = match send().map_err(|e| *e) {
            Ok(r) => r,
            Err(ureq::Error::Status(code, r)) => {
                let retry_after = r.header("retry-after").and_then(|s| s.trim().parse::<u64>().ok());
                let detail = error_detail(r);
                let msg = format!("HTTP {code}{detail}");
                return Err(match code {
                    429 | 500..=599 => {
                        if let Some(s) = retry_after.filter(|&s| s > 0) {
                            std::thread::sleep(Duration::from_secs(s.min(60)));
                        }
                        Failure::Transient(msg)
                    }
                    401 | 403 => remote(format!("{msg} (set the API key in OPENAI_API_KEY or --api-key-env)")),
                    // A request the server will not take (too long for its context, …):
                    // this document's problem, not the server's.
                    400 | 413 | 422 => {
                        Failure::Final(Error::Engine(format!("{url}: the server rejected the request: {msg}")))
                    }
                    _ => remote(msg),
                });
            }
            Err(ureq::Error::Transport(t)) => {
                let msg = one_line(&t.to_string());
                return Err(match t.kind() {
                    ureq::ErrorKind::ConnectionFailed | ureq::ErrorKind::Dns => {
                        // Refused or unresolvable: retried (a restarting server), then reported.
                        Failure::Transient(format!("cannot connect: {msg}"))
                    }
                    ureq::ErrorKind::Io if is_timeout(&msg) => remote(format!(
                        "no reply within {} s (the read timeout; raise it with --timeout)",
                        self.opts.read_timeout.as_secs()
                    )),
                    ureq::ErrorKind::Io | ureq::ErrorKind::BadStatus | ureq::ErrorKind::BadHeader => {
                        Failure::Transient(format!("connection dropped: {msg}"))
                    }
                    _ => remote(msg),
                });
            }
        };
        let mut body = String::new();
        let read = resp.into_reader().take(MAX_BODY + 1).read_to_string(&mut body);
        match read {
            Err(e) if is_timeout(&e.to_string()) || e.kind() == std::io::ErrorKind::TimedOut => {
                return Err(remote(format!(
                    "the reply stalled for {} s (the read timeout; raise it with --timeout)",
                    self.opts.read_timeout.as_secs()
                )))
            }
            Err(e) => return Err(Failure::Transient(format!("the reply was cut short: {}", one_line(&e.to_string())))),
            Ok(_) if body.len() as u64 > MAX_BODY => return Err(remote(format!("reply larger than {MAX_BODY} bytes"))),
            Ok(_) => {}
        }
        serde_json::from_str(&body).map_err(|e| {
            if e.is_eof() {
                // Valid so far but unfinished: the server stopped mid-reply.
                Failure::Transient(format!("the reply ended mid-JSON ({} bytes)", body.len()))
            } else {
                remote(format!("malformed JSON in the reply: {e}"))
            }
        })
    }
}

fn is_timeout(msg: &str) -> bool {
    let m = msg.to_ascii_lowercase();
    m.contains("timed out") || m.contains("timeout") || m.contains("would block")
}

/// `: <message>` from an error reply's body (OpenAI's `{"error":{"message":…}}`, or text).
fn error_detail(r: ureq::Response) -> String {
    let mut body = String::new();
    let _ = r.into_reader().take(4096).read_to_string(&mut body);
    let v: Option<Value> = serde_json::from_str(&body).ok();
    let msg = v
        .as_ref()
        .and_then(|v| v["error"]["message"].as_str().or(v["error"].as_str()).or(v["message"].as_str()))
        .map(str::to_string)
        .unwrap_or(body);
    let msg = one_line(&msg);
    if msg.is_empty() {
        String::new()
    } else {
        format!(": {}", msg.chars().take(300).collect::<String>())
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_strips_v1_and_slashes() {
        assert_eq!(root_of("http://127.0.0.1:8080").unwrap(), "http://127.0.0.1:8080");
        assert_eq!(root_of("http://127.0.0.1:8080/v1/").unwrap(), "http://127.0.0.1:8080");
        assert_eq!(root_of("https://h/api/v1").unwrap(), "https://h/api");
        assert!(root_of("127.0.0.1:8080").unwrap_err().to_string().contains("--base-url"));
        assert!(root_of("http://").is_err());
    }
}
