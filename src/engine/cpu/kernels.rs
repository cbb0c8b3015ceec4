//! Integer dot-product tiles: one call computes an R×C block of outputs (R activation rows
//! × C weight rows) over the whole K dimension, loading each weight block once per R rows.
//! AVX2 (maddubs/madd) versions chosen at run time, and a portable scalar fallback. U4
//! weights (Q4_0/Q4_1/Q4_K), U5 (Q5_0) and U8 (Q8_0/F32/F16) use `tile8_q4_q5`/`tile8_q8_0`, which
//! work on 8 interleaved columns at once; their additive-minimum term is folded into the
//! accumulators (Σ_b m_w * s_a). I8h (Q6_K) uses the R×C `tile_q6_k`.
//! Owns only the arithmetic; must not know about threads or the model.

use super::act::{pad8, QAct};
use super::repack::{Kind, PackedMatrix};

/// Where a tile writes: `out[r * ldo + c]` for the tile's rows r and columns c. A raw
/// pointer, so that the pool's threads can write disjoint columns of one buffer at once.
#[derive(Clone, Copy)]
pub(crate) struct OutPtr {
    pub ptr: *mut f32,
    pub ldo: usize,
}
// SAFETY: an OutPtr is only written through by tiles whose callers give each thread
// disjoint columns of a buffer that outlives the pool job (see `matmul`).
unsafe impl Send for OutPtr {}
unsafe impl Sync for OutPtr {}

impl OutPtr {
    /// The same output shifted right by `cols` columns.
    ///
    /// # Safety
    /// `ptr + cols` must stay within (or one past the end of) the buffer `ptr` points into:
    /// `cols <= ldo` for a buffer of at least one row of `ldo` values.
    pub(crate) unsafe fn offset(self, cols: usize) -> OutPtr {
        // SAFETY: the caller keeps `ptr + cols` inside the same allocation.
        OutPtr { ptr: unsafe { self.ptr.add(cols) }, ldo: self.ldo }
    }
}

