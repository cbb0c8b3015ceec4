//! Writes tiny GGUF models with random weights (llama and qwen2 layouts, a byte-level
//! vocabulary, a chat template), so loading and generation are tested without a network.
#![allow(dead_code)]

use candle_core::quantized::gguf_file::{self, Value};
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Device, Tensor};
use std::path::Path;

/// GPT-2's byte → printable-char table.
fn byte_chars() -> Vec<char> {
    let mut bs: Vec<u32> = (b'!' as u32..=b'~' as u32).chain(0xA1..=0xAC).chain(0xAE..=0xFF).collect();
    let mut cs = bs.clone();
    let mut n = 0;
    for b in 0..256u32 {
        if !bs.contains(&b) {
            bs.push(b);
            cs.push(256 + n);
            n += 1;
        }
    }
    let mut table = vec![' '; 256];
    for (b, c) in bs.iter().zip(cs) {
        table[*b as usize] = char::from_u32(c).unwrap();
    }
    table
}

pub const EMB: usize = 64;
const FF: usize = 128;

/// Writes a tiny model of `arch` (`llama` or `qwen2`) with weights of `dtype`.
pub fn write(path: &Path, arch: &str, dtype: GgmlDType) {
    let dev = Device::Cpu;
    let mut tokens: Vec<String> = vec!["<|endoftext|>".into(), "<|im_start|>".into(), "<|im_end|>".into()];
    tokens.extend(byte_chars().iter().map(|c| c.to_string()));
    let merges = ["Ġ t".to_string(), "h e".to_string()];
    tokens.extend(["Ġt".to_string(), "he".to_string()]);
    while !tokens.len().is_multiple_of(32) {
        tokens.push(format!("<pad{}>", tokens.len()));
    }
    let vocab = tokens.len();
    let mut types = vec![Value::I32(1); vocab];
    for t in types.iter_mut().take(3) {
        *t = Value::I32(3);
    }
    let s = |x: &str| Value::String(x.to_string());
    let k = |x: &str| format!("{arch}.{x}");
    let md: Vec<(String, Value)> = vec![
        ("general.architecture".into(), s(arch)),
        (k("block_count"), Value::U32(2)),
        (k("context_length"), Value::U32(256)),
        (k("embedding_length"), Value::U32(EMB as u32)),
        (k("feed_forward_length"), Value::U32(FF as u32)),
        (k("attention.head_count"), Value::U32(4)),
        (k("attention.head_count_kv"), Value::U32(2)),
        (k("rope.dimension_count"), Value::U32(16)),
        (k("rope.freq_base"), Value::F32(10000.0)),
        (k("attention.layer_norm_rms_epsilon"), Value::F32(1e-5)),
        ("tokenizer.ggml.model".into(), s("gpt2")),
        ("tokenizer.ggml.pre".into(), s(if arch == "qwen2" { "qwen2" } else { "smollm" })),
        ("tokenizer.ggml.tokens".into(), Value::Array(tokens.iter().map(|t| s(t)).collect())),
        ("tokenizer.ggml.token_type".into(), Value::Array(types)),
        ("tokenizer.ggml.merges".into(), Value::Array(merges.iter().map(|m| s(m)).collect())),
        ("tokenizer.ggml.eos_token_id".into(), Value::U32(2)),
        ("tokenizer.chat_template".into(), s("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")),
    ];
    let q = |shape: (usize, usize), dt: GgmlDType| {
        let t = Tensor::randn(0f32, 0.2, shape, &dev).unwrap();
        QTensor::quantize(&t, dt).unwrap()
    };
    let norm =
        || QTensor::quantize(&Tensor::ones(EMB, candle_core::DType::F32, &dev).unwrap(), GgmlDType::F32).unwrap();
    let mut ts: Vec<(String, QTensor)> =
        vec![("token_embd.weight".into(), q((vocab, EMB), GgmlDType::Q8_0)), ("output_norm.weight".into(), norm())];
    let kv = EMB / 2;
    for l in 0..2 {
        let p = |n: &str| format!("blk.{l}.{n}");
        ts.push((p("attn_norm.weight"), norm()));
        ts.push((p("ffn_norm.weight"), norm()));
        ts.push((p("attn_q.weight"), q((EMB, EMB), dtype)));
        ts.push((p("attn_k.weight"), q((kv, EMB), dtype)));
        ts.push((p("attn_v.weight"), q((kv, EMB), dtype)));
        ts.push((p("attn_output.weight"), q((EMB, EMB), dtype)));
        ts.push((p("ffn_gate.weight"), q((FF, EMB), dtype)));
        ts.push((p("ffn_up.weight"), q((FF, EMB), dtype)));
        ts.push((p("ffn_down.weight"), q((EMB, FF), dtype)));
        if arch == "qwen2" {
            for (n, d) in [("attn_q.bias", EMB), ("attn_k.bias", kv), ("attn_v.bias", kv)] {
                let b = Tensor::zeros(d, candle_core::DType::F32, &dev).unwrap();
                ts.push((p(n), QTensor::quantize(&b, GgmlDType::F32).unwrap()));
            }
        }
    }
    let mut f = std::fs::File::create(path).unwrap();
    let md_refs: Vec<(&str, &Value)> = md.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let t_refs: Vec<(&str, &QTensor)> = ts.iter().map(|(k, v)| (k.as_str(), v)).collect();
    gguf_file::write(&mut f, &md_refs, &t_refs).unwrap();
}
