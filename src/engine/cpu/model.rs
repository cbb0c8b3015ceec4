//! `CpuModel`: loading a llama or qwen2 GGUF file into repacked weights, rope tables and
//! per-slot KV caches. The forward pass itself lives in `forward.rs`. Owns the model's state;
//! must not touch tokenisation or generation policy.

use super::act::QAct;
use super::features::Tiles;
use super::pool::Pool;
use super::quant::GgmlType;
use super::repack::PackedMatrix;
use crate::engine::arch::Config;
use crate::engine::gguf::GgufInfo;
use crate::error::{Error, Result};
use rayon::prelude::*;
use std::fs::File;
#[cfg(test)]
use std::path::Path;

pub(super) struct Layer {
    pub attn_norm: Vec<f32>,
    pub wq: PackedMatrix,
    pub wk: PackedMatrix,
    pub wv: PackedMatrix,
    /// q, k, v biases concatenated (qwen2), else empty.
    pub qkv_bias: Vec<f32>,
    pub wo: PackedMatrix,
    pub ffn_norm: Vec<f32>,
    pub wg: PackedMatrix,
    pub wu: PackedMatrix,
    pub wd: PackedMatrix,
}

/// One sequence's KV cache in f16, laid out [layer][kv_head][position][head_dim], allocated
/// zeroed (lazily backed by the OS) for the whole context once.
pub(super) struct KvSlot {
    pub k: Vec<u16>,
    pub v: Vec<u16>,
    pub len: usize,
}

/// Reusable buffers for one forward call.
#[derive(Default)]
pub(super) struct Scratch {
    pub x: Vec<f32>,
    pub xn: Vec<f32>,
    pub qkv: Vec<f32>,
    pub att: Vec<f32>,
    pub proj: Vec<f32>,
    pub gu: Vec<f32>,
    pub h: Vec<f32>,
    pub act: QAct,
}

/// A llama / qwen2 model on precis' own CPU kernels.
pub struct CpuModel {
    pub(super) cfg: Config,
    pub(super) embd: PackedMatrix,
    /// `None`: tied to `embd`.
    pub(super) output: Option<PackedMatrix>,
    pub(super) out_norm: Vec<f32>,
    pub(super) layers: Vec<Layer>,
    /// cos/sin tables, [ctx][head_dim/2].
    pub(super) cos: Vec<f32>,
    pub(super) sin: Vec<f32>,
    pub(super) slots: Vec<Option<KvSlot>>,
    pub(super) pool: Pool,
    /// The matmul tiles, chosen at load.
    pub(super) tiles: Tiles,
    pub(super) scratch: Scratch,
}

/// Reads tensors of a checked GGUF file for repacking, from any thread.
struct Loader<'a> {
    info: &'a GgufInfo,
    file: File,
}

impl Loader<'_> {
    fn err(&self, msg: impl Into<String>) -> Error {
        Error::model(&self.info.path, msg)
    }

    fn has(&self, name: &str) -> bool {
        self.info.tensor(name).is_some()
    }

    fn raw(&self, name: &str) -> Result<(GgmlType, Vec<usize>, Vec<u8>)> {
        let t = self.info.tensor(name).ok_or_else(|| self.err(format!("missing tensor {name}")))?;
        let ty = GgmlType::from_id(t.ggml_type)
            .ok_or_else(|| self.err(format!("tensor {name}: unsupported type {}", t.ggml_type)))?;
        let dims = t.shape();
        let elems: usize = dims.iter().product();
        if !elems.is_multiple_of(ty.block_elems()) {
            return Err(self.err(format!("tensor {name}: {elems} elements do not fill {ty:?} blocks")));
        }
        Ok((ty, dims, self.info.read_tensor(&self.file, t)?))
    }

    fn vector(&self, name: &str, len: usize) -> Result<Vec<f32>> {
        let (ty, dims, raw) = self.raw(name)?;
        let n: usize = dims.iter().product();
        if n != len || !matches!(ty, GgmlType::F32 | GgmlType::F16) {
            return Err(self.err(format!("tensor {name}: expected {len} f32 values, got {n} {ty:?}")));
        }
        let mut v = vec![0f32; n];
        super::quant::dequantize_row(ty, &raw, &mut v);
        Ok(v)
    }

    fn matrix(&self, name: &str, n: usize, k: usize) -> Result<PackedMatrix> {
        let (ty, dims, raw) = self.raw(name)?;
        if dims != [n, k] {
            return Err(self.err(format!("tensor {name}: shape {dims:?}, expected [{n}, {k}]")));
        }
        PackedMatrix::from_ggml(ty, &raw, n, k).map_err(|m| self.err(format!("tensor {name}: {m}")))
    }
}

impl CpuModel {
    /// Loads a llama or qwen2 GGUF file (tests), with the best tiles this CPU runs.
    #[cfg(test)]
    pub(crate) fn load(path: &Path, threads: usize) -> Result<Self> {
        Self::from_gguf(&GgufInfo::read(path)?, threads, Tiles::detect(true))
    }

