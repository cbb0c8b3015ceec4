//! `precis models list|info|pull`: the catalogue of cards and the local cache.

use super::args::{ModelsAction, ModelsArgs};
use crate::engine::gguf::GgufInfo;
use crate::error::Result;
use crate::hub::{self, FetchOptions};
use crate::registry::{self, ModelCard};
use serde_json::json;

pub fn run(args: ModelsArgs, _verbosity: i8) -> Result<()> {
    match args.action {
        ModelsAction::List { json } => list(json),
        ModelsAction::Info { id, json } => info(id.as_deref(), json),
        ModelsAction::Pull { id, offline } => pull(id.as_deref(), offline),
    }
}

fn card(id: Option<&str>) -> Result<ModelCard> {
    match id {
        Some(id) => registry::find(id),
        None => registry::default_card(),
    }
}

fn list(as_json: bool) -> Result<()> {
    let opts = FetchOptions::from_env(true);
    let cards = registry::cards()?;
    if !as_json {
        println!("{:<38} {:<7} {:>9}  {:<7} FILE", "ID", "ARCH", "SIZE", "CACHED");
    }
    for c in &cards {
        let cached = hub::cached_path(c, &opts);
        if as_json {
            let v = json!({
                "id": c.id, "name": c.name, "architecture": c.architecture, "default": c.default,
                "size": c.file.size, "repo": c.file.repo, "revision": c.file.revision, "file": c.file.name,
                "cached": cached.is_some(), "path": cached,
            });
            println!("{v}");
        } else {
            println!(
                "{:<38} {:<7} {:>6} MB  {:<7} {}{}",
                c.id,
                c.architecture,
                c.file.size / 1_000_000,
                if cached.is_some() { "yes" } else { "no" },
                c.file.name,
                if c.default { "  (default)" } else { "" }
            );
        }
    }
    Ok(())
}

fn info(id: Option<&str>, as_json: bool) -> Result<()> {
    let c = card(id)?;
    let cached = hub::cached_path(&c, &FetchOptions::from_env(true));
    let meta = match &cached {
        Some(p) => {
            let g = GgufInfo::read(p)?;
            let (bytes, params) = g.size_and_params();
            let arch = g.architecture().unwrap_or("?").to_string();
            let cfg = crate::engine::arch::Config::from_gguf(&g).ok();
            Some(json!({
                "architecture": arch,
                "name": g.get("general.name").and_then(|v| v.as_str()),
                "parameters": params,
                "tensor_bytes": bytes,
                "main_type": g.main_type(),
                "context_length": cfg.as_ref().map(|c| c.ctx),
                "layers": cfg.as_ref().map(|c| c.n_layer),
                "embedding": cfg.as_ref().map(|c| c.n_embd),
                "vocab": g.get("tokenizer.ggml.tokens").and_then(|v| v.as_array()).map(|a| a.len()),
                "tensors": g.tensors.len(),
            }))
        }
        None => None,
    };
    let v = json!({ "card": c, "cached": cached, "gguf": meta });
    if as_json {
        println!("{v}");
    } else {
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        if cached.is_none() {
            println!("not cached: run `precis models pull {}`", c.id);
        }
    }
    Ok(())
}

fn pull(id: Option<&str>, offline: bool) -> Result<()> {
    let c = card(id)?;
    let opts = FetchOptions::from_env(offline || crate::config::RunConfig::offline_from_env());
    let r = hub::resolve(&c, &opts)?;
    println!("{}\t{}", c.id, r.path.display());
    Ok(())
}
