//! `DenseModel`: a llama / qwen2 transformer written with candle ops, its weights
//! dequantised once at load to one float type, that decodes a batch of sequences together.
//! Sequences of different lengths are left-padded and masked, so every row of the batch
//! writes its K/V at the same cache index and each keeps its own RoPE position. This is the
//! default on CUDA (candle's quantised models take one position for a whole batch); on the
//! CPU it runs too, slowly, which lets the tests check it against the other backends.
//! On CUDA, a one-token step runs the fused kernels of `fused.rs` (the `no_fused` load
//! switch turns them off). Owns the weights and the batch's KV cache; must not touch tokenisation
//! or sampling.

mod fused;

use super::arch::Config;
use super::gguf::GgufInfo;
use crate::error::{Error, Result};
use candle_core::quantized::ggml_file::qtensor_from_ggml;
use candle_core::quantized::GgmlDType;
use candle_core::{DType, Device, Tensor, D};
use candle_nn::ops::{rms_norm, softmax_last_dim};
use candle_nn::rotary_emb::{rope, rope_i};
use fused::{AddRmsNorm, AttnDecode, Gemv, GemvSiluMul, SiluMul};
use std::fs::File;
use std::path::PathBuf;

/// Positions the KV cache grows by.
const CACHE_STEP: usize = 256;

struct Layer {
    attn_norm: Tensor,
    /// q, k and v projections stacked: [n_embd + 2·kv_dim, n_embd].
    wqkv: Tensor,
    bqkv: Option<Tensor>,
    wo: Tensor,
    ffn_norm: Tensor,
    /// gate and up projections stacked: [2·n_ff, n_embd].
    wgu: Tensor,
    wd: Tensor,
}

/// The sequences decoded together: row `i` is left-padded by `pads[i]` positions.
struct Batch {
    pads: Vec<usize>,
    /// `pads` on the device, for the fused kernels.
    pads_dev: Tensor,
    /// Cache length, padding included (the same for every row).
    len: usize,
    /// Per layer, K and V as `[rows, n_kv_head, capacity, head_dim]`.
    caches: Vec<(Tensor, Tensor)>,
}

impl Batch {
    fn capacity(&self) -> usize {
        self.caches.first().map_or(0, |(k, _)| k.dims()[2])
    }

    /// Grows every cache (by whole `CACHE_STEP`s) to hold `need` positions.
    fn reserve(&mut self, need: usize) -> candle_core::Result<()> {
        let cap = self.capacity();
        if need <= cap {
            return Ok(());
        }
        let extra = need.div_ceil(CACHE_STEP) * CACHE_STEP - cap;
        for (k, v) in &mut self.caches {
            let (b, h, _, d) = k.dims4()?;
            let z = Tensor::zeros((b, h, extra, d), k.dtype(), k.device())?;
            *k = Tensor::cat(&[&*k, &z], 2)?;
            *v = Tensor::cat(&[&*v, &z], 2)?;
        }
        Ok(())
    }
}

pub struct DenseModel {
    cfg: Config,
    device: Device,
    dtype: DType,
    embd: Tensor,
    /// The output head; the same tensor as `embd` when the file ties them.
    output: Tensor,
    out_norm: Tensor,
    layers: Vec<Layer>,
    cos: Tensor,
    sin: Tensor,
    /// The tables in f32, for the fused kernels.
    cos32: Tensor,
    sin32: Tensor,
    /// Whether one-token steps run the fused CUDA kernels.
    fused: bool,
    batch: Option<Batch>,
    path: PathBuf,
}

