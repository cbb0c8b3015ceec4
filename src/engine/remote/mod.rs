//! The remote engine (`--backend openai`): the map, title and tl;dr calls go to the
//! `/v1/chat/completions` of an OpenAI-compatible server (llama-server, vLLM, Ollama,
//! TGI); everything else (chunking, grounding, the merge) stays local. Up to `parallel`
//! requests are in flight; replies come back in the order the chats were given.
//!
//! The files: [`client`] (HTTP, timeouts, retries), [`wire`] (request and reply bodies,
//! stop rules), [`counter`] (token counts).

pub mod client;
pub mod counter;
pub mod wire;

use super::generate::{GenParams, Generation};
use super::{Engine, ModelInfo};
use crate::error::{Error, Result};
use crate::template::ChatPrompt;
use client::{Client, ClientOptions};
use counter::Counter;
use serde_json::Value;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Context assumed when neither the card nor the server says.
const DEFAULT_CONTEXT: usize = 4096;

/// Settings of the remote backend (from `--base-url` and its companions).
#[derive(Debug, Clone)]
pub struct RemoteOptions {
    pub client: ClientOptions,
    /// The served model's name (`--remote-model`); else the card's id when the server
    /// lists it, else the first model the server lists.
    pub model: Option<String>,
    /// Requests in flight at once.
    pub parallel: usize,
}

/// Where token counts come from, decided by the caller (it knows the model card).
pub enum Tokens {
    /// The card's (or file's) tokenizer and context length.
    Local { tokenizer: Box<super::tokenizer::GgufTokenizer>, context: usize, card_id: Option<String> },
    /// One token per character (`--model fake`).
    Chars,
    /// The server's `/tokenize` where it has one, else an estimate.
    FromServer,
}

pub struct RemoteEngine {
    info: ModelInfo,
    client: Arc<Client>,
    counter: Counter,
    model: String,
    parallel: usize,
    /// The truncation warning is given once; later cuts go to the debug log.
    warned: AtomicBool,
}

