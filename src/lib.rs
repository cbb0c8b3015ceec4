//! precis: an offline article summariser.
//!
//! One run gets a GGUF model (local path, Hugging Face cache, the hub, or an offline
//! mirror), splits an article into token-aware chunks, summarises each chunk with local
//! inference, and merges the results into one grounded, structured summary.
//!
//! Module map (imports flow downwards only):
//! - [`config`]: validated, clap-free settings.
//! - [`registry`]: model cards (`models/*.toml`).
//! - [`hub`]: fetching model files (cache, hub, mirror, sha256). The only network code
//!   besides the remote engine's HTTP client (`engine::remote`).
//! - [`input`], [`chunk`]: documents and the chunk plan.
//! - [`ground`]: model-free grounding: support scores, evidence, unsupported names and
//!   numbers, near-duplicate points.
//! - [`template`]: chat templates and prompt files (minijinja).
//! - [`engine`]: tokenizer and inference; the only place candle and tokenizers appear.
//!   Its remote engine sends the model calls to an OpenAI-compatible server.
//! - [`pipeline`], [`summary`], [`render`]: map → reduce → ground, the summary type, output.
//! - [`bench`]: llama-bench style measurements.
//! - [`cli`]: the command line; the only place clap appears.
//! - [`atomic`], `interrupt`, [`progress`]: output files written whole, the SIGINT/SIGTERM
//!   line and temp-file cleanup, progress bars.

pub mod atomic;
pub mod bench;
pub mod chunk;
pub mod cli;
pub mod config;
pub mod engine;
pub mod error;
pub mod ground;
pub mod hub;
pub mod input;
pub(crate) mod interrupt;
pub mod pipeline;
pub mod progress;
pub mod registry;
pub mod render;
pub mod session;
pub mod summary;
pub mod template;

pub use error::{Error, Result};
