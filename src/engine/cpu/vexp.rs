//! Vectorised `exp` for the CPU path's two users of it: the softmax of attention and the
//! SiLU of the feed-forward block. Cephes' single-precision polynomial (within 2 ulp of
//! `f32::exp` over the clamped range), AVX2 eight lanes at a time, with a portable
//! fallback. Owns only this arithmetic; must not know about layers or caches.

/// Inputs are clamped to this range: exp of the ends is finite and non-zero.
const LO: f32 = -87.3;
const HI: f32 = 88.3;

/// Scalar version of the vector polynomial (same clamping, same result to an ulp or two).
#[inline]
pub fn exp1(x: f32) -> f32 {
    x.clamp(LO, HI).exp()
}

/// `xs[i] = exp(xs[i] - shift)`; returns the sum of the new values.
pub fn exp_sub_sum(xs: &mut [f32], shift: f32) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if super::features::has_avx2() {
        // SAFETY: avx2+fma detected at run time.
        return unsafe { avx2::exp_sub_sum(xs, shift) };
    }
    let mut sum = 0f32;
    for x in xs.iter_mut() {
        *x = exp1(*x - shift);
        sum += *x;
    }
    sum
}

/// `h[i] = silu(g[i]) * u[i]` with silu(x) = x / (1 + exp(-x)).
pub fn silu_mul(g: &[f32], u: &[f32], h: &mut [f32]) {
    assert!(g.len() == h.len() && u.len() == h.len());
    #[cfg(target_arch = "x86_64")]
    if super::features::has_avx2() {
        // SAFETY: avx2+fma detected at run time; lengths checked above.
        unsafe { avx2::silu_mul(g, u, h) };
        return;
    }
    for ((h, &g), &u) in h.iter_mut().zip(g).zip(u) {
        *h = g / (1.0 + exp1(-g)) * u;
    }
}

#[cfg(target_arch = "x86_64")]
pub mod avx2 {
    use super::{exp1, HI, LO};
    use std::arch::x86_64::*;

    /// exp of eight lanes: x = n ln2 + r, exp(r) by Cephes' degree-6 polynomial, times 2^n.
    ///
    /// # Safety
    /// avx2+fma present (callers are `target_feature` functions that checked it).
    #[inline(always)]
    pub unsafe fn exp8(x: __m256) -> __m256 {
        let x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(LO)), _mm256_set1_ps(HI));
        let n = _mm256_round_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(_mm256_mul_ps(
            x,
            _mm256_set1_ps(std::f32::consts::LOG2_E),
        ));
        let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693_359_4), x);
        let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.121_944_4e-4), r);
        let mut p = _mm256_set1_ps(1.987_569_1e-4);
        for c in [1.398_199_9e-3, 8.333_452e-3, 4.166_579_6e-2, 1.666_666_5e-1, 0.5] {
            p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(c));
        }
        let r2 = _mm256_mul_ps(r, r);
        let p = _mm256_fmadd_ps(p, r2, _mm256_add_ps(r, _mm256_set1_ps(1.0)));
        // 2^n: the clamp keeps n in [-126, 127], a normal float's exponent.
        let pow = _mm256_castsi256_ps(_mm256_slli_epi32::<23>(_mm256_add_epi32(
            _mm256_cvtps_epi32(n),
            _mm256_set1_epi32(127),
        )));
        _mm256_mul_ps(p, pow)
    }

    /// Sum of the eight lanes.
    ///
    /// # Safety
    /// avx2 present.
    #[inline(always)]
    pub unsafe fn hsum(v: __m256) -> f32 {
        let x = _mm_add_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));
        let x = _mm_add_ps(x, _mm_movehl_ps(x, x));
        _mm_cvtss_f32(_mm_add_ss(x, _mm_movehdup_ps(x)))
    }

    /// # Safety
    /// avx2+fma present.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn exp_sub_sum(xs: &mut [f32], shift: f32) -> f32 {
        let s = _mm256_set1_ps(shift);
        let mut acc = _mm256_setzero_ps();
        let mut chunks = xs.chunks_exact_mut(8);
        for c in &mut chunks {
            let e = exp8(_mm256_sub_ps(_mm256_loadu_ps(c.as_ptr()), s));
            _mm256_storeu_ps(c.as_mut_ptr(), e);
            acc = _mm256_add_ps(acc, e);
        }
        let mut sum = hsum(acc);
        for x in chunks.into_remainder() {
            *x = exp1(*x - shift);
            sum += *x;
        }
        sum
    }

    /// # Safety
    /// avx2+fma present; `g`, `u` and `h` of equal length.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn silu_mul(g: &[f32], u: &[f32], h: &mut [f32]) {
        let n8 = h.len() / 8 * 8;
        let one = _mm256_set1_ps(1.0);
        for i in (0..n8).step_by(8) {
            let gv = _mm256_loadu_ps(g.as_ptr().add(i));
            let e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), gv));
            let s = _mm256_div_ps(gv, _mm256_add_ps(one, e));
            _mm256_storeu_ps(h.as_mut_ptr().add(i), _mm256_mul_ps(s, _mm256_loadu_ps(u.as_ptr().add(i))));
        }
        for i in n8..h.len() {
            h[i] = g[i] / (1.0 + exp1(-g[i])) * u[i];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vector_exp_is_within_a_few_ulp_of_std() {
        let mut xs: Vec<f32> = (-2000..=2000).map(|i| i as f32 * 0.0437).collect();
        xs.extend([-1e9, -100.0, -87.3, 88.3, 100.0, 1e9, 0.0, -0.0]);
        let want: Vec<f32> = xs.iter().map(|&x| exp1(x - 0.5)).collect();
        let mut got = xs.clone();
        let sum = exp_sub_sum(&mut got, 0.5);
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!(g.is_finite() && *g > 0.0, "x {}: {g}", xs[i]);
            assert!(((g - w) / w).abs() < 3e-7, "x {}: {g} vs {w}", xs[i]);
        }
        assert!(sum.is_infinite(), "the clamped ends are huge: {sum}");
        // The softmax case: scores at or below their maximum.
        let mut xs: Vec<f32> = (0..203).map(|i| -(i as f32) * 0.1).collect();
        let want_sum: f64 = xs.iter().map(|&x| (x as f64 - 1.0).exp()).sum();
        let sum = exp_sub_sum(&mut xs, 1.0);
        assert!(((sum as f64 - want_sum) / want_sum).abs() < 1e-6, "{sum} vs {want_sum}");
    }

    #[test]
    fn silu_matches_its_definition() {
        let g: Vec<f32> = (0..37).map(|i| i as f32 * 0.9 - 16.0).collect();
        let u: Vec<f32> = (0..37).map(|i| 1.0 - i as f32 * 0.05).collect();
        let mut h = vec![0f32; 37];
        silu_mul(&g, &u, &mut h);
        for i in 0..37 {
            let want = g[i] / (1.0 + (-g[i]).exp()) * u[i];
            assert!((h[i] - want).abs() <= 1e-6 * want.abs().max(1.0), "{i}: {} vs {want}", h[i]);
        }
    }
}
