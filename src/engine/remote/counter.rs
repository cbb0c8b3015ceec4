//! Token counts for a remote model, from the best source there is: the model card's own
//! tokenizer (read from its GGUF metadata, no weights), else the server's `/tokenize`,
//! else a conservative estimate. Also a lower bound on a prompt's tokens, to tell when a
//! server has cut a prompt.

use super::client::Client;
use crate::engine::tokenizer::GgufTokenizer;
use crate::error::{Error, Result};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Texts whose `/tokenize` count is kept (the chunk planner asks about each sentence
/// several times); the cache is emptied when full.
const CACHE_LIMIT: usize = 8192;

pub enum Counter {
    /// The model card's tokenizer: exact when the server runs that model.
    Local(Box<GgufTokenizer>),
    /// The server's `/tokenize` (llama-server, vLLM).
    Server { client: Arc<Client>, cache: Mutex<HashMap<String, usize>> },
    /// One token per three bytes (or per word, if more): more than real tokenizers give
    /// for prose, so chunks stay inside the context.
    Estimate,
    /// One token per character (with `--model fake`, for tests).
    Chars,
}

impl Counter {
    pub fn name(&self) -> &'static str {
        match self {
            Counter::Local(_) => "the model card's tokenizer",
            Counter::Server { .. } => "the server's /tokenize",
            Counter::Estimate => "an estimate (3 bytes a token)",
            Counter::Chars => "one token per character",
        }
    }

    /// Whether the server answers `/tokenize` with a count (probed with a short text).
    pub fn probe_server(client: &Arc<Client>) -> Option<Counter> {
        let c = Counter::Server { client: client.clone(), cache: Mutex::new(HashMap::new()) };
        match c.count("Hello, world.") {
            Ok(n) if n > 0 => Some(c),
            Ok(_) => None,
            Err(e) => {
                tracing::debug!("no usable /tokenize: {e}");
                None
            }
        }
    }

    pub fn count(&self, text: &str) -> Result<usize> {
        match self {
            Counter::Local(t) => Ok(t.encode_plain(text)?.len()),
            Counter::Server { client, cache } => {
                if let Some(&n) = cache.lock().ok().as_ref().and_then(|c| c.get(text)) {
                    return Ok(n);
                }
                let n = server_count(client, text)?;
                if let Ok(mut c) = cache.lock() {
                    if c.len() >= CACHE_LIMIT {
                        c.clear();
                    }
                    c.insert(text.to_string(), n);
                }
                Ok(n)
            }
            Counter::Estimate => Ok(text.len().div_ceil(3).max(text.split_whitespace().count())),
            Counter::Chars => Ok(text.chars().count()),
        }
    }

    /// Fewest tokens `text` can take: the exact count where there is one, else one per
    /// word (byte-level BPE never joins two words into one token).
    pub fn lower_bound(&self, text: &str) -> Result<usize> {
        match self {
            Counter::Estimate => Ok(text.split_whitespace().count()),
            _ => self.count(text),
        }
    }

    /// Token ids where this counter has real ones (the card's tokenizer), else placeholders.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        match self {
            Counter::Local(t) => t.encode_plain(text),
            Counter::Chars => Ok(text.chars().map(|c| c as u32).collect()),
            _ => Ok(vec![0; self.count(text)?]),
        }
    }
}

/// llama-server answers `{"tokens": [...]}`, vLLM `{"count": n, "tokens": [...]}`.
fn server_count(client: &Client, text: &str) -> Result<usize> {
    let body = json!({ "content": text, "prompt": text, "add_special": false, "parse_special": false,
                       "add_special_tokens": false, "with_pieces": false });
    let v = client.post("/tokenize", &body)?;
    v["count"].as_u64().map(|n| n as usize).or_else(|| v["tokens"].as_array().map(Vec::len)).ok_or_else(|| {
        Error::Remote { url: format!("{}/tokenize", client.root()), msg: "the reply has no tokens".into() }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimate_is_conservative_and_lower_bound_counts_words() {
        let text = "The quick brown fox jumps over the lazy dog.";
        let c = Counter::Estimate;
        assert_eq!(c.count(text).unwrap(), 15);
        assert_eq!(c.lower_bound(text).unwrap(), 9);
        assert_eq!(c.encode(text).unwrap().len(), 15);
        assert_eq!(Counter::Chars.count("héllo").unwrap(), 5);
    }
}
