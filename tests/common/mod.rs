//! Shared helpers for integration tests: the real model files (fetched through precis's
//! own hub code: cache, then hub, then the offline mirror), the in-repo example article
//! and the llama.cpp fixtures under `tests/fixtures/`.
#![allow(dead_code)]

pub mod tiny_gguf;

use std::path::{Path, PathBuf};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `examples/article.txt`: the README's example document, written for precis.
pub fn example_article() -> PathBuf {
    repo().join("examples/article.txt")
}

/// A file under `tests/fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures").join(name)
}

/// The GGUF file of a card, fetched once per machine into the Hugging Face cache.
/// `PRECIS_TEST_MODEL_<ID>` (id upper-cased, non-alphanumerics as `_`) overrides it.
pub fn model_file(id: &str) -> PathBuf {
    let var: String =
        id.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    if let Some(p) = std::env::var_os(format!("PRECIS_TEST_MODEL_{var}")) {
        return PathBuf::from(p);
    }
    // One fetch per test binary, however many tests ask at once.
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let card = precis::registry::find(id).expect("card");
    let opts = precis::hub::FetchOptions::from_env(false);
    precis::hub::resolve(&card, &opts).unwrap_or_else(|e| panic!("cannot get model {id}: {e}")).path
}

pub const DEFAULT_MODEL: &str = "smollm2-135m-instruct-q4_1";
pub const QWEN_MODEL: &str = "qwen2.5-coder-0.5b-instruct-q4_k_m";
