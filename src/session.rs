//! Where the hub and the engine meet: resolve a [`ModelSpec`] to a file (fetching it if
//! needed) and load it, or preview it without its weights (`summarize --plan`). Every
//! command that runs a model, and `--plan`, comes through here.

use crate::config::{ModelSpec, RunConfig};
use crate::engine::fake::FakeEngine;
use crate::engine::model::{GgufEngine, Preview as FilePreview};
use crate::engine::remote::{RemoteEngine, RemoteOptions, Tokens};
use crate::engine::tokenizer::GgufTokenizer;
use crate::engine::{Engine, LoadOptions};
use crate::error::{Error, Result};
use crate::hub;
use std::path::{Path, PathBuf};

pub use crate::summary::ModelRef;

/// The fake engine's stand-in for a model file's sha256.
pub const FAKE_SHA256: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A model resolved to a file, with the load options `cfg` asks for.
struct Located {
    /// `None`: the fake engine.
    path: Option<PathBuf>,
    /// The card's provenance; `None` for a local file (its sha256 is read) or the fake.
    card_ref: Option<ModelRef>,
    opts: LoadOptions,
}

/// The file behind `cfg`'s model (a card's file: cache → hub → mirror; or a local path)
/// and the load options: the one road from the command line's settings to an engine.
fn locate(cfg: &RunConfig) -> Result<Located> {
    let mut opts = LoadOptions {
        device: cfg.device,
        threads: cfg.threads,
        backend: cfg.backend,
        switches: cfg.switches,
        ..Default::default()
    };
    Ok(match &cfg.model {
        ModelSpec::Card(c) => {
            let path = hub::resolve(c, &hub::FetchOptions::from_env(cfg.offline))?.path;
            opts.eog_tokens = c.eog_tokens.clone();
            opts.expect_arch = Some(c.architecture.clone());
            let r =
                ModelRef { id: c.id.clone(), file_sha256: c.file.sha256.clone(), revision: c.file.revision.clone() };
            Located { path: Some(path), card_ref: Some(r), opts }
        }
        ModelSpec::Path(p) => Located { path: Some(p.clone()), card_ref: None, opts },
        ModelSpec::Fake => Located { path: None, card_ref: None, opts },
    })
}

fn fake_ref() -> ModelRef {
    ModelRef { id: "fake".into(), file_sha256: FAKE_SHA256.into(), revision: "none".into() }
}

fn local_ref(cfg: &RunConfig, sha256: String) -> ModelRef {
    ModelRef { id: cfg.model.id(), file_sha256: sha256, revision: "local".into() }
}

/// Loads the engine `cfg` asks for.
pub fn open(cfg: &RunConfig) -> Result<(Box<dyn Engine>, ModelRef)> {
    if let Some(remote) = &cfg.remote {
        return open_remote(cfg, remote);
    }
    let Located { path, card_ref, opts } = locate(cfg)?;
    let (engine, model_ref): (Box<dyn Engine>, ModelRef) = match path {
        None => (Box::new(FakeEngine::with_options(&opts)), fake_ref()),
        Some(path) => {
            let (engine, model_ref) = load(cfg, &path, card_ref, &opts)?;
            (Box::new(engine), model_ref)
        }
    };
    let info = engine.info();
    tracing::info!(
        "model {}: {} backend on {}, {} thread(s), switches: {}, context {}, loaded in {:.3} s",
        info.filename,
        info.backend,
        info.device,
        info.threads,
        info.switches,
        info.context_length,
        info.load_time.as_secs_f64()
    );
    Ok((engine, model_ref))
}

/// Loads a GGUF file, with its provenance: the card's, or a local file's sha256.
fn load(
    cfg: &RunConfig,
    path: &Path,
    card_ref: Option<ModelRef>,
    opts: &LoadOptions,
) -> Result<(GgufEngine, ModelRef)> {
    if let Some(w) = crate::engine::device::cpu_warning() {
        tracing::warn!("{w}");
    }
    // A local file's sha256 (for the summary's provenance) is read beside the load.
    let (engine, model_ref) = std::thread::scope(|s| {
        let sha = card_ref.is_none().then(|| s.spawn(|| hub::sha256_file(path)));
        let engine = GgufEngine::load(path, opts);
        let model_ref = match card_ref {
            Some(r) => Ok(r),
            None => {
                let sha = match sha {
                    Some(h) => h.join().unwrap_or_else(|_| Err(Error::Engine("sha256 thread panicked".into()))),
                    None => hub::sha256_file(path),
                };
                sha.map(|sha| local_ref(cfg, sha))
            }
        };
        (engine, model_ref)
    });
    Ok((engine?, model_ref?))
}

/// What a run knows of its model before the weights load: the token counter, the context
/// and the provenance (the key of the model's recorded bench speeds).
pub struct Preview {
    tokenizer: Option<GgufTokenizer>,
    pub context_length: usize,
    pub model_ref: ModelRef,
}

impl Preview {
    /// Tokens of plain text, as the loaded engine would count them.
    pub fn count_tokens(&self, text: &str) -> usize {
        match &self.tokenizer {
            Some(t) => t.encode_plain(text).map_or(0, |v| v.len()),
            None => FakeEngine::default().count_tokens(text).unwrap_or(0),
        }
    }
}

/// The model `cfg` asks for, resolved and checked as [`open`] does, without its weights.
pub fn preview(cfg: &RunConfig) -> Result<Preview> {
    let Located { path, card_ref, opts } = locate(cfg)?;
    let Some(path) = path else {
        let fake = FakeEngine::default();
        return Ok(Preview { tokenizer: None, context_length: fake.info().context_length, model_ref: fake_ref() });
    };
    let FilePreview { tokenizer, context_length } = GgufEngine::preview(&path, &opts)?;
    let model_ref = match card_ref {
        Some(r) => r,
        None => local_ref(cfg, hub::sha256_file(&path)?),
    };
    Ok(Preview { tokenizer: Some(tokenizer), context_length, model_ref })
}

/// The remote engine, counting tokens with the `--model` card's (or file's) tokenizer
/// when one is named: its GGUF metadata is read ([`preview`]), the weights are not loaded.
fn open_remote(cfg: &RunConfig, remote: &RemoteOptions) -> Result<(Box<dyn Engine>, ModelRef)> {
    let tokens = match (&cfg.model, cfg.model_given) {
        (_, false) => Tokens::FromServer,
        (ModelSpec::Fake, true) => Tokens::Chars,
        (spec, true) => {
            let p = preview(cfg)?;
            let card_id = match spec {
                ModelSpec::Card(c) => Some(c.id.clone()),
                _ => None,
            };
            let tokenizer = Box::new(p.tokenizer.ok_or_else(|| Error::Usage("--model: no tokenizer".into()))?);
            Tokens::Local { tokenizer, context: p.context_length, card_id }
        }
    };
    let engine = RemoteEngine::open(remote, tokens)?;
    let file_sha256 = match (&cfg.model, cfg.model_given) {
        (ModelSpec::Card(c), true) => c.file.sha256.clone(),
        _ => String::new(),
    };
    let r =
        ModelRef { id: engine.model().to_string(), file_sha256, revision: format!("remote {}", remote.client.root) };
    Ok((Box::new(engine), r))
}