/// Scalar tile: rows r0..r0+rn, weight rows c0..c0+cn. Writes Σ_b d_w*d_a*Σ q_w*q_a.
///
/// # Safety
/// `out` must be valid for writes at `out.ptr[r * out.ldo + c]` for every row
/// `r0 <= r < r0 + rn` and column `c0 <= c < c0 + cn`, and no other thread may access those
/// places during the call; `c0 + cn <= w.n` and `r0 + rn <= a.rows`.
pub(crate) unsafe fn tile_scalar(w: &PackedMatrix, c0: usize, cn: usize, a: &QAct, r0: usize, rn: usize, out: OutPtr) {
    let nb = w.nb;
    let mut wq = [0i32; 32];
    for c in c0..c0 + cn {
        for r in r0..r0 + rn {
            let mut acc = 0f32;
            for b in 0..nb {
                let i = c * nb + b;
                let ai = r * nb + b;
                let aq = &a.qs[ai * 32..ai * 32 + 32];
                let (d0, d1) = match w.kind {
                    Kind::U4 | Kind::U5 => {
                        for (j, v) in wq.iter_mut().enumerate() {
                            *v = (w.u4_at(c, b, j) as u32 | (w.fifth_bit(c, b, j) << 4)) as i32;
                        }
                        let d = w.dm(c, b).0;
                        (d, d)
                    }
                    Kind::U8 => {
                        for (j, v) in wq.iter_mut().enumerate() {
                            *v = w.qs[w.u8_pos(c, b, j)] as i32;
                        }
                        let d = w.dm(c, b).0;
                        (d, d)
                    }
                    Kind::I8h => {
                        for (j, v) in wq.iter_mut().enumerate() {
                            *v = w.qs[i * 32 + j] as i8 as i32;
                        }
                        (w.d[2 * i], w.d[2 * i + 1])
                    }
                };
                let s0: i32 = (0..16).map(|j| wq[j] * aq[j] as i32).sum();
                let s1: i32 = (16..32).map(|j| wq[j] * aq[j] as i32).sum();
                acc += a.d[ai] * (d0 * s0 as f32 + d1 * s1 as f32);
                if w.kind != Kind::I8h {
                    acc += w.dm(c, b).1 * a.s[r * pad8(nb) + b];
                }
            }
            // SAFETY: the caller guarantees out[r][c] is valid and ours for this tile.
            unsafe { *out.ptr.add(r * out.ldo + c) = acc };
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[allow(clippy::needless_range_loop)] // indexing const-size register arrays reads clearer
pub mod avx2 {
    use super::*;
    use std::arch::x86_64::*;

    /// ggml's bytes_from_bits_32, masked to 0x10 per set bit.
    ///
    /// # Safety
    /// avx2 present.
    #[inline(always)]
    pub unsafe fn fifth_bits(qh: u32) -> __m256i {
        let shuf = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0);
        let bytes = _mm256_shuffle_epi8(_mm256_set1_epi32(qh as i32), shuf);
        let bytes = _mm256_or_si256(bytes, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe));
        let m = _mm256_cmpeq_epi8(bytes, _mm256_set1_epi64x(-1));
        _mm256_and_si256(m, _mm256_set1_epi8(0x10))
    }

    #[inline(always)]
    unsafe fn hsum(v: __m256) -> f32 {
        let x = _mm_add_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));
        let x = _mm_add_ps(x, _mm_movehl_ps(x, x));
        let x = _mm_add_ss(x, _mm_movehdup_ps(x));
        _mm_cvtss_f32(x)
    }

    /// Accumulate block `b` of the signed weights `wq` (|w| in `wa`) into the R×C
    /// accumulators; I8h has a scale per 16-element half.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn step<const R: usize, const C: usize>(
        acc: &mut [[__m256; C]; R],
        wq: &[__m256i; C],
        wa: &[__m256i; C],
        w: &PackedMatrix,
        c0: usize,
        a: &QAct,
        r0: usize,
        b: usize,
    ) {
        let nb = w.nb;
        let ones = _mm256_set1_epi16(1);
        for r in 0..R {
            let ai = (r0 + r) * nb + b;
            let aq = _mm256_loadu_si256(a.qs.as_ptr().add(ai * 32) as *const __m256i);
            let da = _mm256_broadcast_ss(&*a.d.as_ptr().add(ai));
            for c in 0..C {
                let i = (c0 + c) * nb + b;
                let p = _mm256_maddubs_epi16(wa[c], _mm256_sign_epi8(aq, wq[c]));
                let p = _mm256_cvtepi32_ps(_mm256_madd_epi16(p, ones));
                let d = w.d.as_ptr().add(2 * i);
                let sw = _mm256_set_m128(_mm_broadcast_ss(&*d.add(1)), _mm_broadcast_ss(&*d));
                acc[r][c] = _mm256_fmadd_ps(p, _mm256_mul_ps(sw, da), acc[r][c]);
            }
        }
    }

    /// R×C tile of an I8h matrix (U4, U5 and U8 use the group tiles [`tile8_q4_q5`] and
    /// [`tile8_q8_0`]).
    ///
    /// # Safety
    /// avx2+fma present; `w.kind == I8h`; rows/cols in range; `out` valid for the tile.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn tile_q6_k<const R: usize, const C: usize>(
        w: &PackedMatrix,
        c0: usize,
        a: &QAct,
        r0: usize,
        out: OutPtr,
    ) {
        let nb = w.nb;
        // Decode streams weights from memory: prefetch the tile PF tiles ahead.
        let pf: usize = if R == 1 { 2 } else { 0 };
        let mut acc = [[_mm256_setzero_ps(); C]; R];
        let wqs = w.qs.as_ptr();
        let zero = [_mm256_setzero_si256(); C];
        for b in 0..nb {
            let mut wq = zero;
            let mut wa = zero;
            for c in 0..C {
                let i = (c0 + c) * nb + b;
                if pf > 0 {
                    _mm_prefetch::<_MM_HINT_T0>(wqs.wrapping_add((i + pf * C * nb) * 32) as *const i8);
                }
                wq[c] = _mm256_loadu_si256(wqs.add(i * 32) as *const __m256i);
                wa[c] = _mm256_abs_epi8(wq[c]);
            }
            step::<R, C>(&mut acc, &wq, &wa, w, c0, a, r0, b);
        }
        for r in 0..R {
            for c in 0..C {
                *out.ptr.add((r0 + r) * out.ldo + c0 + c) = hsum(acc[r][c]);
            }
        }
    }

    /// U4 tile over one interleaved group of 8 columns (`g`) and R rows: one maddubs gives
    /// four products for each of the 8 columns, so scales, conversion and the minimum term
    /// are applied once per 8 columns. Writes columns `lo..hi` of the group (0..=8).
    ///
    /// # Safety
    /// avx2+fma present; `w.kind == U4`; rows in range; `out` valid for the written part.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn tile8_q4_q5<const U5: bool, const R: usize>(
        w: &PackedMatrix,
        g: usize,
        a: &QAct,
        r0: usize,
        out: OutPtr,
        lo: usize,
        hi: usize,
    ) {
        let nb = w.nb;
        let k = a.k;
        let mask = _mm256_set1_epi8(0x0f);
        let ones = _mm256_set1_epi16(1);
        let mut acc = [_mm256_setzero_ps(); R];
        let pf = R == 1;
        for b in 0..nb {
            let base = g * nb + b;
            let wq = w.qs.as_ptr().add(base * 128);
            if pf {
                _mm_prefetch::<_MM_HINT_T0>(wq.wrapping_add(2 * 128 * nb) as *const i8);
                _mm_prefetch::<_MM_HINT_T0>(wq.wrapping_add(2 * 128 * nb + 64) as *const i8);
            }
            let mut isum = [_mm256_setzero_si256(); R];
            let mut isum32 = [_mm256_setzero_si256(); R];
            for half in 0..2 {
                let x0 = _mm256_loadu_si256(wq.add(64 * half) as *const __m256i);
                let x1 = _mm256_loadu_si256(wq.add(64 * half + 32) as *const __m256i);
                // Nibble groups: x0 low = elements 4p.., high = 16+4p.. with p = 2*half; x1: p+1.
                let mut w0 = _mm256_and_si256(x0, mask);
                let mut w1 = _mm256_and_si256(_mm256_srli_epi16(x0, 4), mask);
                let mut w2 = _mm256_and_si256(x1, mask);
                let mut w3 = _mm256_and_si256(_mm256_srli_epi16(x1, 4), mask);
                if U5 {
                    let h = w.qh.as_ptr().add(base * 8 + 4 * half);
                    w0 = _mm256_or_si256(w0, fifth_bits(*h));
                    w1 = _mm256_or_si256(w1, fifth_bits(*h.add(1)));
                    w2 = _mm256_or_si256(w2, fifth_bits(*h.add(2)));
                    w3 = _mm256_or_si256(w3, fifth_bits(*h.add(3)));
                }
                let p = 2 * half;
                for r in 0..R {
                    let ap = a.qs.as_ptr().add((r0 + r) * k + b * 32) as *const i32;
                    let a0 = _mm256_set1_epi32(*ap.add(p));
                    let a1 = _mm256_set1_epi32(*ap.add(p + 4));
                    let a2 = _mm256_set1_epi32(*ap.add(p + 1));
                    let a3 = _mm256_set1_epi32(*ap.add(p + 5));
                    // An i16 lane of `s` sums 8 products of at most 31*127 (U5; 15*127 for U4).
                    let s = _mm256_add_epi16(
                        _mm256_add_epi16(_mm256_maddubs_epi16(w0, a0), _mm256_maddubs_epi16(w1, a1)),
                        _mm256_add_epi16(_mm256_maddubs_epi16(w2, a2), _mm256_maddubs_epi16(w3, a3)),
                    );
                    if U5 {
                        // Two halves of U5 products could pass i16: widen each half.
                        isum32[r] = _mm256_add_epi32(isum32[r], _mm256_madd_epi16(s, ones));
                    } else {
                        isum[r] = _mm256_add_epi16(isum[r], s);
                    }
                }
            }
            let dv = _mm256_loadu_ps(w.d.as_ptr().add(base * 8));
            let mv = _mm256_loadu_ps(w.m.as_ptr().add(base * 8));
            for r in 0..R {
                let ai = (r0 + r) * nb + b;
                let f = _mm256_cvtepi32_ps(if U5 { isum32[r] } else { _mm256_madd_epi16(isum[r], ones) });
                let da = _mm256_broadcast_ss(&*a.d.as_ptr().add(ai));
                acc[r] = _mm256_fmadd_ps(f, _mm256_mul_ps(dv, da), acc[r]);
                let sa = _mm256_broadcast_ss(&*a.s.as_ptr().add((r0 + r) * pad8(nb) + b));
                acc[r] = _mm256_fmadd_ps(mv, sa, acc[r]);
            }
        }
        store8(&acc, out, r0, g, lo, hi);
    }

    /// U8 tile over one interleaved group of 8 columns and R rows, like [`tile8_q4_q5`]. maddubs
    /// would saturate on unsigned bytes up to 255, so the bytes go back to signed weights
    /// (u - 128) and multiply by sign-adjusted activations; the sum is then Σ w*a exactly,
    /// without the minimum term.
    ///
    /// # Safety
    /// avx2+fma present; `w.kind == U8`; rows in range; `out` valid for the written part.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn tile8_q8_0<const R: usize>(
        w: &PackedMatrix,
        g: usize,
        a: &QAct,
        r0: usize,
        out: OutPtr,
        lo: usize,
        hi: usize,
    ) {
        let nb = w.nb;
        let k = a.k;
        let flip = _mm256_set1_epi8(-128);
        let ones = _mm256_set1_epi16(1);
        let mut acc = [_mm256_setzero_ps(); R];
        for b in 0..nb {
            let base = g * nb + b;
            let wq = w.qs.as_ptr().add(base * 256);
            if R == 1 {
                _mm_prefetch::<_MM_HINT_T0>(wq.wrapping_add(2 * 256 * nb) as *const i8);
                _mm_prefetch::<_MM_HINT_T0>(wq.wrapping_add(2 * 256 * nb + 128) as *const i8);
            }
            let mut isum = [_mm256_setzero_si256(); R];
            for p in 0..8 {
                let ws = _mm256_xor_si256(_mm256_loadu_si256(wq.add(32 * p) as *const __m256i), flip);
                let wa = _mm256_abs_epi8(ws);
                for r in 0..R {
                    let ap = a.qs.as_ptr().add((r0 + r) * k + b * 32) as *const i32;
                    let av = _mm256_sign_epi8(_mm256_set1_epi32(*ap.add(p)), ws);
                    isum[r] = _mm256_add_epi32(isum[r], _mm256_madd_epi16(_mm256_maddubs_epi16(wa, av), ones));
                }
            }
            let dv = _mm256_loadu_ps(w.d.as_ptr().add(base * 8));
            for r in 0..R {
                let da = _mm256_broadcast_ss(&*a.d.as_ptr().add((r0 + r) * nb + b));
                acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[r]), _mm256_mul_ps(dv, da), acc[r]);
            }
        }
        store8(&acc, out, r0, g, lo, hi);
    }

    /// Writes columns `lo..hi` of group `g` for the tile's rows.
    ///
    /// # Safety
    /// avx present; `out` valid for rows `r0..r0+R`, columns `g*8+lo..g*8+hi`.
    #[inline(always)]
    pub unsafe fn store8<const R: usize>(acc: &[__m256; R], out: OutPtr, r0: usize, g: usize, lo: usize, hi: usize) {
        for r in 0..R {
            let o = out.ptr.add((r0 + r) * out.ldo + g * 8);
            if lo == 0 && hi == 8 {
                _mm256_storeu_ps(o, acc[r]);
            } else {
                let mut t = [0f32; 8];
                _mm256_storeu_ps(t.as_mut_ptr(), acc[r]);
                for c in lo..hi {
                    *o.add(c) = t[c];
                }
            }
        }
    }

    pub type Tile8Fn = unsafe fn(&PackedMatrix, usize, &QAct, usize, OutPtr, usize, usize);

    /// The group tile of a U4, U5 or U8 matrix for `rn` rows (1..=4).
    pub fn pick8(kind: Kind, rn: usize) -> Tile8Fn {
        match (kind, rn) {
            (Kind::U4, 1) => tile8_q4_q5::<false, 1>,
            (Kind::U4, 2) => tile8_q4_q5::<false, 2>,
            (Kind::U4, 3) => tile8_q4_q5::<false, 3>,
            (Kind::U4, 4) => tile8_q4_q5::<false, 4>,
            (Kind::U5, 1) => tile8_q4_q5::<true, 1>,
            (Kind::U5, 2) => tile8_q4_q5::<true, 2>,
            (Kind::U5, 3) => tile8_q4_q5::<true, 3>,
            (Kind::U5, 4) => tile8_q4_q5::<true, 4>,
            (Kind::U8, 1) => tile8_q8_0::<1>,
            (Kind::U8, 2) => tile8_q8_0::<2>,
            (Kind::U8, 3) => tile8_q8_0::<3>,
            (Kind::U8, 4) => tile8_q8_0::<4>,
            _ => unreachable!("group tile {kind:?} rows {rn}"),
        }
    }

    type TileFn = unsafe fn(&PackedMatrix, usize, &QAct, usize, OutPtr);

    /// The I8h tile for a shape (rn 1..=4, cn 1/2, or 1×4).
    pub fn pick(kind: Kind, rn: usize, cn: usize) -> TileFn {
        assert_eq!(kind, Kind::I8h, "{kind:?} uses pick8");
        match (rn, cn) {
            (1, 1) => tile_q6_k::<1, 1> as TileFn,
            (1, 2) => tile_q6_k::<1, 2>,
            (1, 4) => tile_q6_k::<1, 4>,
            (2, 1) => tile_q6_k::<2, 1>,
            (2, 2) => tile_q6_k::<2, 2>,
            (3, 1) => tile_q6_k::<3, 1>,
            (3, 2) => tile_q6_k::<3, 2>,
            (4, 1) => tile_q6_k::<4, 1>,
            (4, 2) => tile_q6_k::<4, 2>,
            _ => unreachable!("tile {rn}x{cn}"),
        }
    }
}
