//! Attention of one query, or of a group of queries that share a KV head, over cached
//! positions: scores, softmax, weighted sum of V. AVX2 version for head_dim 64 (query held
//! in registers, eight keys at a time, vectorised softmax, K/V walked in blocks that every
//! query of a group reads from L1), portable version otherwise. Owns only this arithmetic;
//! must not know cache layouts.

use super::matmul::dot;

/// `out = softmax(scale * K q) V` over the first `n` rows of `k` and `v` (row length `hd`).
/// `sc` is scratch of at least `n` values.
pub fn attend(q: &[f32], k: &[f32], v: &[f32], n: usize, scale: f32, sc: &mut [f32], out: &mut [f32]) {
    let hd = q.len();
    assert!(k.len() >= n * hd && v.len() >= n * hd && sc.len() >= n && out.len() >= hd);
    #[cfg(target_arch = "x86_64")]
    if hd == 64 && super::kernels::has_avx2() {
        // SAFETY: avx2+fma detected; lengths checked above.
        unsafe { group64(q, &[n], k, v, scale, sc, out, n) };
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
    let sum = super::vexp::exp_sub_sum(&mut sc[..n], mx);
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

/// Keys per block of [`attend_group`]: a block's K (or V) rows, 8 KiB at head size 64, stay
/// in L1 while every query of the group reads them.
const BLOCK: usize = 32;

/// Several queries over the same K/V rows (the query heads that share a KV head, for one or
/// more positions of one sequence). Query `i` (`q[i*hd..]`) attends to the first `ns[i]` rows
/// and writes `out[i*hd..]`. Each query's arithmetic is [`attend`]'s, in the same order, so
/// the results are identical; K and V are walked in blocks shared by all queries, so each
/// block is read from memory once. `sc` holds at least `ns.len() * max(ns)` values.
#[allow(clippy::too_many_arguments)]
pub fn attend_group(
    q: &[f32],
    hd: usize,
    ns: &[usize],
    k: &[f32],
    v: &[f32],
    scale: f32,
    sc: &mut [f32],
    out: &mut [f32],
) {
    let nq = ns.len();
    let nmax = ns.iter().copied().max().unwrap_or(0);
    assert!(q.len() >= nq * hd && out.len() >= nq * hd && sc.len() >= nq * nmax);
    assert!(k.len() >= nmax * hd && v.len() >= nmax * hd);
    #[cfg(target_arch = "x86_64")]
    if hd == 64 && super::kernels::has_avx2() {
        // SAFETY: avx2+fma detected; lengths checked above.
        unsafe { group64(q, ns, k, v, scale, sc, out, nmax) };
        return;
    }
    for (i, &n) in ns.iter().enumerate() {
        let (qi, oi) = (&q[i * hd..(i + 1) * hd], &mut out[i * hd..(i + 1) * hd]);
        attend_portable(qi, k, v, n, scale, &mut sc[i * nmax..(i + 1) * nmax], oi);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn group64(
    q: &[f32],
    ns: &[usize],
    k: &[f32],
    v: &[f32],
    scale: f32,
    sc: &mut [f32],
    out: &mut [f32],
    nmax: usize,
) {
    use std::arch::x86_64::*;
    let nq = ns.len();
    // Pass 1: scores, block by block of keys, every query per block.
    let mut j0 = 0;
    while j0 < nmax {
        for (i, &n) in ns.iter().enumerate() {
            if j0 < n {
                let je = (j0 + BLOCK).min(n);
                scores64(&q[i * 64..(i + 1) * 64], k.as_ptr(), j0, je, scale, sc.as_mut_ptr().add(i * nmax));
            }
        }
        j0 += BLOCK;
    }
    // Softmax per query (unnormalised; the sum divides at the end).
    let mut sums = [0f32; 64];
    let mut sums_big = Vec::new();
    let sums: &mut [f32] = if nq <= 64 {
        &mut sums[..nq]
    } else {
        sums_big.resize(nq, 0.0);
        &mut sums_big
    };
    for (i, &n) in ns.iter().enumerate() {
        let row = &mut sc[i * nmax..i * nmax + n];
        let mx = row.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
        sums[i] = super::vexp::avx2::exp_sub_sum(row, mx);
    }
    // Pass 2: the weighted sum of V, block by block, accumulators kept in `out`.
    out[..nq * 64].fill(0.0);
    let vp = v.as_ptr();
    let mut j0 = 0;
    while j0 < nmax {
        for (i, &n) in ns.iter().enumerate() {
            if j0 >= n {
                continue;
            }
            let o = out.as_mut_ptr().add(i * 64);
            let mut acc = [_mm256_setzero_ps(); 8];
            for (t, a) in acc.iter_mut().enumerate() {
                *a = _mm256_loadu_ps(o.add(8 * t));
            }
            for j in j0..(j0 + BLOCK).min(n) {
                let pv = _mm256_set1_ps(*sc.get_unchecked(i * nmax + j));
                for (t, a) in acc.iter_mut().enumerate() {
                    *a = _mm256_fmadd_ps(pv, _mm256_loadu_ps(vp.add(j * 64 + 8 * t)), *a);
                }
            }
            for (t, a) in acc.iter().enumerate() {
                _mm256_storeu_ps(o.add(8 * t), *a);
            }
        }
        j0 += BLOCK;
    }
    for (i, &s) in sums.iter().enumerate() {
        let inv = _mm256_set1_ps(1.0 / s);
        let o = out.as_mut_ptr().add(i * 64);
        for t in 0..8 {
            _mm256_storeu_ps(o.add(8 * t), _mm256_mul_ps(_mm256_loadu_ps(o.add(8 * t)), inv));
        }
    }
}

/// Scores of one head-64 query against keys `j0..je`: `sc[j] = scale * q·k_j`, eight keys at
/// a time (eight independent FMA chains hide the FMA latency), then one at a time.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn scores64(q: &[f32], kp: *const f32, j0: usize, je: usize, scale: f32, sc: *mut f32) {
    use std::arch::x86_64::*;
    let mut qv = [_mm256_setzero_ps(); 8];
    for (i, r) in qv.iter_mut().enumerate() {
        *r = _mm256_mul_ps(_mm256_loadu_ps(q.as_ptr().add(8 * i)), _mm256_set1_ps(scale));
    }
    let mut j = j0;
    while j + 8 <= je {
        let mut a = [_mm256_setzero_ps(); 8];
        for (i, qr) in qv.iter().enumerate() {
            for (t, acc) in a.iter_mut().enumerate() {
                *acc = _mm256_fmadd_ps(*qr, _mm256_loadu_ps(kp.add((j + t) * 64 + 8 * i)), *acc);
            }
        }
        let h0 = _mm256_hadd_ps(_mm256_hadd_ps(a[0], a[1]), _mm256_hadd_ps(a[2], a[3]));
        let h1 = _mm256_hadd_ps(_mm256_hadd_ps(a[4], a[5]), _mm256_hadd_ps(a[6], a[7]));
        let s8 = _mm256_add_ps(_mm256_permute2f128_ps::<0x20>(h0, h1), _mm256_permute2f128_ps::<0x31>(h0, h1));
        _mm256_storeu_ps(sc.add(j), s8);
        j += 8;
    }
    while j < je {
        let mut acc = _mm256_setzero_ps();
        for (i, qr) in qv.iter().enumerate() {
            acc = _mm256_fmadd_ps(*qr, _mm256_loadu_ps(kp.add(j * 64 + 8 * i)), acc);
        }
        *sc.add(j) = super::vexp::avx2::hsum(acc);
        j += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simd_matches_portable() {
        let f = |i: usize| (i * 7919 % 1000) as f32 / 500.0 - 1.0;
        for n in [1usize, 3, 4, 5, 8, 13, 17, 64, 203] {
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

    #[test]
    fn group_equals_one_query_at_a_time_bit_for_bit() {
        let f = |i: usize| (i * 7919 % 1000) as f32 / 500.0 - 1.0;
        let ns = [203usize, 200, 37, 1, 64, 65, 8, 31, 33];
        let nmax = 203;
        let q: Vec<f32> = (0..ns.len() * 64).map(|i| f(i + 3)).collect();
        let k: Vec<f32> = (0..nmax * 64).map(|i| f(i + 5)).collect();
        let v: Vec<f32> = (0..nmax * 64).map(|i| f(i + 11)).collect();
        let mut sc = vec![0f32; ns.len() * nmax];
        let mut got = vec![0f32; ns.len() * 64];
        attend_group(&q, 64, &ns, &k, &v, 0.125, &mut sc, &mut got);
        for (i, &n) in ns.iter().enumerate() {
            let mut want = vec![0f32; 64];
            attend(&q[i * 64..(i + 1) * 64], &k, &v, n, 0.125, &mut sc, &mut want);
            for (d, (w, g)) in want.iter().zip(&got[i * 64..]).enumerate() {
                assert_eq!(w.to_bits(), g.to_bits(), "query {i} (n {n}) dim {d}: {w} vs {g}");
            }
        }
    }
}
