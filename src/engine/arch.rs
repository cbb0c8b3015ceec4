//! The hyper-parameters of a llama or qwen2 GGUF file, read once from its metadata and
//! checked, for every backend that builds its own transformer (`cpu/` and `dense/`), and the
//! one place a file's context length is read.
//! Reads metadata only; never tensor data.

use super::gguf::{GgufInfo, Value};
use crate::error::{Error, Result};

/// Hyper-parameters read from GGUF metadata.
#[derive(Debug, Clone)]
pub struct Config {
    pub arch: String,
    pub n_layer: usize,
    pub n_embd: usize,
    pub n_head: usize,
    pub n_kv_head: usize,
    pub head_dim: usize,
    pub n_ff: usize,
    pub vocab: usize,
    pub ctx: usize,
    pub rope_base: f32,
    /// qwen2: rotate halves (neox); llama: rotate interleaved pairs (ggml mode 0).
    pub rope_neox: bool,
    pub eps: f32,
}

impl Config {
    /// Reads and checks the hyper-parameters of a checked GGUF file.
    pub fn from_gguf(info: &GgufInfo) -> Result<Config> {
        let err = |msg: String| Error::model(&info.path, msg);
        let int = |key: &str| -> Option<usize> { info.get(key).and_then(Value::as_u64).map(|v| v as usize) };
        let need = |key: &str| int(key).ok_or_else(|| err(format!("missing or non-integer metadata {key}")));
        let float = |key: &str| info.get(key).and_then(Value::as_f64).map(|v| v as f32);
        let arch = info.architecture()?.to_string();
        if arch != "llama" && arch != "qwen2" {
            return Err(err(format!("unsupported architecture {arch} (precis runs llama and qwen2)")));
        }
        let n_embd = need(&format!("{arch}.embedding_length"))?;
        let n_head = need(&format!("{arch}.attention.head_count"))?;
        let n_kv_head = int(&format!("{arch}.attention.head_count_kv")).unwrap_or(n_head);
        let embd = info.tensor("token_embd.weight").ok_or_else(|| err("missing tensor token_embd.weight".into()))?;
        let vocab = embd.shape().first().copied().unwrap_or(0);
        if n_head == 0 || n_kv_head == 0 || !n_head.is_multiple_of(n_kv_head) || !n_embd.is_multiple_of(n_head) {
            return Err(err(format!("unsupported head layout {n_head}/{n_kv_head} for width {n_embd}")));
        }
        let cfg = Config {
            n_layer: need(&format!("{arch}.block_count"))?,
            n_embd,
            n_head,
            n_kv_head,
            head_dim: n_embd / n_head,
            n_ff: need(&format!("{arch}.feed_forward_length"))?,
            vocab,
            ctx: int(&format!("{arch}.context_length")).unwrap_or(4096),
            rope_base: float(&format!("{arch}.rope.freq_base")).unwrap_or(10_000.0),
            rope_neox: arch == "qwen2",
            eps: float(&format!("{arch}.attention.layer_norm_rms_epsilon")).unwrap_or(1e-5),
            arch,
        };
        if !cfg.head_dim.is_multiple_of(2) || cfg.vocab == 0 || cfg.ctx == 0 {
            return Err(err(format!("unsupported shape: head size {}, vocabulary {}", cfg.head_dim, cfg.vocab)));
        }
        Ok(cfg)
    }

    /// Width of the K (or V) projection.
    pub fn kv_dim(&self) -> usize {
        self.n_kv_head * self.head_dim
    }

    /// RoPE angles as (cos, sin) tables of `ctx × head_dim/2`, position-major.
    pub fn rope_tables(&self) -> (Vec<f32>, Vec<f32>) {
        let half = self.head_dim / 2;
        let mut cos = vec![0f32; self.ctx * half];
        let mut sin = vec![0f32; self.ctx * half];
        for p in 0..self.ctx {
            for i in 0..half {
                let theta = p as f64 * (self.rope_base as f64).powf(-2.0 * i as f64 / self.head_dim as f64);
                cos[p * half + i] = theta.cos() as f32;
                sin[p * half + i] = theta.sin() as f32;
            }
        }
        (cos, sin)
    }
}
