//! Attention of one query, or of a group of queries that share a KV head, over cached f16
//! positions: scores, softmax, weighted sum of V. AVX2 version for head_dim 64 (query held
//! in registers, eight keys at a time, vectorised softmax, K/V converted to f32 in blocks
//! that every query of a group then reads from L1), portable version otherwise. Owns only
//! this arithmetic; must not know cache layouts.

use super::half;
use super::matmul::dot;

/// `out = softmax(scale * K q) V` over the first `n` rows of the f16 caches `k` and `v` (row
/// length `hd`). `sc` is scratch of at least `n` values. One query: the tests' reference.
#[cfg(test)]
pub(crate) fn attend(q: &[f32], k: &[u16], v: &[u16], n: usize, scale: f32, sc: &mut [f32], out: &mut [f32]) {
    attend_group(q, q.len(), &[n], k, v, scale, sc, out);
}

/// The reference version of [`attend`] on f32 rows (any head size).
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

/// Keys per block of [`attend_group`]: a block's K (or V) rows, converted to f32 once (8 KiB
/// at head size 64), stay in L1 while every query of the group reads them.
const BLOCK: usize = 32;

/// Several queries over the same f16 K/V rows (the query heads that share a KV head, for one
/// or more positions of one sequence). Query `i` (`q[i*hd..]`) attends to the first `ns[i]`
/// rows and writes `out[i*hd..]`. K and V are walked in blocks shared by all queries, so each
/// block is read from memory and converted once; each query's arithmetic does not depend on
/// the group it is in. `sc` holds at least `ns.len() * max(ns)` values.
#[allow(clippy::too_many_arguments)]
pub fn attend_group(
    q: &[f32],
    hd: usize,
    ns: &[usize],
    k: &[u16],
    v: &[u16],
    scale: f32,
    sc: &mut [f32],
    out: &mut [f32],
) {
    let nq = ns.len();
    let nmax = ns.iter().copied().max().unwrap_or(0);
    assert!(q.len() >= nq * hd && out.len() >= nq * hd && sc.len() >= nq * nmax);
    assert!(k.len() >= nmax * hd && v.len() >= nmax * hd);
    #[cfg(target_arch = "x86_64")]
    if hd == 64 && super::features::has_avx2() {
        // SAFETY: avx2+fma detected; lengths checked above.
        unsafe { group64(q, ns, k, v, scale, sc, out, nmax) };
        return;
    }
    let (mut kf, mut vf) = (vec![0f32; nmax * hd], vec![0f32; nmax * hd]);
    half::to_f32(&k[..nmax * hd], &mut kf);
    half::to_f32(&v[..nmax * hd], &mut vf);
    for (i, &n) in ns.iter().enumerate() {
        let (qi, oi) = (&q[i * hd..(i + 1) * hd], &mut out[i * hd..(i + 1) * hd]);
        attend_portable(qi, &kf, &vf, n, scale, &mut sc[i * nmax..(i + 1) * nmax], oi);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn group64(
    q: &[f32],
    ns: &[usize],
    k: &[u16],
    v: &[u16],
    scale: f32,
    sc: &mut [f32],
    out: &mut [f32],
    nmax: usize,
) {
    use std::arch::x86_64::*;
    let nq = ns.len();
    let mut buf = [0f32; BLOCK * 64];
    // Pass 1: scores, block by block of keys (converted to f32 once), every query per block.
    let mut j0 = 0;
    while j0 < nmax {
        let jn = (j0 + BLOCK).min(nmax) - j0;
        half::to_f32(&k[j0 * 64..(j0 + jn) * 64], &mut buf[..jn * 64]);
        for (i, &n) in ns.iter().enumerate() {
            if j0 < n {
                let cnt = (n - j0).min(jn);
                scores64(&q[i * 64..(i + 1) * 64], buf.as_ptr(), cnt, scale, sc.as_mut_ptr().add(i * nmax + j0));
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
    let vp = buf.as_ptr();
    let mut j0 = 0;
    while j0 < nmax {
        let jn = (j0 + BLOCK).min(nmax) - j0;
        half::to_f32(&v[j0 * 64..(j0 + jn) * 64], &mut buf[..jn * 64]);
        for (i, &n) in ns.iter().enumerate() {
            if j0 >= n {
                continue;
            }
            let o = out.as_mut_ptr().add(i * 64);
            let mut acc = [_mm256_setzero_ps(); 8];
            for (t, a) in acc.iter_mut().enumerate() {
                *a = _mm256_loadu_ps(o.add(8 * t));
            }
            for j in 0..(n - j0).min(jn) {
                let pv = _mm256_set1_ps(*sc.get_unchecked(i * nmax + j0 + j));
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

/// Scores of one head-64 query against `cnt` f32 keys at `kp`: `sc[j] = scale * q·k_j`, eight
/// keys at a time (eight independent FMA chains hide the FMA latency), then one at a time.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn scores64(q: &[f32], kp: *const f32, cnt: usize, scale: f32, sc: *mut f32) {
    use std::arch::x86_64::*;
    let mut qv = [_mm256_setzero_ps(); 8];
    for (i, r) in qv.iter_mut().enumerate() {
        *r = _mm256_mul_ps(_mm256_loadu_ps(q.as_ptr().add(8 * i)), _mm256_set1_ps(scale));
    }
    let mut j = 0;
    while j + 8 <= cnt {
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
    while j < cnt {
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

    fn data(len: usize, seed: usize) -> Vec<f32> {
        (0..len).map(|i| ((i + seed) * 7919 % 1000) as f32 / 500.0 - 1.0).collect()
    }

    fn f16s(x: &[f32]) -> Vec<u16> {
        let mut h = vec![0u16; x.len()];
        half::to_f16(x, &mut h);
        h
    }

    fn widen(h: &[u16]) -> Vec<f32> {
        let mut x = vec![0f32; h.len()];
        half::to_f32(h, &mut x);
        x
    }

    #[test]
    fn simd_matches_the_reference() {
        for n in [1usize, 3, 4, 5, 8, 13, 17, 64, 203] {
            let q = data(64, 0);
            let (k, v) = (f16s(&data(n * 64, 5)), f16s(&data(n * 64, 11)));
            let (mut sc, mut a, mut b) = (vec![0f32; n], vec![0f32; 64], vec![0f32; 64]);
            attend(&q, &k, &v, n, 0.125, &mut sc, &mut a);
            attend_portable(&q, &widen(&k), &widen(&v), n, 0.125, &mut sc, &mut b);
            for (x, y) in a.iter().zip(&b) {
                assert!((x - y).abs() < 1e-5, "n {n}: {x} vs {y}");
            }
        }
    }

    #[test]
    fn a_group_gives_each_query_what_it_gets_alone_bit_for_bit() {
        let ns = [203usize, 200, 37, 1, 64, 65, 8, 31, 33];
        let nmax = 203;
        let q = data(ns.len() * 64, 3);
        let (k, v) = (f16s(&data(nmax * 64, 5)), f16s(&data(nmax * 64, 11)));
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
