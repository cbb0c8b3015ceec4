//! The library's error type. Every variant names the file, key or flag it is about, so
//! that `main` can print it as one line. Exit codes are decided here, in one place.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A bad flag value or combination (exit code 2).
    #[error("{0}")]
    Usage(String),

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A document precis cannot summarise (empty, binary, …).
    #[error("{path}: {msg}")]
    Input { path: PathBuf, msg: String },

    /// A model file that is missing, truncated, corrupt or unsupported.
    #[error("{path}: {msg}")]
    Model { path: PathBuf, msg: String },

    /// A model card that is malformed or unknown.
    #[error("model card {id}: {msg}")]
    Card { id: String, msg: String },

    /// Getting a model file failed (hub, mirror, cache, checksum, offline).
    #[error("{0}")]
    Fetch(String),

    #[error("prompt template {name}: {msg}")]
    Template { name: String, msg: String },

    /// Inference failed inside the engine.
    #[error("inference: {0}")]
    Engine(String),

    /// A remote inference server that is unreachable, failing, or not serving the model.
    #[error("{url}: {msg}")]
    Remote { url: String, msg: String },

    #[error("device {device}: {msg}")]
    Device { device: String, msg: String },

    /// A batch finished with failures (reported per file already).
    #[error("{failed} of {total} documents failed")]
    BatchFailed { failed: usize, total: usize },

    #[error("interrupted")]
    Interrupted,
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
    pub fn model(path: impl Into<PathBuf>, msg: impl Into<String>) -> Self {
        Error::Model { path: path.into(), msg: msg.into() }
    }
    pub fn input(path: impl Into<PathBuf>, msg: impl Into<String>) -> Self {
        Error::Input { path: path.into(), msg: msg.into() }
    }

    /// The documented exit code: 1 failure, 2 usage, 130 interrupted.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => 2,
            Error::Interrupted => 130,
            _ => 1,
        }
    }
}
