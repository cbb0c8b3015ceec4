//! Load-time repacking of ggml weight rows into the layouts the kernels read: every format
//! becomes 32-element blocks with f32 scales, in one of four kinds. Owns `PackedMatrix` only;
//! must not know about the model, the thread pool or the SIMD code.
//!
//! - `U4`  (Q4_0, Q4_1, Q4_K): nibbles, value = d*q + m with q in 0..16, interleaved by groups
//!   of 8 output rows ("columns"): per (group, block) 128 bytes, where byte `32p + 4j + e`
//!   holds element `4p + e` of column j (low nibble) and element `16 + 4p + e` (high);
//!   then 8 scales and 8 minimums per (group, block). Columns past `n` are zero.
//! - `U5`  (Q5_0): nibbles interleaved exactly as `U4`, plus the fifth bits: per (group,
//!   block) 8 u32, one per 32-byte nibble vector the kernels unpack (for half h: the low and
//!   high nibbles of bytes 64h.., then of bytes 64h+32..), bit i for byte i; value = d*q + m
//!   with q in 0..32; 8 scales and 8 minimums per (group, block).
//! - `U8`  (Q8_0, F32, F16): bytes q+128, interleaved by groups of 8 columns like `U4`: per
//!   (group, block) 256 bytes, where byte `32p + 4j + e` holds element `4p + e` of column j;
//!   value = d*u + m with u in 0..256 and m = -128d (so the kernels treat it as `U4` does,
//!   and AVX-512 VNNI multiplies it, unsigned, by the signed activations); 8 scales and 8
//!   minimums per (group, block).
//! - `I8h` (Q6_K): 32 signed bytes with one scale per 16-element half.

#![allow(clippy::needless_range_loop)] // block loops index several parallel arrays

use super::quant::{f16_to_f32, scale_min_k4, GgmlType};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    U4,
    U5,
    U8,
    I8h,
}

/// A weight matrix of `n` output rows by `k` inputs, repacked for the kernels.
#[derive(Debug, Clone)]
pub struct PackedMatrix {
    pub kind: Kind,
    pub n: usize,
    pub k: usize,
    /// Blocks per row (`k / 32`).
    pub nb: usize,
    /// Quant bytes: U4, U5 and U8 by groups of 8 rows (128, 128 or 256 bytes per group and
    /// block), or 32 per block for I8h.
    pub qs: Vec<u8>,
    /// U5 only: fifth bits, 8 u32 per (group, block).
    pub qh: Vec<u32>,
    /// Scales: one per block (two for I8h); U4/U5/U8 by groups of 8 rows.
    pub d: Vec<f32>,
    /// U4/U5/U8 only: additive minimum per block, by groups of 8 rows.
    pub m: Vec<f32>,
}

fn rd16(b: &[u8], o: usize) -> f32 {
    f16_to_f32(u16::from_le_bytes([b[o], b[o + 1]]))
}

