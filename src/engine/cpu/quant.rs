//! ggml block formats (Q4_0, Q4_1, Q5_0, Q8_0, Q4_K, Q6_K, plus F32/F16) and their reference
//! `dequantize_row`, written straight from ggml's C. These are the ground truth that the
//! repacked kernels are tested against; this file must not depend on the kernels or the model.

/// The ggml tensor types precis' CPU path can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GgmlType {
    F32,
    F16,
    Q4_0,
    Q4_1,
    Q5_0,
    Q8_0,
    Q4K,
    Q6K,
}

impl GgmlType {
    /// From ggml's numeric type id (as stored in GGUF tensor infos).
    pub fn from_id(id: u32) -> Option<Self> {
        Some(match id {
            0 => Self::F32,
            1 => Self::F16,
            2 => Self::Q4_0,
            3 => Self::Q4_1,
            6 => Self::Q5_0,
            8 => Self::Q8_0,
            12 => Self::Q4K,
            14 => Self::Q6K,
            _ => return None,
        })
    }

    /// Elements per block.
    pub fn block_elems(self) -> usize {
        match self {
            Self::F32 | Self::F16 => 1,
            Self::Q4_0 | Self::Q4_1 | Self::Q5_0 | Self::Q8_0 => 32,
            Self::Q4K | Self::Q6K => 256,
        }
    }

    /// Bytes per block.
    pub fn block_bytes(self) -> usize {
        match self {
            Self::F32 => 4,
            Self::F16 => 2,
            Self::Q4_0 => 18,
            Self::Q4_1 => 20,
            Self::Q5_0 => 22,
            Self::Q8_0 => 34,
            Self::Q4K => 144,
            Self::Q6K => 210,
        }
    }

    /// Bytes of one row of `k` elements (`k` must be a multiple of the block size).
    pub fn row_bytes(self, k: usize) -> usize {
        k / self.block_elems() * self.block_bytes()
    }
}

/// IEEE half to f32 (exact).
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h >> 15) as u32) << 31;
    let exp = ((h >> 10) & 0x1f) as u32;
    let man = (h & 0x3ff) as u32;
    let bits = if exp == 0 {
        if man == 0 {
            sign
        } else {
            // subnormal: value = man * 2^-24
            let v = man as f32 * (1.0 / 16_777_216.0);
            return if sign != 0 { -v } else { v };
        }
    } else if exp == 31 {
        sign | 0x7f80_0000 | (man << 13)
    } else {
        sign | ((exp + 112) << 23) | (man << 13)
    };
    f32::from_bits(bits)
}

/// f32 to IEEE half, round to nearest even (for building test data).
pub fn f32_to_f16(x: f32) -> u16 {
    let b = x.to_bits();
    let sign = ((b >> 16) & 0x8000) as u16;
    let a = x.abs();
    if a.is_nan() {
        return sign | 0x7e00;
    }
    if a >= 65520.0 {
        return sign | 0x7c00;
    }
    if a < 6.103_515_6e-5 {
        // subnormal half: units of 2^-24
        let v = (a * 16_777_216.0).round_ties_even() as u16;
        return sign | v;
    }
    let e = ((a.to_bits() >> 23) as i32) - 127;
    let m = a.to_bits() & 0x7f_ffff;
    let mut h = (((e + 15) as u32) << 10) | (m >> 13);
    let rest = m & 0x1fff;
    if rest > 0x1000 || (rest == 0x1000 && (h & 1) == 1) {
        h += 1;
    }
    sign | h as u16
}

fn rd16(b: &[u8], o: usize) -> f32 {
    f16_to_f32(u16::from_le_bytes([b[o], b[o + 1]]))
}

/// Q4_K's packed 6-bit (scale, min) for sub-block `j` (ggml's get_scale_min_k4).
pub fn scale_min_k4(j: usize, q: &[u8]) -> (u8, u8) {
    if j < 4 {
        (q[j] & 63, q[j + 4] & 63)
    } else {
        ((q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4))
    }
}

