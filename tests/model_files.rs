//! Loading model files: tiny random GGUF models of each supported architecture load and
//! generate; missing, truncated, corrupt and unsupported files are one-line errors that
//! name the file (exit code 1 from the CLI), never panics.
mod common;

use candle_core::quantized::GgmlDType;
use common::tiny_gguf;
use precis::engine::model::{GgufEngine, LoadOptions};
use precis::engine::{DeviceChoice, Engine, GenParams};
use std::path::Path;

fn opts() -> LoadOptions {
    LoadOptions { device: DeviceChoice::Cpu, threads: 1, ..Default::default() }
}

fn load_err(path: &Path) -> String {
    match GgufEngine::load(path, &opts()) {
        Ok(_) => panic!("{} loaded", path.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn tiny_models_of_each_architecture_load_and_generate() {
    let dir = tempfile::tempdir().unwrap();
    for (arch, dt) in
        [("llama", GgmlDType::Q4_1), ("llama", GgmlDType::Q8_0), ("qwen2", GgmlDType::Q5_0), ("qwen2", GgmlDType::Q4_0)]
    {
        let p = dir.path().join(format!("{arch}-{dt:?}.gguf"));
        tiny_gguf::write(&p, arch, dt);
        let mut e = GgufEngine::load(&p, &opts()).unwrap_or_else(|e| panic!("{arch} {dt:?}: {e}"));
        assert_eq!(e.info().architecture, arch);
        let prompt = e.encode_chat(&precis::template::ChatPrompt::user("the the")).unwrap();
        assert_eq!(prompt[0], 1, "<|im_start|> parsed as a control token");
        let g = e.generate(&prompt, &GenParams { max_tokens: 5, ignore_eog: true, ..Default::default() }).unwrap();
        assert_eq!(g.tokens.len(), 5);
        assert!(g.tokens.iter().all(|&t| (t as usize) < e.info().vocab_size));
    }
}

#[test]
fn truncated_corrupt_and_missing_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.gguf");
    tiny_gguf::write(&good, "llama", GgmlDType::Q4_1);
    let bytes = std::fs::read(&good).unwrap();

    let truncated = dir.path().join("truncated.gguf");
    std::fs::write(&truncated, &bytes[..bytes.len() - 1000]).unwrap();
    let err = load_err(&truncated);
    assert!(err.contains("truncated.gguf") && err.contains("truncated"), "{err}");

    // Cut inside the metadata, and at every 997th byte of the header: never a panic.
    for cut in (0..bytes.len().min(40_000)).step_by(997) {
        let p = dir.path().join(format!("cut{cut}.gguf"));
        std::fs::write(&p, &bytes[..cut]).unwrap();
        let err = load_err(&p);
        assert!(err.contains(&format!("cut{cut}.gguf")), "{err}");
    }

    // Random bytes flipped in the header: an error or a load, never a panic.
    let mut corrupt = bytes.clone();
    for i in (24..4000).step_by(37) {
        corrupt[i] ^= 0x5a;
    }
    let p = dir.path().join("corrupt.gguf");
    std::fs::write(&p, &corrupt).unwrap();
    let _ = GgufEngine::load(&p, &opts());

    let err = load_err(&dir.path().join("missing.gguf"));
    assert!(err.contains("missing.gguf"), "{err}");

    let text = dir.path().join("notes.gguf");
    std::fs::write(&text, "this is not a model").unwrap();
    assert!(load_err(&text).contains("not a GGUF file"));
}

#[test]
fn unsupported_architecture_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("gemma.gguf");
    tiny_gguf::write(&p, "llama", GgmlDType::Q8_0);
    // Rename the architecture in place: "llama" → "gemma" keeps every length.
    let mut b = std::fs::read(&p).unwrap();
    let at = b.windows(5).position(|w| w == b"llama").unwrap();
    b[at..at + 5].copy_from_slice(b"gemma");
    std::fs::write(&p, &b).unwrap();
    let err = load_err(&p);
    assert!(err.contains("gemma.gguf") && err.contains("unsupported architecture"), "{err}");
}

#[test]
fn wrong_card_architecture_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("m.gguf");
    tiny_gguf::write(&p, "qwen2", GgmlDType::Q8_0);
    let o = LoadOptions { expect_arch: Some("llama".into()), ..opts() };
    let err = GgufEngine::load(&p, &o).err().expect("must fail").to_string();
    assert!(err.contains("the model card says llama"), "{err}");
}

#[test]
fn cli_reports_a_corrupt_model_in_one_line_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("broken.gguf");
    std::fs::write(&m, b"GGUF\x03\0\0\0garbage").unwrap();
    let art = dir.path().join("a.txt");
    std::fs::write(&art, "Some article text that is long enough to summarise, with more than twenty words in it. It has two sentences, and this is the second one.").unwrap();
    let out = assert_cmd::Command::cargo_bin("precis")
        .unwrap()
        .args(["summarize", "--device", "cpu", "-m"])
        .arg(&m)
        .arg(&art)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("broken.gguf"), "{err}");
}