/// Integer values and scales of 32-element block `b` of a ggml row: value = d[half]*q + m.
fn block_ints(ty: GgmlType, row: &[u8], b: usize, q: &mut [i32; 32]) -> ([f32; 2], f32) {
    match ty {
        GgmlType::Q4_0 | GgmlType::Q4_1 => {
            let off = b * ty.block_bytes();
            let blk = &row[off..off + ty.block_bytes()];
            let (d, m, qs) = if ty == GgmlType::Q4_0 {
                let d = rd16(blk, 0);
                (d, -8.0 * d, &blk[2..18])
            } else {
                (rd16(blk, 0), rd16(blk, 2), &blk[4..20])
            };
            for j in 0..16 {
                q[j] = (qs[j] & 0xf) as i32;
                q[j + 16] = (qs[j] >> 4) as i32;
            }
            ([d, d], m)
        }
        GgmlType::Q5_0 => {
            let blk = &row[b * 22..b * 22 + 22];
            let d = rd16(blk, 0);
            let qh = u32::from_le_bytes([blk[2], blk[3], blk[4], blk[5]]);
            for j in 0..16 {
                let x = blk[6 + j] as u32;
                q[j] = ((x & 0xf) | (((qh >> j) & 1) << 4)) as i32;
                q[j + 16] = ((x >> 4) | (((qh >> (j + 16)) & 1) << 4)) as i32;
            }
            ([d, d], -16.0 * d)
        }
        GgmlType::Q8_0 => {
            let blk = &row[b * 34..b * 34 + 34];
            let d = rd16(blk, 0);
            for j in 0..32 {
                q[j] = blk[2 + j] as i8 as i32;
            }
            ([d, d], 0.0)
        }
        GgmlType::Q4K => {
            let blk = &row[(b / 8) * 144..(b / 8) * 144 + 144];
            let j = b % 8;
            let (d, dmin) = (rd16(blk, 0), rd16(blk, 2));
            let (sc, mn) = scale_min_k4(j, &blk[4..16]);
            let qs = &blk[16 + 32 * (j / 2)..16 + 32 * (j / 2) + 32];
            for l in 0..32 {
                q[l] = if j.is_multiple_of(2) { qs[l] & 0xf } else { qs[l] >> 4 } as i32;
            }
            let ds = d * sc as f32;
            ([ds, ds], -(dmin * mn as f32))
        }
        GgmlType::Q6K => {
            let blk = &row[(b / 8) * 210..(b / 8) * 210 + 210];
            let (j, half) = (b % 8, (b % 8) / 4);
            let t = j % 4;
            let ql = &blk[64 * half..64 * half + 64];
            let qh = &blk[128 + 32 * half..128 + 32 * half + 32];
            let sc = &blk[192 + 8 * half..192 + 8 * half + 8];
            let d = rd16(blk, 208);
            for l in 0..32 {
                let v = match t {
                    0 => (ql[l] & 0xf) | ((qh[l] & 3) << 4),
                    1 => (ql[l + 32] & 0xf) | (((qh[l] >> 2) & 3) << 4),
                    2 => (ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4),
                    _ => (ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4),
                };
                q[l] = v as i32 - 32;
            }
            let d0 = d * (sc[2 * t] as i8) as f32;
            let d1 = d * (sc[2 * t + 1] as i8) as f32;
            ([d0, d1], 0.0)
        }
        GgmlType::F32 | GgmlType::F16 => {
            let mut x = [0f32; 32];
            for (i, v) in x.iter_mut().enumerate() {
                let e = b * 32 + i;
                *v = if ty == GgmlType::F32 {
                    f32::from_le_bytes([row[4 * e], row[4 * e + 1], row[4 * e + 2], row[4 * e + 3]])
                } else {
                    rd16(row, 2 * e)
                };
            }
            let amax = x.iter().fold(0f32, |a, v| a.max(v.abs()));
            let d = amax / 127.0;
            let id = if d > 0.0 { 1.0 / d } else { 0.0 };
            for (qi, v) in q.iter_mut().zip(x) {
                *qi = (v * id).round() as i32;
            }
            ([d, d], 0.0)
        }
    }
}

impl PackedMatrix {
    /// Repack `n` ggml rows of `k` elements from `raw`. Errors name the unsupported shape.
    pub fn from_ggml(ty: GgmlType, raw: &[u8], n: usize, k: usize) -> Result<Self, String> {
        if !k.is_multiple_of(32) || !k.is_multiple_of(ty.block_elems()) {
            return Err(format!("row length {k} is not a multiple of {ty:?}'s block"));
        }
        let rb = ty.row_bytes(k);
        if raw.len() < rb * n {
            return Err(format!("tensor data truncated: {} < {}", raw.len(), rb * n));
        }
        let kind = match ty {
            GgmlType::Q4_0 | GgmlType::Q4_1 | GgmlType::Q4K => Kind::U4,
            GgmlType::Q5_0 => Kind::U5,
            GgmlType::Q8_0 | GgmlType::F32 | GgmlType::F16 => Kind::U8,
            GgmlType::Q6K => Kind::I8h,
        };
        let nb = k / 32;
        let mut p = PackedMatrix {
            kind,
            n,
            k,
            nb,
            qs: vec![
                0;
                match kind {
                    Kind::U4 | Kind::U5 => n.div_ceil(8) * nb * 128,
                    Kind::U8 => n.div_ceil(8) * nb * 256,
                    Kind::I8h => n * nb * 32,
                }
            ],
            qh: if kind == Kind::U5 { vec![0; n.div_ceil(8) * nb * 8] } else { Vec::new() },
            d: vec![
                0.0;
                match kind {
                    Kind::U4 | Kind::U5 | Kind::U8 => n.div_ceil(8) * 8 * nb,
                    Kind::I8h => 2 * n * nb,
                }
            ],
            m: match kind {
                Kind::U4 | Kind::U5 | Kind::U8 => vec![0.0; n.div_ceil(8) * 8 * nb],
                Kind::I8h => Vec::new(),
            },
        };
        let mut q = [0i32; 32];
        for r in 0..n {
            let row = &raw[r * rb..(r + 1) * rb];
            for b in 0..nb {
                let (d, m) = block_ints(ty, row, b, &mut q);
                let i = r * nb + b;
                match kind {
                    Kind::U4 | Kind::U5 => {
                        // Element j (low nibble) shares its byte with element 16 + j (high):
                        // whole bytes, at the places `u4_pos` gives.
                        for j in 0..16 {
                            let o = p.u4_pos(r, b, j).0;
                            p.qs[o] = ((q[j] & 0xf) | ((q[16 + j] & 0xf) << 4)) as u8;
                        }
                        if kind == Kind::U5 {
                            for (j, &v) in q.iter().enumerate() {
                                let (word, bit) = p.fifth_bit_pos(r, b, j);
                                p.qh[word] |= ((v as u32 >> 4) & 1) << bit;
                            }
                        }
                        let s = p.scale_index(r, b);
                        p.d[s] = d[0];
                        p.m[s] = m;
                    }
                    Kind::U8 => {
                        for (j, &v) in q.iter().enumerate() {
                            let o = p.u8_pos(r, b, j);
                            p.qs[o] = (v + 128) as u8;
                        }
                        let s = p.scale_index(r, b);
                        p.d[s] = d[0];
                        p.m[s] = -128.0 * d[0];
                    }
                    Kind::I8h => {
                        for j in 0..32 {
                            p.qs[i * 32 + j] = q[j] as i8 as u8;
                        }
                        p.d[2 * i] = d[0];
                        p.d[2 * i + 1] = d[1];
                    }
                }
            }
        }
        Ok(p)
    }

