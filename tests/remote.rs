//! The remote backend (`--backend openai`) against a loopback server written here that
//! answers like an OpenAI-compatible server: a full summary, retries on 429/5xx and
//! dropped connections, timeouts, malformed and truncated JSON, a server that closes
//! mid-reply, the truncation warning, reply order with `--parallel`, and the one-line
//! errors for an unreachable server or a model it does not serve. Loopback only.

use assert_cmd::Command;
use precis::engine::remote::client::ClientOptions;
use precis::engine::remote::{RemoteEngine, RemoteOptions, Tokens};
use precis::engine::{ChatPrompt, Engine, GenParams};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ARTICLE: &str = "Harbour officials in the town of Velmora approved a plan to dredge the old port on Monday. \
The plan costs 40 million euros and will take three years. Mayor Ilse Marchetti said the work would let larger ferries dock. \
Fishermen worry that the dredging will disturb the breeding grounds of local cod.\n\n\
The council will publish monthly progress reports. Environmental groups asked for an independent audit of the project. \
Work is expected to begin next spring, once the permits are signed.\n";

/// One request the server saw.
#[derive(Debug, Clone)]
struct Hit {
    method: String,
    path: String,
    /// The Authorization header, if any.
    auth: Option<String>,
    body: Value,
}

/// What the server does with one chat request.
enum Act {
    Reply(u16, String),
    /// Headers and these bytes, then close (a body cut short).
    Raw(String),
    /// Close without a word.
    Close,
    /// Wait, then reply.
    Slow(Duration, String),
}

type Handler = Arc<dyn Fn(usize, &Value) -> Act + Send + Sync>;

struct Server {
    addr: SocketAddr,
    hits: Arc<Mutex<Vec<Hit>>>,
    stop: Arc<AtomicBool>,
    in_flight: Arc<AtomicUsize>,
    max_in_flight: Arc<AtomicUsize>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

#[derive(Clone, Default)]
struct Routes {
    /// Whether `/tokenize` answers (one token per word), else 404.
    tokenize: bool,
    /// `usage.prompt_tokens` in replies; `None`: one per character of the messages, plus 20.
    prompt_tokens: Option<usize>,
}

impl Server {
    fn start(routes: Routes, chat: Handler) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let s = Server {
            addr,
            hits: Arc::default(),
            stop: Arc::default(),
            in_flight: Arc::default(),
            max_in_flight: Arc::default(),
        };
        let (hits, stop, inf, maxf) = (s.hits.clone(), s.stop.clone(), s.in_flight.clone(), s.max_in_flight.clone());
        let chats = Arc::new(AtomicUsize::new(0));
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (hits, chat, routes, chats) = (hits.clone(), chat.clone(), routes.clone(), chats.clone());
                        let (inf, maxf) = (inf.clone(), maxf.clone());
                        std::thread::spawn(move || serve(stream, &hits, &chat, &routes, &chats, &inf, &maxf));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        s
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn chat_hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().iter().filter(|h| h.path == "/v1/chat/completions").cloned().collect()
    }
}