/// Reference dequantisation of one row of `y.len()` elements from `x` (ggml layout).
pub fn dequantize_row(ty: GgmlType, x: &[u8], y: &mut [f32]) {
    let be = ty.block_elems();
    let bb = ty.block_bytes();
    assert_eq!(y.len() % be, 0);
    assert!(x.len() >= y.len() / be * bb);
    for (blk, yb) in x.chunks_exact(bb).zip(y.chunks_exact_mut(be)) {
        match ty {
            GgmlType::F32 => yb[0] = f32::from_le_bytes([blk[0], blk[1], blk[2], blk[3]]),
            GgmlType::F16 => yb[0] = rd16(blk, 0),
            GgmlType::Q4_0 => {
                let d = rd16(blk, 0);
                for j in 0..16 {
                    let q = blk[2 + j];
                    yb[j] = ((q & 0xf) as i32 - 8) as f32 * d;
                    yb[j + 16] = ((q >> 4) as i32 - 8) as f32 * d;
                }
            }
            GgmlType::Q4_1 => {
                let (d, m) = (rd16(blk, 0), rd16(blk, 2));
                for j in 0..16 {
                    let q = blk[4 + j];
                    yb[j] = (q & 0xf) as f32 * d + m;
                    yb[j + 16] = (q >> 4) as f32 * d + m;
                }
            }
            GgmlType::Q5_0 => {
                let d = rd16(blk, 0);
                let qh = u32::from_le_bytes([blk[2], blk[3], blk[4], blk[5]]);
                for j in 0..16 {
                    let xh0 = ((qh >> j) << 4) & 0x10;
                    let xh1 = (qh >> (j + 12)) & 0x10;
                    let q = blk[6 + j] as u32;
                    yb[j] = (((q & 0xf) | xh0) as i32 - 16) as f32 * d;
                    yb[j + 16] = (((q >> 4) | xh1) as i32 - 16) as f32 * d;
                }
            }
            GgmlType::Q8_0 => {
                let d = rd16(blk, 0);
                for j in 0..32 {
                    yb[j] = blk[2 + j] as i8 as f32 * d;
                }
            }
            GgmlType::Q4K => {
                let (d, dmin) = (rd16(blk, 0), rd16(blk, 2));
                let scales = &blk[4..16];
                let mut q = &blk[16..144];
                let mut is = 0;
                for j in (0..256).step_by(64) {
                    let (sc, m) = scale_min_k4(is, scales);
                    let (d1, m1) = (d * sc as f32, dmin * m as f32);
                    let (sc, m) = scale_min_k4(is + 1, scales);
                    let (d2, m2) = (d * sc as f32, dmin * m as f32);
                    for l in 0..32 {
                        yb[j + l] = d1 * (q[l] & 0xf) as f32 - m1;
                        yb[j + 32 + l] = d2 * (q[l] >> 4) as f32 - m2;
                    }
                    q = &q[32..];
                    is += 2;
                }
            }
            GgmlType::Q6K => {
                let (ql0, qh0, sc0) = (&blk[0..128], &blk[128..192], &blk[192..208]);
                let d = rd16(blk, 208);
                for half in 0..2 {
                    let (ql, qh) = (&ql0[64 * half..], &qh0[32 * half..]);
                    let sc = &sc0[8 * half..];
                    let y = &mut yb[128 * half..];
                    for l in 0..32 {
                        let is = l / 16;
                        let q1 = ((ql[l] & 0xf) | ((qh[l] & 3) << 4)) as i32 - 32;
                        let q2 = ((ql[l + 32] & 0xf) | (((qh[l] >> 2) & 3) << 4)) as i32 - 32;
                        let q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) as i32 - 32;
                        let q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) as i32 - 32;
                        y[l] = d * (sc[is] as i8) as f32 * q1 as f32;
                        y[l + 32] = d * (sc[is + 2] as i8) as f32 * q2 as f32;
                        y[l + 64] = d * (sc[is + 4] as i8) as f32 * q3 as f32;
                        y[l + 96] = d * (sc[is + 6] as i8) as f32 * q4 as f32;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f16_roundtrip() {
        for &x in &[0.0f32, 1.0, -2.5, 0.000_123, 65504.0, 1e-7, 3.140_625] {
            let h = f32_to_f16(x);
            let y = f16_to_f32(h);
            assert!((x - y).abs() <= x.abs() * 1e-3 + 6e-8, "{x} -> {y}");
        }
    }
}
