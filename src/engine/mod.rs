//! The inference engine: the only place candle and tokenizers appear.
//!
//! [`Engine`] is what the rest of precis sees: tokenise, render a chat, generate.
//! [`model::GgufEngine::load`] opens a GGUF file, checks it, and picks the backend, as
//! [`LoadOptions`] asks. The backends (`cpu/`, `dense/`, candle's) are crate-private; the
//! benches reach the CPU kernels through [`kernel_api`]. The fake engine
//! ([`fake::FakeEngine`]) is a deterministic stand-in for fast CLI tests; the remote
//! engine ([`remote::RemoteEngine`]) sends chats to an OpenAI-compatible server.
//! `shared` lets several threads share one engine, their chats merged into one call
//! (`precis batch --jobs`).

pub(crate) mod arch;
pub mod chat;
pub(crate) mod cpu;
pub(crate) mod dense;
pub(crate) mod device;
pub(crate) mod fake;
pub(crate) mod generate;
pub mod gguf;
pub mod kernel_api;
pub mod model;
pub mod options;
pub mod remote;
pub(crate) mod shared;
pub mod tokenizer;

use crate::error::Result;
use std::time::Duration;

pub use chat::{ChatPrompt, Message, Role};
pub use device::DeviceChoice;
pub use generate::{GenParams, Generation, Job, StopReason, DEFAULT_SEED};
pub use options::{Backend, LoadOptions, Switches};

/// Facts about a loaded model, for stats, bench rows and `models info`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ModelInfo {
    /// File name of the GGUF (llama-bench's `model_filename`).
    pub filename: String,
    /// e.g. `llama 135M Q4_1` (llama-bench's `model_type`).
    pub model_type: String,
    pub architecture: String,
    /// Bytes of tensor data.
    pub size_bytes: u64,
    pub n_params: u64,
    pub context_length: usize,
    pub vocab_size: usize,
    /// `cpu`, `cuda:0`, …
    pub device: String,
    /// `native` (precis's own CPU path), `dense` (precis's batched candle graph), `candle`, or `fake`.
    pub backend: String,
    /// CPU threads of this engine's pool.
    pub threads: usize,
    /// The experiment switches the load ran with ([`Switches`]'s display: `default`, or
    /// those off the default).
    pub switches: String,
    pub load_time: Duration,
}

/// A loaded model that can tokenise and generate.
///
/// Implementations: the candle-backed GGUF engine ([`model::GgufEngine`]), the
/// deterministic [`fake::FakeEngine`], and [`remote::RemoteEngine`].
pub trait Engine {
    fn info(&self) -> &ModelInfo;

    /// Tokens of plain text (article text is data: special-token text is never parsed).
    fn encode_text(&self, text: &str) -> Result<Vec<u32>>;

    /// Tokens of trusted text with its control tokens parsed (`generate --raw`); never for
    /// article text. Engines without control tokens encode it as plain text.
    fn encode_raw(&self, text: &str) -> Result<Vec<u32>> {
        self.encode_text(text)
    }

    /// Token count of plain text.
    fn count_tokens(&self, text: &str) -> Result<usize> {
        Ok(self.encode_text(text)?.len())
    }

    /// Renders a chat with the model's own template and tokenises it; message contents are
    /// encoded as plain text, the template's own markup with control tokens parsed.
    fn encode_chat(&self, chat: &ChatPrompt) -> Result<Vec<u32>>;

    fn decode(&self, tokens: &[u32]) -> Result<String>;

    /// Runs one generation: clear the cache, prefill `prompt`, decode until an
    /// end-of-generation token, a stop rule, or the budget.
    fn generate(&mut self, prompt: &[u32], params: &GenParams) -> Result<Generation>;

    /// Several sequences, each with its own parameters; backends that hold several decode
    /// them together. Results are in job order.
    fn generate_jobs(&mut self, jobs: &[Job]) -> Result<Vec<Generation>> {
        jobs.iter().map(|j| self.generate(j.prompt, j.params)).collect()
    }

    /// Several chats, each with its parameters: what the pipeline calls. The default renders
    /// each chat with [`Engine::encode_chat`] and runs [`Engine::generate_jobs`]; a remote
    /// engine that takes chat messages overrides it and never sees token ids.
    fn generate_chats(&mut self, chats: &[(&ChatPrompt, &GenParams)]) -> Result<Vec<Generation>> {
        let prompts = chats.iter().map(|(c, _)| self.encode_chat(c)).collect::<Result<Vec<_>>>()?;
        let jobs: Vec<Job> = prompts.iter().zip(chats).map(|(p, (_, params))| Job { prompt: p, params }).collect();
        self.generate_jobs(&jobs)
    }

    /// Several prompts with the same parameters (see [`Engine::generate_jobs`]).
    fn generate_batch(&mut self, prompts: &[Vec<u32>], params: &GenParams) -> Result<Vec<Generation>> {
        let jobs: Vec<Job> = prompts.iter().map(|p| Job { prompt: p, params }).collect();
        self.generate_jobs(&jobs)
    }
}
