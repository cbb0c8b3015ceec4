//! A deterministic stand-in engine for fast CLI tests (`--model fake`): one token per
//! character, and replies that list the first sentences of the last message, numbered.
//! It exercises every path around inference without loading a model; never use it for
//! quality or speed claims.

use super::generate::{GenParams, Generation, StopReason};
use super::{Engine, ModelInfo};
use crate::error::{Error, Result};
use crate::template::ChatPrompt;
use std::time::Duration;

pub struct FakeEngine {
    info: ModelInfo,
}

impl FakeEngine {
    /// A fake engine that reports the load options' thread count and switches as its own
    /// (it runs on the caller's thread and has nothing to switch).
    pub(crate) fn with_options(opts: &super::LoadOptions) -> Self {
        let mut e = FakeEngine::default();
        e.info.threads = opts.threads;
        e.info.switches = opts.switches.to_string();
        e
    }
}

impl Default for FakeEngine {
    fn default() -> Self {
        FakeEngine {
            info: ModelInfo {
                filename: "fake".into(),
                model_type: "fake 0M F32".into(),
                architecture: "fake".into(),
                size_bytes: 0,
                n_params: 0,
                context_length: 4096,
                vocab_size: 0x11_0000,
                device: "cpu".into(),
                backend: "fake".into(),
                threads: 1,
                switches: "default".into(),
                load_time: Duration::ZERO,
            },
        }
    }
}

/// Marks where the last message starts inside the fake prompt.
const SEP: char = '\u{1e}';

impl Engine for FakeEngine {
    fn info(&self) -> &ModelInfo {
        &self.info
    }
    fn encode_text(&self, text: &str) -> Result<Vec<u32>> {
        Ok(text.chars().map(|c| c as u32).collect())
    }
    fn encode_chat(&self, chat: &ChatPrompt) -> Result<Vec<u32>> {
        let mut s = String::new();
        for m in &chat.messages {
            s.push(SEP);
            s.push_str(&m.content);
        }
        self.encode_text(&s)
    }
    fn decode(&self, tokens: &[u32]) -> Result<String> {
        Ok(tokens.iter().filter_map(|&t| char::from_u32(t)).filter(|&c| c != SEP).collect())
    }
    fn generate(&mut self, prompt: &[u32], params: &GenParams) -> Result<Generation> {
        if prompt.len() >= self.info.context_length {
            return Err(Error::Engine(format!(
                "prompt of {} tokens does not fit the model's {}-token context",
                prompt.len(),
                self.info.context_length
            )));
        }
        let text: String = prompt.iter().filter_map(|&t| char::from_u32(t)).collect();
        let last = text.rsplit(SEP).next().unwrap_or("");
        let body = last.rsplit("\n\n").find(|b| b.split_whitespace().count() > 3).unwrap_or(last);
        let mut reply = String::new();
        let mut lines = 0;
        for (i, s) in body.split_inclusive(". ").map(str::trim).filter(|s| s.len() > 20).take(5).enumerate() {
            reply += &format!("{}. {}\n", i + 1, s);
            lines += 1;
            if params.max_lines > 0 && lines >= params.max_lines {
                break;
            }
        }
        let mut tokens: Vec<u32> = reply.chars().map(|c| c as u32).collect();
        let stop = if tokens.len() > params.max_tokens {
            tokens.truncate(params.max_tokens);
            StopReason::Budget
        } else {
            StopReason::EndOfGeneration
        };
        let text = self.decode(&tokens)?;
        Ok(Generation {
            tokens,
            text,
            stop,
            prompt_tokens: prompt.len(),
            prefill: Duration::from_micros(prompt.len() as u64),
            decode: Duration::from_micros(reply.len() as u64),
            shared_with: 1,
        })
    }
}
