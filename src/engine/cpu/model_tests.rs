//! End-to-end tests of `CpuModel` on the real model files (the cards' files in the Hugging
//! Face cache, fetched like any run's): llama.cpp's first-step logits and greedy ids,
//! prefill/decode agreement at lengths that are and are not multiples of the tiles,
//! batch/slot independence, and agreement with candle. They run a 135M model over hundreds
//! of tokens, minutes in a debug build, so they are ignored there (`cargo test --release`
//! runs them). Test-only.

use super::CpuModel;
use std::path::{Path, PathBuf};

const SMOL: &str = "smollm2-135m-instruct-q4_1";
const QWEN: &str = "qwen2.5-coder-0.5b-instruct-q4_k_m";

/// A card's model file, through precis's own hub code (cache, hub, then the mirror).
fn model_file(id: &str) -> PathBuf {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let card = crate::registry::find(id).expect("card");
    crate::hub::resolve(&card, &crate::hub::FetchOptions::from_env(false))
        .unwrap_or_else(|e| panic!("cannot get model {id}: {e}"))
        .path
}

fn model(threads: usize) -> CpuModel {
    CpuModel::load(&model_file(SMOL), threads).expect("load")
}

fn fixture(name: &str) -> serde_json::Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).expect("fixture json")
}

/// The bullets_hfsys prompt ids (llama.cpp's, from the tokenizer fixture) and its reference.
fn prompt() -> (Vec<u32>, serde_json::Value) {
    let greedy = fixture("smollm2_greedy_reference.json");
    let run = greedy["runs"]["bullets_hfsys"].clone();
    let toks = fixture("smollm2_tokenizer_ids.json");
    let case = toks
        .as_array()
        .expect("a list of cases")
        .iter()
        .find(|c| c["text"] == run["prompt_text"] && c["special"] == true)
        .expect("the bullets_hfsys prompt in the tokenizer fixture");
    let ids = case["ids"].as_array().expect("ids").iter().map(|v| v.as_u64().unwrap() as u32).collect();
    (ids, run)
}

