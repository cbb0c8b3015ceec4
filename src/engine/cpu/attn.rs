//! One attention head for one query over `n` cached positions: scores, softmax, weighted
//! sum of V. AVX2 version for head_dim 64 (query held in registers, four keys at a time),
//! portable version otherwise. Owns only this arithmetic; must not know cache layouts.

use super::matmul::dot;

/// `out = softmax(scale * K q) V` over the first `n` rows of `k` and `v` (row length `hd`).
/// `sc` is scratch of at least `n` values.
pub fn attend(q: &[f32], k: &[f32], v: &[f32], n: usize, scale: f32, sc: &mut [f32], out: &mut [f32]) {
    let hd = q.len();
    assert!(k.len() >= n * hd && v.len() >= n * hd && sc.len() >= n && out.len() >= hd);
    #[cfg(target_arch = "x86_64")]
    if hd == 64 && super::kernels::has_avx2() {
        // SAFETY: avx2+fma detected; lengths checked above.
        unsafe { attend64(q, k, v, n, scale, sc, out) };
        return;
    }
    attend_portable(q, k, v, n, scale, sc, out);
}

/// The portable version of [`attend`] (any head size).
pub fn attend_portable(q: &[f32], k: &[f32], v: &[f32], n: usize, scale: f32, sc: &mut [f32], out: &mut [f32]) {
    let hd = q.len();
    let mut mx = f32::NEG_INFINITY;
    for (j, s) in sc[..n].iter_mut().enumerate() {
        *s = dot(q, &k[j * hd..(j + 1) * hd]) * scale;
        mx = mx.max(*s);
    }
    let mut sum = 0f32;
    for s in sc[..n].iter_mut() {
        *s = (*s - mx).exp();
        sum += *s;
    }
    let o = &mut out[..hd];
    o.fill(0.0);
    for (j, &p) in sc[..n].iter().enumerate() {
        for (y, &x) in o.iter_mut().zip(&v[j * hd..(j + 1) * hd]) {
            *y = p.mul_add(x, *y);
        }
    }
    let inv = 1.0 / sum;
    o.iter_mut().for_each(|y| *y *= inv);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn attend64(q: &[f32], k: &[f32], v: &[f32], n: usize, scale: f32, sc: &mut [f32], out: &mut [f32]) {
    use std::arch::x86_64::*;
    let mut qv = [_mm256_setzero_ps(); 8];
    for (i, r) in qv.iter_mut().enumerate() {
        *r = _mm256_mul_ps(_mm256_loadu_ps(q.as_ptr().add(8 * i)), _mm256_set1_ps(scale));
    }
    let kp = k.as_ptr();
    let mut j = 0;
    let mut mxv = _mm_set1_ps(f32::NEG_INFINITY);
    while j + 4 <= n {
        let mut a = [_mm256_setzero_ps(); 4];
        for (t, acc) in a.iter_mut().enumerate() {
            for (i, qr) in qv.iter().enumerate() {
                *acc = _mm256_fmadd_ps(*qr, _mm256_loadu_ps(kp.add((j + t) * 64 + 8 * i)), *acc);
            }
        }
        let h = _mm256_hadd_ps(_mm256_hadd_ps(a[0], a[1]), _mm256_hadd_ps(a[2], a[3]));
        let s4 = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
        _mm_storeu_ps(sc.as_mut_ptr().add(j), s4);
        mxv = _mm_max_ps(mxv, s4);
        j += 4;
    }
    let mut buf = [0f32; 4];
    _mm_storeu_ps(buf.as_mut_ptr(), mxv);
    let mut mx = buf.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
    while j < n {
        let mut acc = _mm256_setzero_ps();
        for (i, qr) in qv.iter().enumerate() {
            acc = _mm256_fmadd_ps(*qr, _mm256_loadu_ps(kp.add(j * 64 + 8 * i)), acc);
        }
        let x = _mm_add_ps(_mm256_extractf128_ps(acc, 1), _mm256_castps256_ps128(acc));
        let x = _mm_add_ps(x, _mm_movehl_ps(x, x));
        let s = _mm_cvtss_f32(_mm_add_ss(x, _mm_movehdup_ps(x)));
        sc[j] = s;
        mx = mx.max(s);
        j += 1;
    }
    let mut sum = 0f32;
    for s in sc[..n].iter_mut() {
        *s = (*s - mx).exp();
        sum += *s;
    }
    let mut acc = [_mm256_setzero_ps(); 8];
    let vp = v.as_ptr();
    for (j, &p) in sc[..n].iter().enumerate() {
        let pv = _mm256_set1_ps(p);
        for (i, a) in acc.iter_mut().enumerate() {
            *a = _mm256_fmadd_ps(pv, _mm256_loadu_ps(vp.add(j * 64 + 8 * i)), *a);
        }
    }
    let inv = _mm256_set1_ps(1.0 / sum);
    for (i, a) in acc.iter().enumerate() {
        _mm256_storeu_ps(out.as_mut_ptr().add(8 * i), _mm256_mul_ps(*a, inv));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simd_matches_portable() {
        let f = |i: usize| (i * 7919 % 1000) as f32 / 500.0 - 1.0;
        for n in [1usize, 3, 4, 5, 8, 13, 64] {
            let q: Vec<f32> = (0..64).map(f).collect();
            let k: Vec<f32> = (0..n * 64).map(|i| f(i + 5)).collect();
            let v: Vec<f32> = (0..n * 64).map(|i| f(i + 11)).collect();
            let (mut sc, mut a, mut b) = (vec![0f32; n], vec![0f32; 64], vec![0f32; 64]);
            attend(&q, &k, &v, n, 0.125, &mut sc, &mut a);
            attend_portable(&q, &k, &v, n, 0.125, &mut sc, &mut b);
            for (x, y) in a.iter().zip(&b) {
                assert!((x - y).abs() < 1e-5, "n {n}: {x} vs {y}");
            }
        }
    }
}