fn serve(
    stream: TcpStream,
    hits: &Mutex<Vec<Hit>>,
    chat: &Handler,
    routes: &Routes,
    chats: &AtomicUsize,
    inf: &AtomicUsize,
    maxf: &AtomicUsize,
) {
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut r = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if r.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or("").to_string(), parts.next().unwrap_or("").to_string());
    let mut len = 0;
    let mut auth = None;
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
            break;
        }
        if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        }
        if h.to_ascii_lowercase().starts_with("authorization:") {
            auth = Some(h["authorization:".len()..].trim().to_string());
        }
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body).unwrap();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    hits.lock().unwrap().push(Hit { method: method.clone(), path: path.clone(), auth, body: body.clone() });
    let mut w = stream;
    let act = match (method.as_str(), path.as_str()) {
        ("GET", "/v1/models") => Act::Reply(200, json!({"object": "list", "data": [{"id": "fake-model"}]}).to_string()),
        ("POST", "/tokenize") if routes.tokenize => {
            let n = body["content"].as_str().unwrap_or("").split_whitespace().count();
            Act::Reply(200, json!({ "tokens": vec![1; n] }).to_string())
        }
        ("POST", "/v1/chat/completions") => {
            let now = inf.fetch_add(1, Ordering::SeqCst) + 1;
            maxf.fetch_max(now, Ordering::SeqCst);
            let nth = chats.fetch_add(1, Ordering::SeqCst);
            let mut act = chat(nth, &body);
            if let Act::Reply(200, text) = &act {
                if let Ok(mut v) = serde_json::from_str::<Value>(text) {
                    // Fill in usage the way a server would.
                    if v.get("choices").is_some() && v.get("usage").is_none() {
                        // One token per character, as the fake card's tokenizer counts.
                        let chars: usize = body["messages"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|m| m["content"].as_str().unwrap().chars().count())
                            .sum();
                        let prompt_tokens = routes.prompt_tokens.unwrap_or(chars + 20);
                        v["usage"] = json!({"prompt_tokens": prompt_tokens, "completion_tokens": 9});
                        act = Act::Reply(200, v.to_string());
                    }
                }
            }
            if let Act::Slow(d, text) = act {
                std::thread::sleep(d);
                act = Act::Reply(200, text);
            }
            inf.fetch_sub(1, Ordering::SeqCst);
            act
        }
        _ => Act::Reply(404, json!({"error": {"message": "not found"}}).to_string()),
    };
    let _ = match act {
        Act::Reply(code, text) => write!(
            w,
            "HTTP/1.1 {code} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
            text.len()
        ),
        Act::Raw(partial) => write!(
            w,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{partial}",
            partial.len() + 100
        ),
        Act::Close | Act::Slow(..) => Ok(()),
    };
}

/// A completion with `content`.
fn completion(content: &str) -> String {
    json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]})
        .to_string()
}

/// Replies as a small model might: map prompts (an assistant prefix "1.") get the first
/// sentences of the chunk, numbered; other prompts get the first sentence.
fn plausible(body: &Value) -> String {
    let msgs = body["messages"].as_array().unwrap();
    let user = msgs.iter().rev().find(|m| m["role"] == "user").unwrap()["content"].as_str().unwrap();
    let text = user.rsplit("\n\n").find(|b| b.split_whitespace().count() > 3).unwrap_or(user);
    let sentences: Vec<&str> = text.split_inclusive(". ").map(str::trim).filter(|s| s.len() > 20).collect();
    if msgs.last().unwrap()["role"] == "assistant" {
        let list: Vec<String> = sentences.iter().take(3).enumerate().map(|(i, s)| format!("{}. {s}", i + 1)).collect();
        completion(&(list.join("\n") + "\n"))
    } else {
        completion(sentences.first().copied().unwrap_or("Velmora port plan"))
    }
}

fn precis() -> Command {
    let mut c = Command::cargo_bin("precis").unwrap();
    c.env_remove("HF_HUB_OFFLINE")
        .env_remove("PRECIS_BASE_URL")
        .env_remove("OPENAI_API_KEY")
        .env("XDG_CACHE_HOME", std::env::temp_dir().join("precis-remote-tests"))
        .timeout(Duration::from_secs(60));
    c
}

fn article(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("a.txt");
    std::fs::write(&p, ARTICLE).unwrap();
    p
}

/// `precis generate` through the server (one chat), returning (success, stderr, seconds).
fn generate(server: &Server, extra: &[&str]) -> (bool, String, f64) {
    let t = Instant::now();
    let out = precis()
        .args(["generate", "Say hello to the harbour of Velmora please.", "--backend", "openai", "--model", "fake"])
        .args(["--base-url", &server.url()])
        .args(extra)
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned(), t.elapsed().as_secs_f64())
}

fn one_line_error(stderr: &str) -> &str {
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("precis: error")).collect();
    assert_eq!(lines.len(), 1, "expected one error line: {stderr}");
    lines[0]
}

