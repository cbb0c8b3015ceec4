//! AVX-512 VNNI version of the U4 group tile (`kernels::avx2::tile8`): `vpdpbusd` multiplies
//! the unsigned 4-bit weights by the signed 8-bit activations and adds each four products
//! into a 32-bit lane in one instruction, where AVX2 needs maddubs, two 16-bit adds and a
//! madd. The integer sums are exact in both, so the two give bit-identical outputs.
//! Chosen at run time where the CPU has `avx512vnni` and `avx512vl` (256-bit registers).
//! Owns only this arithmetic; must not know about threads or the model.

use super::act::{pad8, QAct};
use super::kernels::OutPtr;
use super::repack::PackedMatrix;

/// True when the VNNI tile can run on this CPU and `PRECIS_NO_VNNI` is unset (checked once).
pub fn has_vnni() -> bool {
    static HAS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *HAS.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            super::kernels::has_avx2()
                && is_x86_feature_detected!("avx512vnni")
                && is_x86_feature_detected!("avx512vl")
                && std::env::var_os("PRECIS_NO_VNNI").is_none()
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    })
}

#[cfg(target_arch = "x86_64")]
#[allow(clippy::needless_range_loop)] // indexing const-size register arrays reads clearer
pub mod x86 {
    use super::*;
    use std::arch::x86_64::*;

    /// Same contract as `kernels::avx2::tile8`.
    ///
    /// # Safety
    /// avx2, fma, avx512vnni and avx512vl present; `w.kind == U4`; rows in range; `out`
    /// valid for the written part.
    #[target_feature(enable = "avx2,fma,avx512f,avx512vnni,avx512vl")]
    pub unsafe fn tile8<const R: usize>(
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
        let pf = R == 1;
        for b in 0..nb {
            let base = g * nb + b;
            let wq = w.qs.as_ptr().add(base * 128);
            if pf {
                _mm_prefetch::<_MM_HINT_T0>(wq.wrapping_add(2 * 128 * nb) as *const i8);
                _mm_prefetch::<_MM_HINT_T0>(wq.wrapping_add(2 * 128 * nb + 64) as *const i8);
            }
            // Two accumulators per row: shorter dependency chains through vpdpbusd.
            let mut s0 = [_mm256_setzero_si256(); R];
            let mut s1 = [_mm256_setzero_si256(); R];
            for half in 0..2 {
                let x0 = _mm256_loadu_si256(wq.add(64 * half) as *const __m256i);
                let x1 = _mm256_loadu_si256(wq.add(64 * half + 32) as *const __m256i);
                let w0 = _mm256_and_si256(x0, mask);
                let w1 = _mm256_and_si256(_mm256_srli_epi16(x0, 4), mask);
                let w2 = _mm256_and_si256(x1, mask);
                let w3 = _mm256_and_si256(_mm256_srli_epi16(x1, 4), mask);
                let p = 2 * half;
                for r in 0..R {
                    let ap = a.qs.as_ptr().add((r0 + r) * k + b * 32) as *const i32;
                    s0[r] = _mm256_dpbusd_epi32(s0[r], w0, _mm256_set1_epi32(*ap.add(p)));
                    s1[r] = _mm256_dpbusd_epi32(s1[r], w1, _mm256_set1_epi32(*ap.add(p + 4)));
                    s0[r] = _mm256_dpbusd_epi32(s0[r], w2, _mm256_set1_epi32(*ap.add(p + 1)));
                    s1[r] = _mm256_dpbusd_epi32(s1[r], w3, _mm256_set1_epi32(*ap.add(p + 5)));
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

    type Tile8Fn = unsafe fn(&PackedMatrix, usize, &QAct, usize, OutPtr, usize, usize);

    /// The VNNI U4 group tile for `rn` rows (1..=4).
    pub fn pick8(rn: usize) -> Tile8Fn {
        match rn {
            1 => tile8::<1>,
            2 => tile8::<2>,
            3 => tile8::<3>,
            4 => tile8::<4>,
            _ => unreachable!("tile8 rows {rn}"),
        }
    }
}
