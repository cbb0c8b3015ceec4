//! Where the hub and the engine meet: resolve a [`ModelSpec`] to a file (fetching it
//! if needed) and load it. Also what a summary records about its model.

use crate::config::{ModelSpec, RunConfig};
use crate::engine::fake::FakeEngine;
use crate::engine::model::{GgufEngine, LoadOptions};
use crate::engine::Engine;
use crate::error::Result;
use crate::hub;
use std::path::PathBuf;

pub use crate::summary::ModelRef;

/// The file behind a spec: a card's file (cache → hub → mirror), or a local path.
pub fn model_file(cfg: &RunConfig) -> Result<Option<PathBuf>> {
    Ok(match &cfg.model {
        ModelSpec::Card(card) => Some(hub::resolve(card, &hub::FetchOptions::from_env(cfg.offline))?.path),
        ModelSpec::Path(p) => Some(p.clone()),
        ModelSpec::Fake => None,
    })
}

/// The fake engine's stand-in for a model file's sha256.
pub const FAKE_SHA256: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Loads the engine `cfg` asks for.
pub fn open(cfg: &RunConfig) -> Result<(Box<dyn Engine>, ModelRef)> {
    let Some(path) = model_file(cfg)? else {
        let r = ModelRef { id: "fake".into(), file_sha256: FAKE_SHA256.into(), revision: "none".into() };
        return Ok((Box::new(FakeEngine::default()), r));
    };
    let mut opts = LoadOptions { device: cfg.device, threads: cfg.threads, backend: cfg.backend, ..Default::default() };
    let card_ref = match &cfg.model {
        ModelSpec::Card(c) => {
            opts.eog_tokens = c.eog_tokens.clone();
            opts.expect_arch = Some(c.architecture.clone());
            Some(ModelRef { id: c.id.clone(), file_sha256: c.file.sha256.clone(), revision: c.file.revision.clone() })
        }
        _ => None,
    };
    if let Some(w) = crate::engine::device::cpu_warning() {
        tracing::warn!("{w}");
    }
    // A local file's sha256 (for the summary's provenance) is read beside the load.
    let (engine, model_ref) = std::thread::scope(|s| {
        let sha = card_ref.is_none().then(|| s.spawn(|| hub::sha256_file(&path)));
        let engine = GgufEngine::load(&path, &opts);
        let model_ref = match card_ref {
            Some(r) => Ok(r),
            None => {
                let sha = match sha {
                    Some(h) => {
                        h.join().unwrap_or_else(|_| Err(crate::error::Error::Engine("sha256 thread panicked".into())))
                    }
                    None => hub::sha256_file(&path),
                };
                sha.map(|sha| ModelRef { id: cfg.model.id(), file_sha256: sha, revision: "local".into() })
            }
        };
        (engine, model_ref)
    });
    Ok((Box::new(engine?), model_ref?))
}
