//! Generation on the real model: greedy parity with llama.cpp's reference continuation,
//! and the chat path end to end.
mod common;

use precis::engine::model::{Backend, GgufEngine, LoadOptions};
use precis::engine::{DeviceChoice, Engine, GenParams, StopReason};
use serde_json::Value;

fn load(id: &str) -> GgufEngine {
    load_with(id, Backend::Auto)
}

fn load_with(id: &str, backend: Backend) -> GgufEngine {
    let card = precis::registry::find(id).unwrap();
    let opts = LoadOptions {
        device: DeviceChoice::Cpu,
        backend,
        eog_tokens: card.eog_tokens.clone(),
        expect_arch: Some(card.architecture.clone()),
        ..Default::default()
    };
    GgufEngine::load(&common::model_file(id), &opts).unwrap()
}

#[test]
fn greedy_reproduces_llama_cpp_first_16_ids() {
    for backend in [Backend::Native, Backend::Candle, Backend::Dense] {
        greedy_parity(backend);
    }
}

fn greedy_parity(backend: Backend) {
    let fx: Value =
        serde_json::from_slice(&std::fs::read(common::fixture("smollm2_greedy_reference.json")).unwrap()).unwrap();
    let run = &fx["runs"]["bullets_hfsys"];
    let mut engine = load_with(common::DEFAULT_MODEL, backend);
    assert_eq!(engine.info().backend, format!("{backend:?}").to_lowercase());
    let prompt = engine.tokenizer().encode_special(run["prompt_text"].as_str().unwrap()).unwrap();
    assert_eq!(prompt.len(), run["n_prompt"].as_u64().unwrap() as usize, "prompt length differs from llama.cpp");
    let want: Vec<u32> = run["gen_ids"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
    let g = engine.generate(&prompt, &GenParams { max_tokens: 16, ..Default::default() }).unwrap();
    assert_eq!(g.tokens, want[..16], "{backend:?}: greedy ids differ from llama.cpp");
    assert_eq!(g.stop, StopReason::Budget);
    assert!(g.prefill_tok_s() > 0.0 && g.decode_tok_s() > 0.0);
}

#[test]
fn chat_reply_stops_by_itself_and_reads_as_text() {
    let mut engine = load(common::DEFAULT_MODEL);
    let chat = precis::template::ChatPrompt::user("What is the capital of France? Answer in one word.");
    let prompt = engine.encode_chat(&chat).unwrap();
    // The default system turn comes from the GGUF's own template.
    assert_eq!(prompt[0], 1, "starts with <|im_start|>");
    let g = engine.generate(&prompt, &GenParams { max_tokens: 24, ..Default::default() }).unwrap();
    assert_eq!(g.stop, StopReason::EndOfGeneration, "reply: {:?}", g.text);
    assert!(g.text.contains("Paris"), "reply: {:?}", g.text);
}

#[test]
fn qwen2_card_generates() {
    let mut engine = load(common::QWEN_MODEL);
    let prompt = engine.encode_chat(&precis::template::ChatPrompt::user("Say hello.")).unwrap();
    let g = engine.generate(&prompt, &GenParams { max_tokens: 12, ..Default::default() }).unwrap();
    assert!(!g.text.trim().is_empty(), "empty reply");
    assert_eq!(engine.info().architecture, "qwen2");
}

#[test]
fn batched_generation_matches_one_at_a_time_on_the_real_model() {
    // Native keeps a cache per slot; dense left-pads the shorter prompts and masks them.
    for backend in [Backend::Auto, Backend::Dense] {
        batched_equals_sequential(backend);
    }
}

fn batched_equals_sequential(backend: Backend) {
    let mut engine = load_with(common::DEFAULT_MODEL, backend);
    let prompts: Vec<Vec<u32>> = ["Name a colour.", "What is 2 + 2?", "Write one word about the sea."]
        .iter()
        .map(|q| engine.encode_chat(&precis::template::ChatPrompt::user(*q)).unwrap())
        .collect();
    let p = GenParams { max_tokens: 12, ..Default::default() };
    let one: Vec<Vec<u32>> = prompts.iter().map(|q| engine.generate(q, &p).unwrap().tokens).collect();
    assert!(prompts[0].len() != prompts[1].len(), "the prompts should differ in length");
    let many = engine.generate_batch(&prompts, &p).unwrap();
    assert_eq!(many[0].shared_with, 3, "{backend:?} did not batch");
    let many: Vec<Vec<u32>> = many.into_iter().map(|g| g.tokens).collect();
    assert_eq!(one, many, "{backend:?}");
}