impl RemoteEngine {
    /// Checks that the server answers and serves the model, and picks the token counter.
    /// An unreachable server is one line, at once (no retries).
    pub fn open(opts: &RemoteOptions, tokens: Tokens) -> Result<Self> {
        let t0 = Instant::now();
        if opts.parallel == 0 || opts.parallel > 256 {
            return Err(Error::Usage(format!("--parallel {}: must be between 1 and 256", opts.parallel)));
        }
        let client = Arc::new(Client::new(opts.client.clone()));
        let listed = client.get_once("/v1/models")?;
        let served: Vec<(String, Option<usize>)> = listed
            .as_ref()
            .and_then(|v| v["data"].as_array().or(v["models"].as_array()))
            .map(|a| {
                a.iter()
                    .filter_map(|m| {
                        let id = m["id"].as_str().or(m["name"].as_str().or(m["model"].as_str()))?;
                        let ctx = m["max_model_len"].as_u64().or(m["meta"]["n_ctx_train"].as_u64());
                        Some((id.to_string(), ctx.map(|c| c as usize)))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let card_id = match &tokens {
            Tokens::Local { card_id, .. } => card_id.clone(),
            _ => None,
        };
        let model = pick_model(opts.model.as_deref(), card_id.as_deref(), &served, client.root())?;
        let server_ctx = served.iter().find(|(id, _)| *id == model).and_then(|(_, c)| *c);
        let slot_ctx = client.get_once("/props").ok().flatten().and_then(|v| slot_context(&v));
        let (counter, architecture, vocab, context) = match tokens {
            Tokens::Local { tokenizer, context, .. } => {
                let vocab = tokenizer.vocab_size();
                (Counter::Local(tokenizer), "gguf".to_string(), vocab, context)
            }
            Tokens::Chars => (Counter::Chars, "fake".into(), 0x11_0000, DEFAULT_CONTEXT),
            Tokens::FromServer => {
                let c = Counter::probe_server(&client).unwrap_or(Counter::Estimate);
                (c, "remote".into(), 0, server_ctx.unwrap_or(DEFAULT_CONTEXT))
            }
        };
        // A server's slot may hold less than the model was trained for (llama-server -c).
        let context = slot_ctx.map_or(context, |s| s.min(context));
        tracing::info!(
            "remote model {model} at {}: token counts from {}, context {context}, {} requests in flight",
            client.root(),
            counter.name(),
            opts.parallel
        );
        let info = ModelInfo {
            filename: model.clone(),
            model_type: format!("{model} (remote)"),
            architecture,
            size_bytes: 0,
            n_params: 0,
            context_length: context,
            vocab_size: vocab,
            device: client.root().to_string(),
            backend: "openai".into(),
            // The requests in flight stand in for a pool.
            threads: opts.parallel,
            switches: "default".into(),
            load_time: t0.elapsed(),
        };
        Ok(RemoteEngine { info, client, counter, model, parallel: opts.parallel, warned: AtomicBool::new(false) })
    }

    /// The served model's name.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// One chat: the request, the reply, and the truncation check.
    fn one(&self, chat: &ChatPrompt, params: &GenParams, shared_with: usize) -> Result<Generation> {
        let body = wire::request(&self.model, chat, params);
        let t0 = Instant::now();
        let v = self.client.post("/v1/chat/completions", &body)?;
        let wall = t0.elapsed();
        let url = format!("{}/v1/chat/completions", self.client.root());
        let reply = wire::parse_reply(&v, &chat.assistant_prefix, params).map_err(|msg| Error::Remote { url, msg })?;
        let expected = self.expected_prompt_tokens(chat)?;
        if let Some(got) = reply.prompt_tokens {
            if got + (expected / 20).max(4) < expected {
                let msg = format!(
                    "the server read {got} prompt tokens of at least {expected} sent: it cut the prompt \
                     (raise its context: llama-server -c, Ollama num_ctx)"
                );
                if self.warned.swap(true, Ordering::Relaxed) {
                    tracing::debug!("{msg}");
                } else {
                    tracing::warn!("{msg}");
                }
            }
        }
        let tokens = match reply.completion_tokens {
            Some(n) if !matches!(self.counter, Counter::Local(_) | Counter::Chars) => vec![0; n],
            _ => self.counter.encode(&reply.text)?,
        };
        let (prefill, decode) = match (reply.prefill, reply.decode) {
            (Some(p), Some(d)) => (p, d),
            _ => (Duration::ZERO, wall),
        };
        Ok(Generation {
            tokens,
            text: reply.text,
            stop: reply.stop,
            prompt_tokens: reply.prompt_tokens.unwrap_or(expected),
            prefill,
            decode,
            shared_with,
        })
    }

    /// Fewest tokens the chat's contents take (the template adds more).
    fn expected_prompt_tokens(&self, chat: &ChatPrompt) -> Result<usize> {
        let mut n = self.counter.lower_bound(&chat.assistant_prefix)?;
        for m in &chat.messages {
            n += self.counter.lower_bound(&m.content)?;
        }
        Ok(n)
    }
}

/// The model to ask for: `--remote-model`, else the card's id when served, else the only
/// or first model served. A named model the server does not list is an error.
fn pick_model(
    wanted: Option<&str>,
    card: Option<&str>,
    served: &[(String, Option<usize>)],
    root: &str,
) -> Result<String> {
    let ids: Vec<&str> = served.iter().map(|(id, _)| id.as_str()).collect();
    match wanted {
        Some(w) if ids.is_empty() || ids.contains(&w) => Ok(w.to_string()),
        Some(w) => Err(Error::Remote {
            url: format!("{root}/v1/models"),
            msg: format!("the server does not serve model {w:?} (it serves: {})", ids.join(", ")),
        }),
        None => match card.filter(|c| ids.contains(c)).or(ids.first().copied()) {
            Some(id) => Ok(id.to_string()),
            None => card.map(str::to_string).ok_or_else(|| Error::Remote {
                url: format!("{root}/v1/models"),
                msg: "the server lists no model; name one with --remote-model".into(),
            }),
        },
    }
}

/// llama-server's `/props`: the context of one slot.
fn slot_context(v: &Value) -> Option<usize> {
    let n = v.pointer("/default_generation_settings/n_ctx").and_then(Value::as_u64)?;
    (n > 0).then_some(n as usize)
}

impl Engine for RemoteEngine {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn encode_text(&self, text: &str) -> Result<Vec<u32>> {
        self.counter.encode(text)
    }

    fn count_tokens(&self, text: &str) -> Result<usize> {
        self.counter.count(text)
    }

    fn encode_chat(&self, _chat: &ChatPrompt) -> Result<Vec<u32>> {
        Err(not_tokens())
    }

    fn decode(&self, tokens: &[u32]) -> Result<String> {
        match &self.counter {
            Counter::Local(t) => t.decode(tokens),
            _ => Err(not_tokens()),
        }
    }

    fn generate(&mut self, _prompt: &[u32], _params: &GenParams) -> Result<Generation> {
        Err(not_tokens())
    }

    /// Up to `parallel` chats in flight; each result lands at its chat's index, so the
    /// order is the chats' whatever order the replies arrive in. The first error wins
    /// (in chat order); chats not yet sent are then not sent.
    fn generate_chats(&mut self, chats: &[(&ChatPrompt, &GenParams)]) -> Result<Vec<Generation>> {
        let workers = self.parallel.min(chats.len()).max(1);
        let next = AtomicUsize::new(0);
        let failed = AtomicBool::new(false);
        let slots: Vec<Mutex<Option<Result<Generation>>>> = chats.iter().map(|_| Mutex::new(None)).collect();
        let this = &*self;
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= chats.len() || failed.load(Ordering::Relaxed) {
                        break;
                    }
                    let (chat, params) = chats[i];
                    let r = this.one(chat, params, workers);
                    if r.is_err() {
                        failed.store(true, Ordering::Relaxed);
                    }
                    if let Ok(mut slot) = slots[i].lock() {
                        *slot = Some(r);
                    }
                });
            }
        });
        let mut out = Vec::with_capacity(chats.len());
        let mut first_err = None;
        for slot in slots {
            match slot.into_inner().ok().flatten() {
                Some(Ok(g)) => out.push(g),
                Some(Err(e)) => {
                    first_err.get_or_insert(e);
                }
                None => {}
            }
        }
        match first_err {
            Some(e) => Err(e),
            None if out.len() == chats.len() => Ok(out),
            None => Err(Error::Engine("a remote request thread ended without a result".into())),
        }
    }
}

fn not_tokens() -> Error {
    Error::Usage(
        "--backend openai sends chat messages, not token ids (generate --raw and bench need a local model)".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_choice() {
        let served = vec![("a".to_string(), None), ("card".to_string(), Some(2048))];
        assert_eq!(pick_model(None, Some("card"), &served, "r").unwrap(), "card");
        assert_eq!(pick_model(None, Some("zzz"), &served, "r").unwrap(), "a");
        assert_eq!(pick_model(Some("x"), None, &[], "r").unwrap(), "x");
        let e = pick_model(Some("x"), None, &served, "http://h").unwrap_err().to_string();
        assert!(e.contains("does not serve model \"x\"") && e.contains("a, card"), "{e}");
        assert!(pick_model(None, None, &[], "r").unwrap_err().to_string().contains("--remote-model"));
    }
}
