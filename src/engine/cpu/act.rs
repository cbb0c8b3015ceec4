//! Activation quantisation: f32 rows to Q8 blocks of 32 (i8 values, f32 scale `d`, and the
//! block sum `s = d * Σq` used by the offset formats, like ggml's Q8_1). One `QAct` is filled
//! once per row batch and then shared by every matmul that reads it (fused QKV, gate/up).
//! Owns only this buffer type; must not know the weight formats.

/// A batch of `rows` activation rows of `k` values, quantised per 32-element block.
#[derive(Debug, Default, Clone)]
pub struct QAct {
    pub rows: usize,
    pub k: usize,
    /// Blocks per row (`k / 32`).
    pub nb: usize,
    pub qs: Vec<i8>,
    pub d: Vec<f32>,
    /// Block sums, row stride `pad8(nb)`, padding zero.
    pub s: Vec<f32>,
}

/// `nb` rounded up to a multiple of 8: the row stride of `QAct::s` and `PackedMatrix::m`.
pub fn pad8(nb: usize) -> usize {
    nb.div_ceil(8) * 8
}

impl QAct {
    pub fn new() -> Self {
        Self::default()
    }

    /// Quantise `rows` rows of `k` values (k a multiple of 32) from `x`, reusing buffers.
    pub fn quantize(&mut self, x: &[f32], rows: usize, k: usize) {
        assert_eq!(k % 32, 0, "activation length {k} is not a multiple of 32");
        assert!(x.len() >= rows * k);
        self.rows = rows;
        self.k = k;
        self.nb = k / 32;
        self.qs.resize(rows * k, 0);
        self.d.resize(rows * self.nb, 0.0);
        self.s.clear();
        self.s.resize(rows * pad8(self.nb), 0.0);
        #[cfg(target_arch = "x86_64")]
        if super::features::has_avx2() {
            // SAFETY: avx2+fma were detected at run time.
            unsafe { self.quantize_avx2(x) };
            return;
        }
        self.quantize_scalar(x);
    }

    fn quantize_scalar(&mut self, x: &[f32]) {
        let n = self.rows * self.nb;
        for i in 0..n {
            let xb = &x[i * 32..i * 32 + 32];
            let amax = xb.iter().fold(0f32, |a, v| a.max(v.abs()));
            let d = amax / 127.0;
            let id = if amax > 0.0 { 127.0 / amax } else { 0.0 };
            let mut sum = 0i32;
            for (q, &v) in self.qs[i * 32..i * 32 + 32].iter_mut().zip(xb) {
                let qi = (v * id).round_ties_even() as i32;
                *q = qi as i8;
                sum += qi;
            }
            self.d[i] = d;
            self.s[i / self.nb * pad8(self.nb) + i % self.nb] = d * sum as f32;
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn quantize_avx2(&mut self, x: &[f32]) {
        use std::arch::x86_64::*;
        let n = self.rows * self.nb;
        let sign = _mm256_set1_ps(-0.0);
        let perm = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
        for i in 0..n {
            let p = x.as_ptr().add(i * 32);
            let v0 = _mm256_loadu_ps(p);
            let v1 = _mm256_loadu_ps(p.add(8));
            let v2 = _mm256_loadu_ps(p.add(16));
            let v3 = _mm256_loadu_ps(p.add(24));
            let mut m = _mm256_andnot_ps(sign, v0);
            m = _mm256_max_ps(m, _mm256_andnot_ps(sign, v1));
            m = _mm256_max_ps(m, _mm256_andnot_ps(sign, v2));
            m = _mm256_max_ps(m, _mm256_andnot_ps(sign, v3));
            let m4 = _mm_max_ps(_mm256_extractf128_ps(m, 1), _mm256_castps256_ps128(m));
            let m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
            let m1 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
            let amax = _mm_cvtss_f32(m1);
            let d = amax / 127.0;
            let id = _mm256_set1_ps(if d > 0.0 { 127.0 / amax } else { 0.0 });
            const RN: i32 = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
            let i0 = _mm256_cvtps_epi32(_mm256_round_ps::<RN>(_mm256_mul_ps(v0, id)));
            let i1 = _mm256_cvtps_epi32(_mm256_round_ps::<RN>(_mm256_mul_ps(v1, id)));
            let i2 = _mm256_cvtps_epi32(_mm256_round_ps::<RN>(_mm256_mul_ps(v2, id)));
            let i3 = _mm256_cvtps_epi32(_mm256_round_ps::<RN>(_mm256_mul_ps(v3, id)));
            let sum = _mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3));
            let s4 = _mm_add_epi32(_mm256_extracti128_si256(sum, 1), _mm256_castsi256_si128(sum));
            let s4 = _mm_hadd_epi32(s4, s4);
            let s4 = _mm_hadd_epi32(s4, s4);
            let isum = _mm_cvtsi128_si32(s4);
            let a = _mm256_packs_epi32(i0, i1);
            let b = _mm256_packs_epi32(i2, i3);
            let q = _mm256_packs_epi16(a, b);
            let q = _mm256_permutevar8x32_epi32(q, perm);
            _mm256_storeu_si256(self.qs.as_mut_ptr().add(i * 32) as *mut __m256i, q);
            *self.d.get_unchecked_mut(i) = d;
            *self.s.get_unchecked_mut(i / self.nb * pad8(self.nb) + i % self.nb) = d * isum as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avx2_matches_scalar() {
        let x: Vec<f32> = (0..7 * 96).map(|i| ((i * 37 % 101) as f32 - 50.0) * 0.173).collect();
        let mut a = QAct::new();
        a.quantize(&x, 7, 96);
        let mut b = a.clone();
        b.quantize_scalar(&x);
        assert_eq!(a.qs, b.qs);
        assert_eq!(a.d, b.d);
        for (u, v) in a.s.iter().zip(&b.s) {
            assert!((u - v).abs() <= 1e-4 * v.abs().max(1.0));
        }
    }
}