impl DenseModel {
    /// Loads the weights of a checked llama or qwen2 GGUF file onto `device`, dequantising
    /// every weight to `dtype`; `fused`: one-token steps on CUDA run the fused kernels.
    pub fn load(info: &GgufInfo, device: &Device, dtype: DType, fused: bool) -> Result<Self> {
        let cfg = Config::from_gguf(info)?;
        let path = info.path.as_path();
        let w = Weights { info, file: info.open()?, device, dtype };
        let has = |name: &str| info.tensor(name).is_some();
        let (d, kvd, ff) = (cfg.n_embd, cfg.kv_dim(), cfg.n_ff);
        let embd = w.get("token_embd.weight", &[cfg.vocab, d])?;
        let output = if has("output.weight") { w.get("output.weight", &[cfg.vocab, d])? } else { embd.clone() };
        let out_norm = w.get("output_norm.weight", &[d])?;
        let mut layers = Vec::with_capacity(cfg.n_layer);
        for i in 0..cfg.n_layer {
            let p = |s: &str| format!("blk.{i}.{s}");
            let bqkv = if has(&p("attn_q.bias")) {
                let parts = [
                    w.get(&p("attn_q.bias"), &[d])?,
                    w.get(&p("attn_k.bias"), &[kvd])?,
                    w.get(&p("attn_v.bias"), &[kvd])?,
                ];
                Some(w.cat(&parts)?)
            } else {
                None
            };
            let qkv = [
                w.get(&p("attn_q.weight"), &[d, d])?,
                w.get(&p("attn_k.weight"), &[kvd, d])?,
                w.get(&p("attn_v.weight"), &[kvd, d])?,
            ];
            let gu = [w.get(&p("ffn_gate.weight"), &[ff, d])?, w.get(&p("ffn_up.weight"), &[ff, d])?];
            layers.push(Layer {
                attn_norm: w.get(&p("attn_norm.weight"), &[d])?,
                wqkv: w.cat(&qkv)?,
                bqkv,
                wo: w.get(&p("attn_output.weight"), &[d, d])?,
                ffn_norm: w.get(&p("ffn_norm.weight"), &[d])?,
                wgu: w.cat(&gu)?,
                wd: w.get(&p("ffn_down.weight"), &[d, ff])?,
            });
        }
        let (cos, sin) = cfg.rope_tables();
        let half = cfg.head_dim / 2;
        let table = |v: Vec<f32>| Tensor::from_vec(v, (cfg.ctx, half), device);
        let (cos32, sin32) = (table(cos).map_err(|e| w.err(e))?, table(sin).map_err(|e| w.err(e))?);
        let (cos, sin) = (cos32.to_dtype(dtype).map_err(|e| w.err(e))?, sin32.to_dtype(dtype).map_err(|e| w.err(e))?);
        let fused = fused && device.is_cuda() && matches!(dtype, DType::F32 | DType::F16);
        Ok(DenseModel {
            cfg,
            device: device.clone(),
            dtype,
            embd,
            output,
            out_norm,
            layers,
            cos,
            sin,
            cos32,
            sin32,
            fused,
            batch: None,
            path: path.to_path_buf(),
        })
    }

    /// Runs each kind of operation a forward pass uses once, on small tensors of `dtype`
    /// with the model's widths, and discards the results. The first use of a kernel module
    /// in a process loads it (from the driver's compute cache, or by compiling its PTX), and
    /// cuBLAS loads its kernels on first use too: about 0.2 s on an H100 that would otherwise
    /// land on the first prefill. Called beside the weights' load, so that the two overlap.
    pub fn warm_up(cfg: &Config, device: &Device, dtype: DType) -> candle_core::Result<()> {
        let (d, hd, ff) = (cfg.n_embd, cfg.head_dim, cfg.n_ff);
        let (nkv, rep, n) = (cfg.n_kv_head, cfg.n_head / cfg.n_kv_head, 64);
        let x = Tensor::ones((n, d), dtype, device)?;
        for out in [d + 2 * cfg.kv_dim(), d, 2 * ff] {
            x.matmul(&Tensor::ones((out, d), dtype, device)?.t()?)?;
        }
        let h = Tensor::ones((n, ff), dtype, device)?;
        let y = h.matmul(&Tensor::ones((d, ff), dtype, device)?.t()?)?;
        let y = rms_norm(&(y.add(&x)? * 0.5)?, &Tensor::ones(d, dtype, device)?, 1e-5)?;
        let q = Tensor::ones((1, nkv, rep * n, hd), dtype, device)?;
        let k = Tensor::ones((1, nkv, n, hd), dtype, device)?;
        let att = softmax_last_dim(&q.matmul(&k.t()?)?.broadcast_add(&Tensor::zeros((1, 1, 1, n), dtype, device)?)?)?;
        att.matmul(&k)?;
        let (cos, sin) = (Tensor::ones((1, n, hd / 2), dtype, device)?, Tensor::zeros((1, n, hd / 2), dtype, device)?);
        let qkv = Tensor::ones((1, n, 3, hd), dtype, device)?.transpose(1, 2)?.contiguous()?;
        rope(&qkv, &cos, &sin)?;
        rope_i(&qkv, &cos, &sin)?;
        let ids = Tensor::new(&[0u32, 1], device)?;
        let e = y.index_select(&ids, 0)?.silu()?;
        let gu = Tensor::ones((2, 2 * ff), dtype, device)?;
        if matches!(dtype, DType::F32 | DType::F16) && device.is_cuda() {
            let act = gu.apply_op1_no_bwd(&SiluMul)?;
            act.apply_op2_no_bwd(&Tensor::ones((d, ff), dtype, device)?, &Gemv)?;
        }
        e.narrow(D::Minus1, 0, 8)?.to_dtype(DType::F32)?.to_vec2::<f32>()?;
        Ok(())
    }

