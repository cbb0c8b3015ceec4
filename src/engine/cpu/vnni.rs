//! AVX-512 VNNI versions of the U4, U5 and U8 group tiles (`kernels::avx2::tile8_q4_q5`/`tile8_q8_0`):
//! `vpdpbusd` multiplies the unsigned 4-, 5- or 8-bit weights by the signed 8-bit activations
//! and adds each four products into a 32-bit lane in one instruction, where AVX2 needs
//! maddubs, 16-bit adds and a madd. For U4 and U5 the integer sums are exact in both, so the
//! two give bit-identical outputs; for U8 the AVX2 tile sums signed weights instead (the same
//! value, rounded differently).
//! Chosen at load where the CPU has `avx512vnni` and `avx512vl` (256-bit registers) and the
//! load options allow it (`features::Tiles`).
//! Owns only this arithmetic; must not know about threads or the model.

use super::act::{pad8, QAct};
use super::kernels::OutPtr;
use super::repack::{Kind, PackedMatrix};

/// Most rows of one VNNI tile (AVX-512 has 32 vector registers: 3 accumulators a row).
pub const MAX_ROWS: usize = 6;

#[cfg(target_arch = "x86_64")]
#[allow(clippy::needless_range_loop)] // indexing const-size register arrays reads clearer
pub mod x86 {
    use super::*;
    use crate::engine::cpu::kernels::avx2::fifth_bits;
    use std::arch::x86_64::*;

    /// The weight layouts of [`tile8`]'s `KIND`.
    pub const U4: u8 = 0;
    pub const U5: u8 = 1;
    pub const U8: u8 = 2;

    /// Same contract as `kernels::avx2::tile8_q4_q5` (KIND U4: Q4_0, Q4_1, Q4_K; U5: Q5_0) and `tile8_q8_0` (KIND U8: Q8_0, F16, F32).
    ///
    /// # Safety
    /// avx2, fma, avx512vnni and avx512vl present; `w.kind` as `KIND` says; rows in range;
    /// `out` valid for the written part.
    #[target_feature(enable = "avx2,fma,avx512f,avx512vnni,avx512vl")]
    pub unsafe fn tile8<const KIND: u8, const R: usize>(
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
        let mut acc = [_mm256_setzero_ps(); R];
        let bb = if KIND == U8 { 256 } else { 128 };
        for b in 0..nb {
            let base = g * nb + b;
            let wq = w.qs.as_ptr().add(base * bb);
            // Decode streams the weights from memory: prefetch two groups ahead.
            for line in (0..bb).step_by(64) {
                _mm_prefetch::<_MM_HINT_T0>(wq.wrapping_add(2 * bb * nb + line) as *const i8);
            }
            // Two accumulators per row: shorter dependency chains through vpdpbusd.
            let mut s0 = [_mm256_setzero_si256(); R];
            let mut s1 = [_mm256_setzero_si256(); R];
            for half in 0..2 {
                // Four (weights, index of the activations' 4-byte group) pairs: for U4 and U5
                // the low and high nibbles of two 32-byte vectors (U5 with its fifth bits),
                // for U8 four 32-byte vectors.
                let mut ws: [(__m256i, usize); 4] = if KIND == U8 {
                    let at = |p: usize| (_mm256_loadu_si256(wq.add(32 * p) as *const __m256i), p);
                    [at(4 * half), at(4 * half + 1), at(4 * half + 2), at(4 * half + 3)]
                } else {
                    let x0 = _mm256_loadu_si256(wq.add(64 * half) as *const __m256i);
                    let x1 = _mm256_loadu_si256(wq.add(64 * half + 32) as *const __m256i);
                    let p = 2 * half;
                    [
                        (_mm256_and_si256(x0, mask), p),
                        (_mm256_and_si256(_mm256_srli_epi16(x0, 4), mask), p + 4),
                        (_mm256_and_si256(x1, mask), p + 1),
                        (_mm256_and_si256(_mm256_srli_epi16(x1, 4), mask), p + 5),
                    ]
                };
                if KIND == U5 {
                    let h = w.qh.as_ptr().add(base * 8 + 4 * half);
                    for (v, x) in ws.iter_mut().enumerate() {
                        x.0 = _mm256_or_si256(x.0, fifth_bits(*h.add(v)));
                    }
                }
                for r in 0..R {
                    let ap = a.qs.as_ptr().add((r0 + r) * k + b * 32) as *const i32;
                    s0[r] = _mm256_dpbusd_epi32(s0[r], ws[0].0, _mm256_set1_epi32(*ap.add(ws[0].1)));
                    s1[r] = _mm256_dpbusd_epi32(s1[r], ws[1].0, _mm256_set1_epi32(*ap.add(ws[1].1)));
                    s0[r] = _mm256_dpbusd_epi32(s0[r], ws[2].0, _mm256_set1_epi32(*ap.add(ws[2].1)));
                    s1[r] = _mm256_dpbusd_epi32(s1[r], ws[3].0, _mm256_set1_epi32(*ap.add(ws[3].1)));
                }
            }
            let dv = _mm256_loadu_ps(w.d.as_ptr().add(base * 8));
            let mv = _mm256_loadu_ps(w.m.as_ptr().add(base * 8));
            for r in 0..R {
                let ai = (r0 + r) * nb + b;
                let f = _mm256_cvtepi32_ps(_mm256_add_epi32(s0[r], s1[r]));
                let da = _mm256_broadcast_ss(&*a.d.as_ptr().add(ai));
                acc[r] = _mm256_fmadd_ps(f, _mm256_mul_ps(dv, da), acc[r]);
                let sa = _mm256_broadcast_ss(&*a.s.as_ptr().add((r0 + r) * pad8(nb) + b));
                acc[r] = _mm256_fmadd_ps(mv, sa, acc[r]);
            }
        }
        crate::engine::cpu::kernels::avx2::store8(&acc, out, r0, g, lo, hi);
    }

    /// The VNNI group tile of a U4, U5 or U8 matrix for `rn` rows (1..=MAX_ROWS).
    pub fn pick8(kind: Kind, rn: usize) -> crate::engine::cpu::kernels::avx2::Tile8Fn {
        macro_rules! rows {
            ($k:expr) => {
                match rn {
                    1 => tile8::<{ $k }, 1>,
                    2 => tile8::<{ $k }, 2>,
                    3 => tile8::<{ $k }, 3>,
                    4 => tile8::<{ $k }, 4>,
                    5 => tile8::<{ $k }, 5>,
                    6 => tile8::<{ $k }, 6>,
                    _ => unreachable!("group tile rows {rn}"),
                }
            };
        }
        match kind {
            Kind::U4 => rows!(U4),
            Kind::U5 => rows!(U5),
            Kind::U8 => rows!(U8),
            Kind::I8h => unreachable!("group tile of {kind:?}"),
        }
    }
}
