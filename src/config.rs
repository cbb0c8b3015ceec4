//! Validated, clap-free settings shared by every command that runs a model: which model,
//! which device, how many threads, sampling, verbosity. Built once from the command
//! line (in `cli`) and never re-checked downstream.

use crate::engine::remote::RemoteOptions;
use crate::engine::{Backend, DeviceChoice, GenParams, Switches};
use crate::error::{Error, Result};
use crate::registry::{self, ModelCard};
use std::path::PathBuf;

/// What `--model` names.
#[derive(Debug, Clone)]
pub enum ModelSpec {
    Card(Box<ModelCard>),
    /// A local `.gguf` file.
    Path(PathBuf),
    /// The deterministic test engine.
    Fake,
}

impl ModelSpec {
    /// `None` → the default card; an existing path or `*.gguf` → a file; `fake`; else a card id.
    pub fn parse(arg: Option<&str>) -> Result<Self> {
        match arg {
            None => Ok(ModelSpec::Card(Box::new(registry::default_card()?))),
            Some("fake") => Ok(ModelSpec::Fake),
            Some(a) if a.ends_with(".gguf") || a.contains('/') || std::path::Path::new(a).is_file() => {
                let p = PathBuf::from(a);
                if p.is_dir() {
                    return Err(Error::Usage(format!("--model {a}: is a folder; name a .gguf file or a card id")));
                }
                if !p.is_file() {
                    let why = if p.exists() { "not a regular file" } else { "no such file" };
                    return Err(Error::Usage(format!("--model {a}: {why}")));
                }
                Ok(ModelSpec::Path(p))
            }
            Some(id) => Ok(ModelSpec::Card(Box::new(registry::find(id)?))),
        }
    }

    pub fn id(&self) -> String {
        match self {
            ModelSpec::Card(c) => c.id.clone(),
            ModelSpec::Path(p) => p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(),
            ModelSpec::Fake => "fake".into(),
        }
    }
}

/// Settings for loading and running a model.
#[derive(Debug, Clone)]
pub struct RunConfig {
    pub model: ModelSpec,
    pub device: DeviceChoice,
    pub threads: usize,
    pub backend: Backend,
    /// Experiment switches (hidden flags), passed to the load as they are.
    pub switches: Switches,
    /// `--backend openai`: the model calls go to this server.
    pub remote: Option<RemoteOptions>,
    /// Whether `--model` was given (with a remote server, it names the tokenizer).
    pub model_given: bool,
    pub offline: bool,
    pub seed: u64,
    pub temperature: f32,
    /// -1 quiet, 0 normal, 1+ verbose.
    pub verbosity: i8,
}

impl RunConfig {
    pub fn validate(&self) -> Result<()> {
        if self.threads == 0 || self.threads > 1024 {
            return Err(Error::Usage(format!("--threads {}: must be between 1 and 1024", self.threads)));
        }
        if !(0.0..=5.0).contains(&self.temperature) || self.temperature.is_nan() {
            return Err(Error::Usage(format!("--temperature {}: must be between 0 and 5", self.temperature)));
        }
        Ok(())
    }

    /// What names the model in provenance and in a batch's settings key: the card or
    /// file, or for a remote server its URL and the model asked for.
    pub fn model_key(&self) -> String {
        match &self.remote {
            None => self.model.id(),
            Some(r) => {
                let name =
                    r.model.clone().unwrap_or_else(|| if self.model_given { self.model.id() } else { "-".into() });
                format!("openai:{}:{name}", r.client.root)
            }
        }
    }

    /// Generation defaults from these settings (seed, temperature).
    pub fn gen_params(&self) -> GenParams {
        GenParams { seed: self.seed, temperature: self.temperature, ..Default::default() }
    }

    /// `HF_HUB_OFFLINE=1` means the same as `--offline`.
    pub fn offline_from_env() -> bool {
        std::env::var("HF_HUB_OFFLINE")
            .is_ok_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on"))
    }
}