#[test]
fn full_summary_through_the_server_matches_the_local_chunk_plan() {
    let server = Server::start(Routes::default(), Arc::new(|_, b| Act::Reply(200, plausible(b))));
    let dir = tempfile::tempdir().unwrap();
    let f = article(dir.path());
    let args = ["summarize", "--model", "fake", "--chunk-tokens", "200"];
    let out =
        precis().args(args).args(["--backend", "openai", "--base-url"]).arg(server.url()).arg(&f).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["model"]["id"], "fake-model");
    let points = v["key_points"].as_array().unwrap();
    assert!(points.len() >= 2, "{v}");
    for p in points {
        let text = p["text"].as_str().unwrap();
        let words: Vec<&str> = text.split_whitespace().take(4).collect();
        assert!(ARTICLE.contains(&words.join(" ")), "point not from the article: {text}");
    }
    // The same chunks as the local fake engine (the card's tokenizer counts, not the server).
    let local = precis().args(args).arg(&f).output().unwrap();
    let lv: Value = serde_json::from_slice(&local.stdout).unwrap();
    assert_eq!(v["chunks"], lv["chunks"]);
    let hits = server.chat_hits();
    assert_eq!(hits.len() as u64, v["stats"]["model_calls"].as_u64().unwrap());
    assert!(server.hits.lock().unwrap().iter().all(|h| h.path != "/tokenize"), "counted locally");
    assert!(!hits.is_empty());
    for h in &hits {
        assert_eq!(h.method, "POST");
        assert_eq!(h.body["model"], "fake-model");
        assert_eq!(h.body["temperature"], 0.0, "greedy sends temperature 0");
        assert_eq!(h.body["seed"], 299792458u64);
        assert!(h.body["max_tokens"].as_u64().unwrap() > 0);
    }
}

#[test]
fn server_tokenize_is_used_without_a_card_and_an_estimate_without_tokenize() {
    for tokenize in [true, false] {
        let server =
            Server::start(Routes { tokenize, ..Default::default() }, Arc::new(|_, b| Act::Reply(200, plausible(b))));
        let dir = tempfile::tempdir().unwrap();
        let f = article(dir.path());
        let out = precis()
            .args(["summarize", "--backend", "openai", "--base-url"])
            .arg(server.url())
            .arg(&f)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let tokens = v["source"]["tokens"].as_u64().unwrap() as usize;
        let words = ARTICLE.split_whitespace().count();
        if tokenize {
            // The loopback server's tokenizer gives one token per word.
            assert_eq!(tokens, words);
        } else {
            // The estimate: a token per three bytes, more than the words.
            assert!(tokens > words && tokens >= ARTICLE.len() / 3, "{tokens}");
        }
        let tokenized = server.hits.lock().unwrap().iter().filter(|h| h.path == "/tokenize").count();
        assert!(if tokenize { tokenized > 1 } else { tokenized == 1 }, "{tokenized} /tokenize calls");
    }
}

#[test]
fn retries_429_5xx_and_dropped_connections_then_succeeds() {
    let server = Server::start(
        Routes::default(),
        Arc::new(|n, _| match n {
            0 => Act::Reply(429, json!({"error": {"message": "slots busy"}}).to_string()),
            1 => Act::Reply(503, "overloaded".into()),
            2 => Act::Close,
            3 => Act::Raw("{\"choices\": [{\"message\"".into()),
            _ => Act::Reply(200, completion("Hello, Velmora.")),
        }),
    );
    let (ok, stderr, secs) = generate(&server, &["--retries", "4"]);
    assert!(ok, "{stderr}");
    assert_eq!(server.chat_hits().len(), 5);
    assert!(stderr.contains("HTTP 429") && stderr.contains("HTTP 503") && stderr.contains("retrying"), "{stderr}");
    // Backoff 0.5 + 1 + 2 + 4 s.
    assert!((7.0..30.0).contains(&secs), "{secs} s");
}

#[test]
fn gives_up_after_the_retries_with_one_line() {
    let server = Server::start(Routes::default(), Arc::new(|_, _| Act::Reply(500, "boom".into())));
    let (ok, stderr, _) = generate(&server, &["--retries", "1"]);
    assert!(!ok);
    let line = one_line_error(&stderr);
    assert!(line.contains("/v1/chat/completions: HTTP 500: boom (after 2 tries)"), "{line}");
    assert_eq!(server.chat_hits().len(), 2);
}