    pub fn context_length(&self) -> usize {
        self.cfg.ctx
    }

    /// Forget every sequence.
    pub fn clear_cache(&mut self) {
        self.batch = None;
    }

    /// Runs `(slot, tokens, pos)` for each sequence and returns each one's last logits.
    /// All at `pos` 0 starts a new batch (rows 0..=max slot); later calls must continue
    /// every listed slot where it left off, with the same number of tokens each. Slots not
    /// listed are fed a filler token and their logits dropped.
    pub fn forward_batch(&mut self, seqs: &[(usize, &[u32], usize)]) -> Result<Vec<Vec<f32>>> {
        let step = self.plan(seqs)?;
        let logits = self.run(&step).map_err(|e| self.err(e))?;
        Ok(seqs.iter().map(|(slot, _, _)| logits[*slot].clone()).collect())
    }

    /// Checks the call against the batch (starting a new one at position 0) and lays the
    /// tokens out as a `rows × n` matrix.
    fn plan(&mut self, seqs: &[(usize, &[u32], usize)]) -> Result<Step> {
        if seqs.is_empty() || seqs.iter().any(|(_, t, _)| t.is_empty()) {
            return Err(Error::Engine("dense backend: empty batch or sequence".into()));
        }
        if seqs.iter().all(|(_, _, pos)| *pos == 0) {
            let rows = seqs.iter().map(|s| s.0).max().unwrap_or(0) + 1;
            let n = seqs.iter().map(|s| s.1.len()).max().unwrap_or(0);
            let mut pads = vec![n; rows];
            let mut tokens = vec![0u32; rows * n];
            for (slot, toks, _) in seqs {
                pads[*slot] = n - toks.len();
                tokens[slot * n + pads[*slot]..(slot + 1) * n].copy_from_slice(toks);
            }
            let c = &self.cfg;
            let shape = (rows, c.n_kv_head, n.div_ceil(CACHE_STEP) * CACHE_STEP, c.head_dim);
            let new_batch = || -> candle_core::Result<Batch> {
                let zeros = || Tensor::zeros(shape, self.dtype, &self.device);
                let caches = (0..c.n_layer).map(|_| Ok((zeros()?, zeros()?))).collect::<candle_core::Result<_>>()?;
                let pads_dev =
                    Tensor::from_vec(pads.iter().map(|&p| p as u32).collect::<Vec<_>>(), rows, &self.device)?;
                Ok(Batch { pads, pads_dev, len: 0, caches })
            };
            self.batch = Some(new_batch().map_err(|e| self.err(e))?);
            return self.check_room(Step { rows, n, tokens });
        }
        let Some(batch) = &self.batch else {
            return Err(Error::Engine("dense backend: a sequence continues, but no batch was started".into()));
        };
        let (rows, n) = (batch.pads.len(), seqs[0].1.len());
        let mut tokens = vec![0u32; rows * n];
        for (slot, toks, pos) in seqs {
            if *slot >= rows || toks.len() != n || *pos + batch.pads[*slot] != batch.len {
                return Err(Error::Engine(format!(
                    "dense backend: slot {slot} at position {pos} is out of step with its batch"
                )));
            }
            tokens[slot * n..(slot + 1) * n].copy_from_slice(toks);
        }
        self.check_room(Step { rows, n, tokens })
    }

    fn check_room(&self, step: Step) -> Result<Step> {
        let len = self.batch.as_ref().map_or(0, |b| b.len);
        if len + step.n > self.cfg.ctx {
            return Err(Error::Engine(format!(
                "the batch needs {} positions; the model holds {}",
                len + step.n,
                self.cfg.ctx
            )));
        }
        Ok(step)
    }