fn argmax(v: &[f32]) -> u32 {
    v.iter().enumerate().fold((0, f32::MIN), |b, (i, &x)| if x > b.1 { (i, x) } else { b }).0 as u32
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
#[cfg_attr(debug_assertions, ignore = "minutes in a debug build: run with --release")]
fn greedy_matches_llama_cpp() {
    let (mut m, (ids, run)) = (model(2), prompt());
    assert_eq!(ids.len(), run["n_prompt"].as_u64().unwrap() as usize);
    let logits = m.forward(&ids, 0).unwrap();
    assert_eq!(logits.len(), m.vocab_size());
    for e in run["first_step_top10"].as_array().unwrap() {
        let (id, want) = (e["id"].as_u64().unwrap() as usize, e["logit"].as_f64().unwrap() as f32);
        eprintln!("top10 {id}: {} vs llama.cpp {want}", logits[id]);
    }
    for e in run["first_step_top10"].as_array().unwrap() {
        let (id, want) = (e["id"].as_u64().unwrap() as usize, e["logit"].as_f64().unwrap() as f32);
        // llama.cpp keeps an f16 KV cache and f16 activation scales, and this model turns
        // summation-order differences into logit noise: candle differs from llama.cpp by up
        // to 0.3 here, precis by at most 0.37 (0.18 with another float order). Allow 0.5.
        assert!((logits[id] - want).abs() < 0.5, "token {id}: {} vs llama.cpp {want}", logits[id]);
    }
    let want: Vec<u32> = run["gen_ids"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
    let mut got = vec![argmax(&logits)];
    let mut pos = ids.len();
    while got.len() < 64 {
        let l = m.forward(&[*got.last().unwrap()], pos).unwrap();
        pos += 1;
        let (g, w) = (argmax(&l), want[got.len()]);
        if g != w && got[..] == want[..got.len()] {
            eprintln!(
                "first divergence at step {}: precis {g} ({}) vs llama.cpp {w} ({})",
                got.len(),
                l[g as usize],
                l[w as usize]
            );
        }
        got.push(g);
    }
    // The first divergence is a near tie (precis: 13.555 vs 13.517 at step 22 with this
    // kernel's float order; an earlier order matched 62 ids, as candle does).
    let same = got.iter().zip(&want).take_while(|(a, b)| a == b).count();
    eprintln!("greedy: first {same} of 64 ids equal llama.cpp's");
    assert_eq!(got[..16], want[..16]);
}

#[test]
#[cfg_attr(debug_assertions, ignore = "minutes in a debug build: run with --release")]
fn prefill_equals_token_by_token() {
    let (mut m, (ids, _)) = (model(2), prompt());
    let n = 40;
    let mut step = Vec::new();
    for (p, &t) in ids[..n].iter().enumerate() {
        step.push(m.forward(&[t], p).unwrap());
    }
    for len in [1usize, 2, 3, 4, 5, 7, 8, 9, 12, 13, 16, 17, 31, 33, 40] {
        m.clear_cache();
        let all = m.forward_all(&ids[..len], 0).unwrap();
        for (p, l) in all.iter().enumerate() {
            let d = max_diff(l, &step[p]);
            assert!(d < 0.05, "prefill len {len} pos {p}: max logit diff {d}");
        }
        // Continue after a chunked prefill: split at an odd point.
        if len > 6 {
            m.clear_cache();
            m.forward(&ids[..5], 0).unwrap();
            let last = m.forward(&ids[5..len], 5).unwrap();
            let d = max_diff(&last, &step[len - 1]);
            assert!(d < 0.05, "chunked prefill 5+{}: max logit diff {d}", len - 5);
        }
    }
}

#[test]
#[cfg_attr(debug_assertions, ignore = "minutes in a debug build: run with --release")]
fn batch_equals_single_sequences() {
    let (mut m, (ids, _)) = (model(2), prompt());
    let a = &ids[10..23];
    let b = &ids[100..105];
    let c = &ids[200..209];
    let ra = m.forward(a, 0).unwrap();
    m.clear_cache();
    let rb = m.forward(b, 0).unwrap();
    m.clear_cache();
    let rc = m.forward(c, 0).unwrap();
    m.clear_cache();
    let out = m.forward_batch(&[(3, a, 0), (1, b, 0), (0, c, 0)]).unwrap();
    for (x, y) in out.iter().zip([&ra, &rb, &rc]) {
        assert!(max_diff(x, y) < 0.05);
    }
    // One decode step for all three at different depths.
    let next = [argmax(&out[0]), argmax(&out[1]), argmax(&out[2])];
    let step =
        m.forward_batch(&[(3, &next[0..1], a.len()), (1, &next[1..2], b.len()), (0, &next[2..3], c.len())]).unwrap();
    m.clear_cache();
    let mut full = b.to_vec();
    full.push(next[1]);
    let single = m.forward(&full, 0).unwrap();
    assert!(max_diff(&step[1], &single) < 0.05);
}

#[test]
#[cfg_attr(debug_assertions, ignore = "minutes in a debug build: run with --release")]
fn errors_are_one_line() {
    let mut m = model(1);
    let ctx = m.context_length();
    assert!(m.forward(&[1], ctx).is_err());
    assert!(m.forward(&[u32::MAX], 0).is_err());
    assert!(m.forward(&[], 0).is_err());
    let e = match CpuModel::load(Path::new("/nonexistent.gguf"), 1) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("loaded a missing file"),
    };
    assert!(!e.contains('\n'));
}

/// candle 0.11.1's quantized_llama on the same ids: the first 62 greedy ids of candle equal
/// llama.cpp's, and both candle and precis keep f32 caches, so logits must agree closely.
#[test]
#[cfg_attr(debug_assertions, ignore = "minutes in a debug build: run with --release")]
fn logits_match_candle() {
    use candle_core::quantized::gguf_file;
    use candle_core::{Device, Tensor};
    use candle_transformers::models::quantized_llama::ModelWeights;
    let (mut m, (ids, _)) = (model(2), prompt());
    let mut f = std::fs::File::open(model_file(SMOL)).unwrap();
    let content = gguf_file::Content::read(&mut f).unwrap();
    let mut cw = ModelWeights::from_gguf(content, &mut f, &Device::Cpu).unwrap();
    for n in [1usize, 2, 8, 64, 300] {
        cw.clear_kv_cache();
        m.clear_cache();
        let input = Tensor::new(&ids[..n], &Device::Cpu).unwrap().unsqueeze(0).unwrap();
        let want: Vec<f32> = cw.forward(&input, 0).unwrap().squeeze(0).unwrap().to_vec1().unwrap();
        let got = m.forward(&ids[..n], 0).unwrap();
        eprintln!(
            "n={n}: max diff {} (logit range {})",
            max_diff(&got, &want),
            want.iter().fold(0f32, |a, v| a.max(v.abs()))
        );
    }
    cw.clear_kv_cache();
    m.clear_cache();
    let input = Tensor::new(&ids[..], &Device::Cpu).unwrap().unsqueeze(0).unwrap();
    let want: Vec<f32> = cw.forward(&input, 0).unwrap().squeeze(0).unwrap().to_vec1().unwrap();
    let got = m.forward(&ids, 0).unwrap();
    let d = max_diff(&got, &want);
    eprintln!("max |precis - candle| over the vocabulary after {} tokens: {d}", ids.len());
    for id in [18973usize, 788, 504, 49, 67, 33] {
        eprintln!("  {id}: precis {} candle {}", got[id], want[id]);
    }
    assert_eq!(argmax(&got), argmax(&want));
    // Candle and llama.cpp differ by up to 0.3 on the top logits; precis and candle by up
    // to ~0.9 anywhere in the vocabulary (rounding of scales and ties, amplified by 30 layers).
    assert!(d < 1.2, "max logit diff vs candle {d}");
}

/// qwen2 (neox rope, q/k/v biases, Q5_0 and friends) against candle's quantized_qwen2.
#[test]
#[cfg_attr(debug_assertions, ignore = "minutes in a debug build: run with --release")]
fn qwen2_matches_candle() {
    use candle_core::quantized::gguf_file;
    use candle_core::{Device, Tensor};
    use candle_transformers::models::quantized_qwen2::ModelWeights;
    let path = model_file(QWEN);
    let mut m = CpuModel::load(&path, 2).unwrap();
    let mut f = std::fs::File::open(&path).unwrap();
    let content = gguf_file::Content::read(&mut f).unwrap();
    let mut cw = ModelWeights::from_gguf(content, &mut f, &Device::Cpu).unwrap();
    let ids: Vec<u32> = (0..37u32).map(|i| 100 + i * 311).collect();
    let input = Tensor::new(&ids[..], &Device::Cpu).unwrap().unsqueeze(0).unwrap();
    let want: Vec<f32> = cw.forward(&input, 0).unwrap().squeeze(0).unwrap().to_vec1().unwrap();
    let got = m.forward(&ids, 0).unwrap();
    let d = max_diff(&got, &want);
    let range = want.iter().fold(0f32, |a, v| a.max(v.abs()));
    eprintln!("qwen2: max |precis - candle| {d} (logit range {range}), argmax {} vs {}", argmax(&got), argmax(&want));
    assert_eq!(argmax(&got), argmax(&want));
    assert!(d < 0.05 * range, "qwen2 max logit diff vs candle {d}");
}
