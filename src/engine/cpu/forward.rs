//! The forward pass of `CpuModel`: embeddings, RMSNorm, fused QKV, rope, KV-cache writes (f16),
//! grouped-query attention (K/V never repeated), fused gate/up with SiLU, down projection,
//! and logits. Several sequences go through one pass, each with its own cache slot.
//! Owns the per-call computation; must not change how weights are loaded or packed.

use super::attn::attend_group;
use super::half;
use super::kernels::OutPtr;
use super::matmul::{dot, matmul};
use super::model::{CpuModel, KvSlot};
use super::pool::Pool;
use crate::error::{Error, Result};

fn rmsnorm(x: &[f32], w: &[f32], eps: f32, y: &mut [f32]) {
    let ss = dot(x, x) / x.len() as f32;
    let s = 1.0 / (ss + eps).sqrt();
    for ((o, &v), &g) in y.iter_mut().zip(x).zip(w) {
        *o = v * s * g;
    }
}

fn rope(v: &mut [f32], cos: &[f32], sin: &[f32], neox: bool) {
    let half = cos.len();
    for i in 0..half {
        let (a, b) = if neox { (i, i + half) } else { (2 * i, 2 * i + 1) };
        let (x0, x1) = (v[a], v[b]);
        v[a] = x0 * cos[i] - x1 * sin[i];
        v[b] = x0 * sin[i] + x1 * cos[i];
    }
}

/// Rows per forward call for long single-sequence prompts (bounds the scratch buffers).
pub const PREFILL_CHUNK: usize = 512;

/// What attention needs to know about one row of the batch.
#[derive(Clone, Copy)]
struct RowInfo {
    slot: usize,
    pos: usize,
}

impl CpuModel {
    /// Prefill or decode slot 0: feed `tokens` at positions `pos..`; logits of the last one.
    /// Long prompts go through in chunks of `PREFILL_CHUNK` rows to bound scratch memory.
    pub fn forward(&mut self, tokens: &[u32], pos: usize) -> Result<Vec<f32>> {
        let mut last = Vec::new();
        for (i, chunk) in tokens.chunks(PREFILL_CHUNK).enumerate() {
            last = self.run(&[(0, chunk, pos + i * PREFILL_CHUNK)], false)?;
        }
        if tokens.is_empty() {
            return Err(Error::Engine("forward: no tokens".into()));
        }
        Ok(last.pop().unwrap_or_default())
    }

    /// Like [`forward`](Self::forward) but returns the logits of every position fed (tests).
    #[cfg(test)]
    pub(crate) fn forward_all(&mut self, tokens: &[u32], pos: usize) -> Result<Vec<Vec<f32>>> {
        let mut all = Vec::with_capacity(tokens.len());
        for (i, chunk) in tokens.chunks(PREFILL_CHUNK).enumerate() {
            all.extend(self.run(&[(0, chunk, pos + i * PREFILL_CHUNK)], true)?);
        }
        Ok(all)
    }

    /// Several sequences at once, each `(slot, tokens, pos)` with its own KV cache slot;
    /// returns the last-position logits of each, in order.
    pub fn forward_batch(&mut self, seqs: &[(usize, &[u32], usize)]) -> Result<Vec<Vec<f32>>> {
        self.run(seqs, false)
    }