    /// One forward pass over the batch; returns the last position's logits of every row.
    fn run(&mut self, step: &Step) -> candle_core::Result<Vec<Vec<f32>>> {
        let c = &self.cfg;
        let (b, n) = (step.rows, step.n);
        let (d, hd, nh, nkv) = (c.n_embd, c.head_dim, c.n_head, c.n_kv_head);
        let (rep, ff, eps) = (nh / nkv, c.n_ff, c.eps as f64);
        let Some(batch) = self.batch.as_mut() else { candle_core::bail!("no batch") };
        let len = batch.len;
        let total = len + n;
        batch.reserve(total)?;
        let fused = self.fused && n == 1 && AttnDecode::fits(hd, total);
        let dev = &self.device;

        let positions: Vec<u32> =
            batch.pads.iter().flat_map(|&pad| (len..total).map(move |me| me.saturating_sub(pad) as u32)).collect();
        let positions = Tensor::from_vec(positions, b * n, dev)?;
        let (cos, sin) = if fused { (&self.cos32, &self.sin32) } else { (&self.cos, &self.sin) };
        let cos = cos.index_select(&positions, 0)?.reshape((b, n, hd / 2))?;
        let sin = sin.index_select(&positions, 0)?.reshape((b, n, hd / 2))?;
        // Causal within the new tokens, and padding hidden (a row's own newest key never
        // is); nothing to hide for one token of unpadded rows, or in the fused kernel.
        let mask = if !fused && (n > 1 || batch.pads.iter().any(|&p| p > 0)) {
            let mut mask = Vec::with_capacity(b * n * total);
            for &pad in &batch.pads {
                for me in len..total {
                    mask.extend((0..total).map(|k| {
                        if k <= me && (k >= pad || k == me) {
                            0f32
                        } else {
                            f32::NEG_INFINITY
                        }
                    }));
                }
            }
            Some(Tensor::from_vec(mask, (b, 1, 1, n, total), dev)?.to_dtype(self.dtype)?)
        } else {
            None
        };
        let rotate = |x: &Tensor| if c.rope_neox { rope(x, &cos, &sin) } else { rope_i(x, &cos, &sin) };
        let scale = 1.0 / (hd as f64).sqrt();

        let ids = Tensor::from_vec(step.tokens.clone(), b * n, dev)?;
        // The residual sum and its norm for the next block; one fused pass on CUDA.
        let add_norm = |x: &Tensor, y: &Tensor, w: &Tensor| -> candle_core::Result<(Tensor, Tensor)> {
            if fused {
                let both = x.apply_op3_no_bwd(y, w, &AddRmsNorm { eps: eps as f32 })?;
                Ok((both.get(0)?, both.get(1)?))
            } else {
                let sum = x.add(y)?;
                let norm = rms_norm(&sum, w, eps as f32)?;
                Ok((sum, norm))
            }
        };
        // x · wᵀ: precis's kernel for a decode step's few rows on CUDA, else candle's matmul.
        let linear = |x: &Tensor, w: &Tensor| -> candle_core::Result<Tensor> {
            let (rows, k) = x.dims2()?;
            if fused && Gemv::fits(rows, k) {
                x.apply_op2_no_bwd(w, &Gemv)
            } else {
                x.matmul(&w.t()?)
            }
        };
        let mut x = self.embd.index_select(&ids, 0)?;
        let mut h = rms_norm(&x, self.layers.first().map_or(&self.out_norm, |l| &l.attn_norm), eps as f32)?;
        for (i, (layer, cache)) in self.layers.iter().zip(batch.caches.iter_mut()).enumerate() {
            let mut qkv = linear(&h, &layer.wqkv)?;
            if let Some(bias) = &layer.bqkv {
                qkv = qkv.broadcast_add(bias)?;
            }
            let o = if fused {
                let op = AttnDecode {
                    k: cache.0.clone(),
                    v: cache.1.clone(),
                    pads: batch.pads_dev.clone(),
                    len,
                    n_head: nh,
                    n_kv_head: nkv,
                    head_dim: hd,
                    neox: c.rope_neox,
                    scale: scale as f32,
                };
                qkv.apply_op3_no_bwd(&cos, &sin, &op)?
            } else {
                let qkv = qkv.reshape((b, n, nh + 2 * nkv, hd))?.transpose(1, 2)?;
                let q = rotate(&qkv.narrow(1, 0, nh)?.contiguous()?)?;
                let k = rotate(&qkv.narrow(1, nh, nkv)?.contiguous()?)?;
                let v = qkv.narrow(1, nh + nkv, nkv)?.contiguous()?;
                cache.0.slice_set(&k, 2, len)?;
                cache.1.slice_set(&v, 2, len)?;
                let (k, v) = (cache.0.narrow(2, 0, total)?, cache.1.narrow(2, 0, total)?);
                // Query heads that share a KV head sit side by side: one matmul per KV head.
                let q = (q * scale)?.reshape((b, nkv, rep * n, hd))?;
                let mut att = q.matmul(&k.t()?)?;
                if let Some(mask) = &mask {
                    att =
                        att.reshape((b, nkv, rep, n, total))?.broadcast_add(mask)?.reshape((b, nkv, rep * n, total))?;
                }
                let o = softmax_last_dim(&att)?.matmul(&v)?;
                o.reshape((b, nh, n, hd))?.transpose(1, 2)?.reshape((b * n, d))?
            };
            (x, h) = add_norm(&x, &linear(&o, &layer.wo)?, &layer.ffn_norm)?;
            let gu = linear(&h, &layer.wgu)?;
            let down = if fused && Gemv::fits(gu.dims2()?.0, ff) {
                gu.apply_op2_no_bwd(&layer.wd, &GemvSiluMul)?
            } else if fused {
                linear(&gu.apply_op1_no_bwd(&SiluMul)?, &layer.wd)?
            } else {
                linear(&(gu.narrow(D::Minus1, 0, ff)?.silu()? * gu.narrow(D::Minus1, ff, ff)?)?, &layer.wd)?
            };
            // After the last block, the norm is the output norm.
            let next = self.layers.get(i + 1).map_or(&self.out_norm, |l| &l.attn_norm);
            (x, h) = add_norm(&x, &down, next)?;
        }
        batch.len = total;
        let last = h.reshape((b, n, d))?.narrow(1, n - 1, 1)?.reshape((b, d))?;
        linear(&last, &self.output)?.to_dtype(DType::F32)?.to_vec2::<f32>()
    }