#[test]
fn a_server_that_does_not_answer_times_out() {
    let server =
        Server::start(Routes::default(), Arc::new(|_, _| Act::Slow(Duration::from_secs(8), completion("late"))));
    let (ok, stderr, secs) = generate(&server, &["--timeout", "1", "--retries", "3"]);
    assert!(!ok);
    assert!(one_line_error(&stderr).contains("no reply within 1 s"), "{stderr}");
    assert!(secs < 6.0, "a timeout is not retried: {secs} s");
}

#[test]
fn malformed_json_is_one_line_and_not_retried() {
    let server = Server::start(Routes::default(), Arc::new(|_, _| Act::Reply(200, "{\"choices\": [oops]}".into())));
    let (ok, stderr, _) = generate(&server, &["--retries", "3"]);
    assert!(!ok);
    assert!(one_line_error(&stderr).contains("malformed JSON in the reply"), "{stderr}");
    assert_eq!(server.chat_hits().len(), 1);

    // JSON that is well formed but no completion.
    let server = Server::start(Routes::default(), Arc::new(|_, _| Act::Reply(200, "{\"choices\": []}".into())));
    let (ok, stderr, _) = generate(&server, &[]);
    assert!(!ok);
    assert!(one_line_error(&stderr).contains("no choices[0]"), "{stderr}");
}

#[test]
fn truncated_replies_and_closed_connections_fail_after_retries() {
    for act in [0, 1, 2] {
        let server = Server::start(
            Routes::default(),
            Arc::new(move |_, _| match act {
                0 => Act::Raw("{\"choices\": [{\"mess".into()),
                1 => Act::Close,
                // The whole body arrives, but the JSON stops mid-way.
                _ => Act::Reply(200, "{\"choices\": [{\"message\": {\"content\": \"1. Hal".into()),
            }),
        );
        let (ok, stderr, _) = generate(&server, &["--retries", "1"]);
        assert!(!ok, "case {act}");
        let line = one_line_error(&stderr);
        assert!(line.contains("(after 2 tries)"), "case {act}: {line}");
        assert!(
            line.contains("cut short") || line.contains("connection dropped") || line.contains("mid-JSON"),
            "case {act}: {line}"
        );
        assert_eq!(server.chat_hits().len(), 2, "case {act}");
    }
}

#[test]
fn a_cut_prompt_is_warned_about() {
    let server = Server::start(
        Routes { prompt_tokens: Some(5), ..Default::default() },
        Arc::new(|_, b| Act::Reply(200, plausible(b))),
    );
    let dir = tempfile::tempdir().unwrap();
    let f = article(dir.path());
    let out = precis()
        .args(["summarize", "--model", "fake", "--backend", "openai", "--base-url"])
        .arg(server.url())
        .arg(&f)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("cut the prompt")).collect();
    assert_eq!(warnings.len(), 1, "warned once: {stderr}");
    assert!(warnings[0].contains("read 5 prompt tokens"), "{stderr}");

    // An honest server: no warning.
    let server = Server::start(Routes::default(), Arc::new(|_, b| Act::Reply(200, plausible(b))));
    let out = precis()
        .args(["summarize", "--model", "fake", "--backend", "openai", "--base-url"])
        .arg(server.url())
        .arg(&f)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("cut the prompt"));
}

fn engine(server: &Server, parallel: usize) -> RemoteEngine {
    let opts = RemoteOptions {
        client: ClientOptions {
            root: server.url(),
            api_key: Some("sk-test".into()),
            connect_timeout: Duration::from_secs(2),
            read_timeout: Duration::from_secs(10),
            retries: 0,
            backoff: Duration::from_millis(10),
        },
        model: None,
        parallel,
    };
    RemoteEngine::open(&opts, Tokens::Chars).unwrap()
}