    /// Loads the weights of a GGUF file whose header is already read and checked, for a
    /// pool of `threads` threads (at least 1) running `tiles`.
    pub(crate) fn from_gguf(info: &GgufInfo, threads: usize, tiles: Tiles) -> Result<Self> {
        let l = Loader { info, file: info.open()? };
        let cfg = Config::from_gguf(info)?;
        let (d, kvd, ff) = (cfg.n_embd, cfg.n_kv_head * cfg.head_dim, cfg.n_ff);
        let l = &l;
        // Repacking is most of the load: layers in parallel, beside the embeddings.
        let layer = |i: usize| -> Result<Layer> {
            let p = |s: &str| format!("blk.{i}.{s}");
            let mut qkv_bias = Vec::new();
            if l.has(&p("attn_q.bias")) {
                qkv_bias.extend(l.vector(&p("attn_q.bias"), d)?);
                qkv_bias.extend(l.vector(&p("attn_k.bias"), kvd)?);
                qkv_bias.extend(l.vector(&p("attn_v.bias"), kvd)?);
            }
            Ok(Layer {
                attn_norm: l.vector(&p("attn_norm.weight"), d)?,
                wq: l.matrix(&p("attn_q.weight"), d, d)?,
                wk: l.matrix(&p("attn_k.weight"), kvd, d)?,
                wv: l.matrix(&p("attn_v.weight"), kvd, d)?,
                qkv_bias,
                wo: l.matrix(&p("attn_output.weight"), d, d)?,
                ffn_norm: l.vector(&p("ffn_norm.weight"), d)?,
                wg: l.matrix(&p("ffn_gate.weight"), ff, d)?,
                wu: l.matrix(&p("ffn_up.weight"), ff, d)?,
                wd: l.matrix(&p("ffn_down.weight"), d, ff)?,
            })
        };
        let head = || -> Result<_> {
            let embd = l.matrix("token_embd.weight", cfg.vocab, d)?;
            let output = if l.has("output.weight") { Some(l.matrix("output.weight", cfg.vocab, d)?) } else { None };
            Ok((embd, output, l.vector("output_norm.weight", d)?))
        };
        let (head, layers) =
            rayon::join(head, || (0..cfg.n_layer).into_par_iter().map(layer).collect::<Result<Vec<_>>>());
        let ((embd, output, out_norm), layers) = (head?, layers?);
        let (cos, sin) = cfg.rope_tables();
        Ok(CpuModel {
            cfg,
            embd,
            output,
            out_norm,
            layers,
            cos,
            sin,
            slots: Vec::new(),
            pool: Pool::new(threads),
            tiles,
            scratch: Scratch::default(),
        })
    }

    #[cfg(test)]
    pub(crate) fn vocab_size(&self) -> usize {
        self.cfg.vocab
    }

    pub fn context_length(&self) -> usize {
        self.cfg.ctx
    }

    /// Forget every sequence (the cache memory is kept for reuse).
    pub fn clear_cache(&mut self) {
        for s in self.slots.iter_mut().flatten() {
            s.len = 0;
        }
    }

    /// Makes slot `dst` hold the first `len` cached positions of slot `src`.
    pub fn fork_slot(&mut self, src: usize, dst: usize, len: usize) -> Result<()> {
        let have = self.slots.get(src).and_then(|s| s.as_ref()).map_or(0, |s| s.len);
        if src == dst || len > have {
            return Err(Error::Engine(format!("fork: slot {src} holds {have} positions, {len} asked for slot {dst}")));
        }
        self.slot_mut(dst);
        let (c, hd) = (&self.cfg, self.cfg.head_dim);
        let (a, b) = if src < dst { self.slots.split_at_mut(dst) } else { self.slots.split_at_mut(src) };
        let (from, to) = if src < dst { (&a[src], &mut b[0]) } else { (&b[0], &mut a[dst]) };
        let (Some(from), Some(to)) = (from.as_ref(), to.as_mut()) else {
            return Err(Error::Engine("fork: slot not allocated".into()));
        };
        for block in 0..c.n_layer * c.n_kv_head {
            let o = block * c.ctx * hd;
            to.k[o..o + len * hd].copy_from_slice(&from.k[o..o + len * hd]);
            to.v[o..o + len * hd].copy_from_slice(&from.v[o..o + len * hd]);
        }
        to.len = len;
        Ok(())
    }

    pub(super) fn slot_mut(&mut self, slot: usize) -> &mut KvSlot {
        if self.slots.len() <= slot {
            self.slots.resize_with(slot + 1, || None);
        }
        let c = &self.cfg;
        let n = c.n_layer * c.n_kv_head * c.ctx * c.head_dim;
        self.slots[slot].get_or_insert_with(|| KvSlot { k: vec![0; n], v: vec![0; n], len: 0 })
    }
}