    fn err(&self, e: candle_core::Error) -> Error {
        Error::Engine(format!("{}: {}", self.path.display(), super::device::first_line(&e.to_string())))
    }
}

/// One call's tokens, `rows × n`, row-major.
struct Step {
    rows: usize,
    n: usize,
    tokens: Vec<u32>,
}

/// Reads tensors from the file, checks their shapes, and dequantises them on the device.
struct Weights<'a> {
    info: &'a GgufInfo,
    file: File,
    device: &'a Device,
    dtype: DType,
}

impl Weights<'_> {
    fn err(&self, e: impl std::fmt::Display) -> Error {
        Error::model(&self.info.path, super::device::first_line(&e.to_string()))
    }

    fn get(&self, name: &str, dims: &[usize]) -> Result<Tensor> {
        let t = self.info.tensor(name).ok_or_else(|| self.err(format!("missing tensor {name}")))?;
        if t.shape() != dims {
            return Err(self.err(format!("tensor {name}: shape {:?}, expected {dims:?}", t.shape())));
        }
        let ty = ggml_dtype(t.ggml_type)
            .ok_or_else(|| self.err(format!("tensor {name}: unsupported type {}", t.ggml_type)))?;
        let raw = self.info.read_tensor(&self.file, t)?;
        qtensor_from_ggml(ty, &raw, t.shape(), self.device)
            .and_then(|q| q.dequantize(self.device))
            .and_then(|t| t.to_dtype(self.dtype))
            .map_err(|e| self.err(format!("tensor {name}: {e}")))
    }

    fn cat(&self, parts: &[Tensor]) -> Result<Tensor> {
        Tensor::cat(parts, 0).map_err(|e| self.err(e))
    }
}

/// candle's type for a ggml type id.
fn ggml_dtype(id: u32) -> Option<GgmlDType> {
    Some(match id {
        0 => GgmlDType::F32,
        1 => GgmlDType::F16,
        2 => GgmlDType::Q4_0,
        3 => GgmlDType::Q4_1,
        6 => GgmlDType::Q5_0,
        7 => GgmlDType::Q5_1,
        8 => GgmlDType::Q8_0,
        10 => GgmlDType::Q2K,
        11 => GgmlDType::Q3K,
        12 => GgmlDType::Q4K,
        13 => GgmlDType::Q5K,
        14 => GgmlDType::Q6K,
        30 => GgmlDType::BF16,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warm_up_runs_with_smollm2s_widths() {
        let cfg = Config {
            arch: "llama".into(),
            n_layer: 30,
            n_embd: 576,
            n_head: 9,
            n_kv_head: 3,
            head_dim: 64,
            n_ff: 1536,
            vocab: 49152,
            ctx: 8192,
            rope_base: 10000.0,
            rope_neox: false,
            eps: 1e-5,
        };
        DenseModel::warm_up(&cfg, &Device::Cpu, DType::F32).unwrap();
    }
}