#[test]
fn replies_keep_chat_order_with_parallel_requests() {
    // Later chats answer sooner, so replies arrive in reverse.
    let server = Server::start(
        Routes::default(),
        Arc::new(|_, b| {
            let n: u64 = b["messages"][0]["content"].as_str().unwrap().trim_start_matches("chat ").parse().unwrap();
            Act::Slow(Duration::from_millis(40 * (10 - n)), completion(&format!("reply {n}")))
        }),
    );
    let mut eng = engine(&server, 4);
    let chats: Vec<ChatPrompt> = (0..10).map(|i| ChatPrompt::user(format!("chat {i}"))).collect();
    let params = GenParams::default();
    let jobs: Vec<(&ChatPrompt, &GenParams)> = chats.iter().map(|c| (c, &params)).collect();
    let gens = eng.generate_chats(&jobs).unwrap();
    let texts: Vec<&str> = gens.iter().map(|g| g.text.as_str()).collect();
    let want: Vec<String> = (0..10).map(|i| format!("reply {i}")).collect();
    assert_eq!(texts, want);
    assert_eq!(server.max_in_flight.load(Ordering::SeqCst), 4, "four requests in flight");
    let hits = server.chat_hits();
    assert!(hits.iter().all(|h| h.body["model"] == "fake-model"));

    // One at a time with --parallel 1.
    let server1 = Server::start(Routes::default(), Arc::new(|_, _| Act::Reply(200, completion("x"))));
    let mut eng = engine(&server1, 1);
    assert_eq!(eng.generate_chats(&jobs[..5]).unwrap().len(), 5);
    assert_eq!(server1.max_in_flight.load(Ordering::SeqCst), 1);
}

#[test]
fn the_first_error_in_chat_order_is_returned() {
    let server = Server::start(
        Routes::default(),
        Arc::new(|_, b| {
            if b["messages"][0]["content"] == "chat 2" {
                Act::Reply(200, "{bad".into())
            } else {
                Act::Reply(200, completion("fine"))
            }
        }),
    );
    let mut eng = engine(&server, 3);
    let chats: Vec<ChatPrompt> = (0..4).map(|i| ChatPrompt::user(format!("chat {i}"))).collect();
    let params = GenParams::default();
    let jobs: Vec<(&ChatPrompt, &GenParams)> = chats.iter().map(|c| (c, &params)).collect();
    let e = eng.generate_chats(&jobs).unwrap_err().to_string();
    assert!(e.contains("malformed JSON"), "{e}");
}

#[test]
fn unreachable_server_and_unknown_model_are_one_line_errors() {
    // A port with nothing behind it.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let t = Instant::now();
    let out = precis()
        .args(["generate", "hi", "--backend", "openai", "--base-url", &format!("http://127.0.0.1:{port}/v1")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(one_line_error(&stderr).contains(&format!("127.0.0.1:{port}/v1/models: cannot connect")), "{stderr}");
    assert!(t.elapsed() < Duration::from_secs(5), "no retries at start-up");

    let server = Server::start(Routes::default(), Arc::new(|_, _| Act::Reply(200, completion("x"))));
    let (ok, stderr, _) = generate(&server, &["--remote-model", "llama-70b"]);
    assert!(!ok);
    assert!(
        one_line_error(&stderr).contains("the server does not serve model \"llama-70b\" (it serves: fake-model)"),
        "{stderr}"
    );
    assert!(server.chat_hits().is_empty());
}

#[test]
fn the_api_key_is_sent_as_a_bearer_token() {
    let server = Server::start(Routes::default(), Arc::new(|_, _| Act::Reply(200, completion("x"))));
    let out = precis()
        .args(["generate", "hi", "--model", "fake", "--backend", "openai", "--api-key-env", "MY_KEY"])
        .env("MY_KEY", "sk-123")
        .env("PRECIS_BASE_URL", server.url())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "x");
    let hits = server.hits.lock().unwrap().clone();
    assert!(!hits.is_empty() && hits.iter().all(|h| h.auth.as_deref() == Some("Bearer sk-123")), "{hits:?}");
}

#[test]
fn remote_usage_errors_exit_2() {
    let out = precis().args(["generate", "hi", "--backend", "openai"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--base-url"));
    for bad in [["ftp://x", "1"], ["http://127.0.0.1:9", "0"]] {
        let out = precis()
            .args(["generate", "hi", "--backend", "openai", "--base-url", bad[0], "--parallel", bad[1]])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}