    fn run(&mut self, seqs: &[(usize, &[u32], usize)], all: bool) -> Result<Vec<Vec<f32>>> {
        let c = self.cfg.clone();
        let (d, hd, nh, nkv) = (c.n_embd, c.head_dim, c.n_head, c.n_kv_head);
        let kvd = nkv * hd;
        let mut rows = Vec::new();
        for (i, &(slot, toks, pos)) in seqs.iter().enumerate() {
            if toks.is_empty() {
                return Err(Error::Engine(format!("sequence {i}: no tokens")));
            }
            if seqs[..i].iter().any(|s| s.0 == slot) {
                return Err(Error::Engine(format!("slot {slot} appears twice in one batch")));
            }
            if pos + toks.len() > c.ctx {
                return Err(Error::Engine(format!("context full: {} + {} > {}", pos, toks.len(), c.ctx)));
            }
            let have = self.slot_mut(slot).len;
            if pos > have {
                return Err(Error::Engine(format!("slot {slot}: position {pos} after cache length {have}")));
            }
            if let Some(t) = toks.iter().find(|&&t| t as usize >= c.vocab) {
                return Err(Error::Engine(format!("token id {t} out of vocabulary ({})", c.vocab)));
            }
            rows.extend((0..toks.len()).map(|j| RowInfo { slot, pos: pos + j }));
        }
        let m = rows.len();
        let mut s = std::mem::take(&mut self.scratch);
        s.x.resize(m * d, 0.0);
        s.xn.resize(m * d, 0.0);
        let mut r = 0;
        for &(_, toks, _) in seqs {
            for &t in toks {
                self.embd.dequant_row(t as usize, &mut s.x[r * d..(r + 1) * d]);
                r += 1;
            }
        }
        let ldq = d + 2 * kvd;
        let half = hd / 2;
        for (li, layer) in self.layers.iter().enumerate() {
            // Attention block.
            for r in 0..m {
                rmsnorm(&s.x[r * d..(r + 1) * d], &layer.attn_norm, c.eps, &mut s.xn[r * d..(r + 1) * d]);
            }
            s.act.quantize(&s.xn, m, d);
            s.qkv.resize(m * ldq, 0.0);
            matmul(&self.pool, self.tiles, &[&layer.wq, &layer.wk, &layer.wv], &s.act, &mut s.qkv);
            for (r, info) in rows.iter().enumerate() {
                let row = &mut s.qkv[r * ldq..(r + 1) * ldq];
                if !layer.qkv_bias.is_empty() {
                    for (v, b) in row.iter_mut().zip(&layer.qkv_bias) {
                        *v += b;
                    }
                }
                let (cs, sn) = (&self.cos[info.pos * half..][..half], &self.sin[info.pos * half..][..half]);
                for h in 0..nh + nkv {
                    rope(&mut row[h * hd..(h + 1) * hd], cs, sn, c.rope_neox);
                }
                let slot = self.slots[info.slot].as_mut().expect("slot allocated");
                for h in 0..nkv {
                    let o = ((li * nkv + h) * c.ctx + info.pos) * hd;
                    half::to_f16(&row[d + h * hd..d + (h + 1) * hd], &mut slot.k[o..o + hd]);
                    half::to_f16(&row[d + kvd + h * hd..d + kvd + (h + 1) * hd], &mut slot.v[o..o + hd]);
                }
            }
            s.att.resize(m * d, 0.0);
            attention(&self.pool, &self.slots, &rows, &s.qkv, &mut s.att, li, &c);
            s.act.quantize(&s.att, m, d);
            s.proj.resize(m * d, 0.0);
            matmul(&self.pool, self.tiles, &[&layer.wo], &s.act, &mut s.proj);
            for (x, p) in s.x.iter_mut().zip(&s.proj) {
                *x += p;
            }
            // Feed-forward block.
            for r in 0..m {
                rmsnorm(&s.x[r * d..(r + 1) * d], &layer.ffn_norm, c.eps, &mut s.xn[r * d..(r + 1) * d]);
            }
            s.act.quantize(&s.xn, m, d);
            let ff = c.n_ff;
            s.gu.resize(m * 2 * ff, 0.0);
            matmul(&self.pool, self.tiles, &[&layer.wg, &layer.wu], &s.act, &mut s.gu);
            s.h.resize(m * ff, 0.0);
            for r in 0..m {
                let (g, u) = s.gu[r * 2 * ff..(r + 1) * 2 * ff].split_at(ff);
                super::vexp::silu_mul(g, u, &mut s.h[r * ff..(r + 1) * ff]);
            }
            s.act.quantize(&s.h, m, ff);
            matmul(&self.pool, self.tiles, &[&layer.wd], &s.act, &mut s.proj);
            for (x, p) in s.x.iter_mut().zip(&s.proj) {
                *x += p;
            }
        }
        // Logits for the last row of each sequence, or for every row.
        let picked: Vec<usize> = if all {
            (0..m).collect()
        } else {
            let mut end = 0;
            seqs.iter()
                .map(|q| {
                    end += q.1.len();
                    end - 1
                })
                .collect()
        };
        for (i, &r) in picked.iter().enumerate() {
            let (src, dst) = (r * d, i * d);
            let row: Vec<f32> = s.x[src..src + d].to_vec();
            rmsnorm(&row, &self.out_norm, c.eps, &mut s.xn[dst..dst + d]);
        }
        s.act.quantize(&s.xn, picked.len(), d);
        let out_m = self.output.as_ref().unwrap_or(&self.embd);
        let mut logits = vec![0f32; picked.len() * c.vocab];
        matmul(&self.pool, self.tiles, &[out_m], &s.act, &mut logits);
        for &(slot, toks, pos) in seqs {
            self.slot_mut(slot).len = pos + toks.len();
        }
        self.scratch = s;
        Ok(logits.chunks(c.vocab).map(|l| l.to_vec()).collect())
    }
}