    /// Dequantise output row `r` into `y` (`k` values): the embedding lookup and tests use it.
    pub fn dequant_row(&self, r: usize, y: &mut [f32]) {
        for b in 0..self.nb {
            let i = r * self.nb + b;
            let yb = &mut y[b * 32..b * 32 + 32];
            match self.kind {
                Kind::U4 | Kind::U5 => {
                    for (j, y) in yb.iter_mut().enumerate() {
                        let q = self.u4_at(r, b, j) as u32 | (self.fifth_bit(r, b, j) << 4);
                        let (d, m) = self.dm(r, b);
                        *y = d * q as f32 + m;
                    }
                }
                Kind::U8 => {
                    // d * q exactly (as ggml computes it), not d * u + m.
                    let d = self.dm(r, b).0;
                    for (j, y) in yb.iter_mut().enumerate() {
                        *y = d * (self.qs[self.u8_pos(r, b, j)] as i32 - 128) as f32;
                    }
                }
                Kind::I8h => {
                    for j in 0..32 {
                        yb[j] = self.d[2 * i + j / 16] * self.qs[i * 32 + j] as i8 as f32;
                    }
                }
            }
        }
    }

    /// U4/U5: the 4-bit part of element `j` of block `b` of row `r`.
    #[inline]
    pub fn u4_at(&self, r: usize, b: usize, j: usize) -> u8 {
        let (o, sh) = self.u4_pos(r, b, j);
        (self.qs[o] >> sh) & 0xf
    }

    /// U4/U5: byte offset and shift of the nibble of element `j` of block `b` of row `r`.
    #[inline]
    pub fn u4_pos(&self, r: usize, b: usize, j: usize) -> (usize, u32) {
        let (g, c, p, e) = (r / 8, r % 8, (j % 16) / 4, j % 4);
        ((g * self.nb + b) * 128 + 32 * p + 4 * c + e, 4 * (j / 16) as u32)
    }

    /// U5: the index in `qh` and the bit of element `j`'s fifth bit (block `b`, row `r`). The
    /// word is the nibble vector that holds the element (low or high nibbles of the 32-byte
    /// vector of `u4_pos`), the bit its byte in that vector.
    #[inline]
    pub fn fifth_bit_pos(&self, r: usize, b: usize, j: usize) -> (usize, u32) {
        let (p, e) = ((j % 16) / 4, j % 4);
        let vector = 4 * (p / 2) + 2 * (p % 2) + j / 16;
        (((r / 8) * self.nb + b) * 8 + vector, (4 * (r % 8) + e) as u32)
    }

    /// U5: the fifth bit of element `j` of block `b` of row `r` (0 for U4).
    #[inline]
    pub fn fifth_bit(&self, r: usize, b: usize, j: usize) -> u32 {
        if self.kind != Kind::U5 {
            return 0;
        }
        let (word, bit) = self.fifth_bit_pos(r, b, j);
        (self.qh[word] >> bit) & 1
    }

    /// U8: byte offset of element `j` of block `b` of row `r`.
    #[inline]
    pub fn u8_pos(&self, r: usize, b: usize, j: usize) -> usize {
        ((r / 8) * self.nb + b) * 256 + 32 * (j / 4) + 4 * (r % 8) + j % 4
    }

    /// U4/U5/U8: index of the scale and minimum of block `b` of row `r` in `d` and `m`.
    #[inline]
    pub fn scale_index(&self, r: usize, b: usize) -> usize {
        ((r / 8) * self.nb + b) * 8 + r % 8
    }

    /// U4/U5/U8: (scale, minimum) of block `b` of row `r`.
    #[inline]
    pub fn dm(&self, r: usize, b: usize) -> (f32, f32) {
        let s = self.scale_index(r, b);
        (self.d[s], self.m[s])
    }

    /// Bytes held by this matrix.
    pub fn bytes(&self) -> usize {
        self.qs.len() + 4 * (self.qh.len() + self.d.len() + self.m.len())
    }
}