/// Rows of one sequence whose queries go through attention together (with the query heads
/// of one KV head: 4 rows × 3 heads for SmolLM2), so each K/V block is read once for them.
const ROW_GROUP: usize = 4;

/// Causal grouped-query attention of every batch row over its own slot's cache (which
/// already holds this layer's K/V for all rows). Query heads `h` read KV head `h / group`.
/// A task is a run of up to ROW_GROUP consecutive rows of one sequence and one KV head.
fn attention(
    pool: &Pool,
    slots: &[Option<KvSlot>],
    rows: &[RowInfo],
    qkv: &[f32],
    att: &mut [f32],
    li: usize,
    c: &crate::engine::arch::Config,
) {
    let (d, hd, nh, nkv) = (c.n_embd, c.head_dim, c.n_head, c.n_kv_head);
    let ldq = d + 2 * nkv * hd;
    let group = nh / nkv;
    assert!(att.len() >= rows.len() * d && nkv * group * hd == d, "attention output buffer");
    let scale = 1.0 / (hd as f32).sqrt();
    // Runs of consecutive rows of the same slot, at most ROW_GROUP long: (first row, count).
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for (r, info) in rows.iter().enumerate() {
        match runs.last_mut() {
            Some((r0, n)) if *n < ROW_GROUP && rows[*r0].slot == info.slot => *n += 1,
            _ => runs.push((r, 1)),
        }
    }
    let tasks = runs.len() * nkv;
    let nt = if pool.threads() == 1 { 1 } else { (4 * pool.threads()).min(tasks) };
    let out = OutPtr { ptr: att.as_mut_ptr(), ldo: d };
    let max_n = rows.iter().map(|r| r.pos + 1).max().unwrap_or(0);
    pool.run(nt, &|t| {
        let nq_max = ROW_GROUP * group;
        let mut sc = vec![0f32; nq_max * max_n];
        let (mut qs, mut os) = (vec![0f32; nq_max * hd], vec![0f32; nq_max * hd]);
        let mut ns = Vec::with_capacity(nq_max);
        let mut task = t;
        while task < tasks {
            let ((r0, nr), g) = (runs[task / nkv], task % nkv);
            let slot = slots[rows[r0].slot].as_ref().expect("slot allocated");
            ns.clear();
            for r in r0..r0 + nr {
                let q = &qkv[r * ldq + g * group * hd..r * ldq + (g + 1) * group * hd];
                qs[ns.len() * hd..(ns.len() + group) * hd].copy_from_slice(q);
                ns.extend(std::iter::repeat_n(rows[r].pos + 1, group));
            }
            let n = rows[r0 + nr - 1].pos + 1;
            let base = ((li * nkv + g) * c.ctx) * hd;
            let kv = base..base + n * hd;
            attend_group(&qs, hd, &ns, &slot.k[kv.clone()], &slot.v[kv], scale, &mut sc, &mut os);
            for (i, r) in (r0..r0 + nr).enumerate() {
                // SAFETY: r < rows.len() and g * group * hd + group * hd <= d, so the offset and
                // the group * hd values copied lie inside `att` (rows.len() × d); each (run, KV
                // head) task writes only its own rows' heads of that KV head.
                unsafe {
                    let o = out.offset(r * d + g * group * hd);
                    std::ptr::copy_nonoverlapping(os.as_ptr().add(i * group * hd), o.ptr, group * hd)
                };
            }
            task += nt;
        }
    });
}
