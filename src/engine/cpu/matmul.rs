//! Quantised matmul drivers: `out[r][col] = Σ_k act[r][k] * W[col][k]` for one or several
//! weight matrices that read the same quantised activation (fused QKV, gate/up), with the
//! columns of all of them split across the pool in a few contiguous ranges (claimed
//! dynamically). U4, U5 and U8 run group tiles of 8 columns by 4 rows (6 with AVX-512 VNNI);
//! I8h 1×4 tiles for decode and 4×2 for prefill. Rows go in blocks of 64 so a block's
//! activations stay in L2.
//! Owns tiling and threading of matmuls; must not know about layers or attention.

use super::act::QAct;
use super::features::Tiles;
use super::kernels::{tile_scalar, OutPtr};
use super::pool::{split, Pool};
use super::repack::PackedMatrix;

const ROW_BLOCK: usize = 64;

/// `out` (a.rows × Σn, row-major) = a × [mats...]ᵀ, split over the pool's threads, with the
/// tiles `tiles` allows.
pub(crate) fn matmul(pool: &Pool, tiles: Tiles, mats: &[&PackedMatrix], a: &QAct, out: &mut [f32]) {
    let total: usize = mats.iter().map(|m| m.n).sum();
    for m in mats {
        assert_eq!(m.k, a.k, "matmul: weight k {} vs activation k {}", m.k, a.k);
    }
    assert!(out.len() >= a.rows * total);
    let optr = OutPtr { ptr: out.as_mut_ptr(), ldo: total };
    // A few contiguous column ranges per thread, so a descheduled worker's share is small.
    let chunks = if pool.threads() == 1 { 1 } else { (4 * pool.threads()).min(total.div_ceil(16)) };
    pool.run(chunks, &|t| {
        let (lo, hi) = split(total, chunks, t, 8);
        let mut base = 0;
        for m in mats {
            let (s, e) = (lo.max(base), hi.min(base + m.n));
            if s < e {
                // SAFETY: base < total = ldo, and `out` holds a.rows >= 1 rows of ldo values.
                let o = unsafe { optr.offset(base) };
                // SAFETY: columns s-base..e-base of this matrix are base+s..base+e of `out`,
                // inside this chunk's range lo..hi, which no other chunk writes; every row
                // of `a` fits `out` (asserted above); `out` outlives the pool job.
                unsafe { gemm_range(m, s - base, e - base, a, o, tiles) };
            }
            base += m.n;
        }
    });
}

/// Columns `c0..c1` of `w` for all rows of `a`, single-threaded.
///
/// # Safety
/// `c0 <= c1 <= w.n`; `out` must be valid for writes at `out.ptr[r * out.ldo + c]` for
/// every row `r < a.rows` and column `c0 <= c < c1`, and no other thread may access those
/// places during the call; `tiles` must not ask for instructions this CPU lacks (use
/// [`Tiles::detect`]).
pub(crate) unsafe fn gemm_range(w: &PackedMatrix, c0: usize, c1: usize, a: &QAct, out: OutPtr, tiles: Tiles) {
    let rows = a.rows;
    #[cfg(target_arch = "x86_64")]
    if tiles.simd && w.kind != super::repack::Kind::I8h {
        // SAFETY: the caller's contract, passed on.
        unsafe { gemm_range_grouped(w, c0, c1, a, out, tiles.vnni) };
        return;
    }
    let (rt, ct) = if rows == 1 { (1, 4) } else { (4, 2) };
    let mut rb = 0;
    while rb < rows {
        let re = (rb + ROW_BLOCK).min(rows);
        let mut c = c0;
        while c < c1 {
            let cn = if c1 - c >= ct { ct } else { 1 };
            let mut r = rb;
            while r < re {
                let rn = rt.min(re - r);
                // SAFETY: c + cn <= c1 and r + rn <= rows: inside the caller's columns and rows.
                unsafe { run_tile(w, c, cn, a, r, rn, out, tiles.simd) };
                r += rn;
            }
            c += cn;
        }
        rb = re;
    }
}

/// U4 (Q4_0, Q4_1, Q4_K), U5 (Q5_0) and U8 (Q8_0, F16, F32) with AVX2 (or AVX-512 VNNI):
/// groups of 8 interleaved columns, 4-row (or 6-row) tiles over row blocks.
///
/// # Safety
/// [`gemm_range`]'s contract with `tiles.simd` (AVX2+FMA present); `vnni` only where the
/// CPU has AVX-512 VNNI and VL.
#[cfg(target_arch = "x86_64")]
unsafe fn gemm_range_grouped(w: &PackedMatrix, c0: usize, c1: usize, a: &QAct, out: OutPtr, vnni: bool) {
    let rows = a.rows;
    let mut rb = 0;
    while rb < rows {
        let re = (rb + ROW_BLOCK).min(rows);
        for g in c0 / 8..c1.div_ceil(8) {
            let (lo, hi) = (c0.max(g * 8) - g * 8, c1.min(g * 8 + 8) - g * 8);
            let mut r = rb;
            while r < re {
                let rn = if vnni { super::vnni::MAX_ROWS } else { 4 }.min(re - r);
                let tile =
                    if vnni { super::vnni::x86::pick8(w.kind, rn) } else { super::kernels::avx2::pick8(w.kind, rn) };
                // SAFETY: the CPU features are the caller's promise; w is U4, U5 or U8;
                // g < n/8 rounded up and the tile writes only columns g*8+lo..g*8+hi, inside
                // c0..c1; rows r..r+rn are inside a.rows.
                unsafe { tile(w, g, a, r, out, lo, hi) };
                r += rn;
            }
        }
        rb = re;
    }
}

/// One I8h (or scalar) tile.
///
/// # Safety
/// `out` valid and ours for rows `r..r+rn`, columns `c..c+cn`; `simd` only with AVX2+FMA.
#[allow(clippy::too_many_arguments)]
#[inline]
unsafe fn run_tile(w: &PackedMatrix, c: usize, cn: usize, a: &QAct, r: usize, rn: usize, out: OutPtr, simd: bool) {
    #[cfg(target_arch = "x86_64")]
    if simd {
        let f = super::kernels::avx2::pick(w.kind, rn, cn);
        // SAFETY: avx2+fma promised by the caller; c+cn <= w.n, r+rn <= a.rows; out covers the tile.
        unsafe { f(w, c, a, r, out) };
        return;
    }
    let _ = simd;
    // SAFETY: the caller's contract, passed on.
    unsafe { tile_scalar(w, c, cn, a, r, rn, out) };
}

/// f32 dot product with 8 independent lanes (vectorises under x86-64-v3).
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let n8 = a.len() / 8 * 8;
    for (x, y) in a[..n8].chunks_exact(8).zip(b[..n8].chunks_exact(8)) {
        for l in 0..8 {
            acc[l] = x[l].mul_add(y[l], acc[l]);
        }
    }
    let mut s = acc.iter().sum::<f32>();
    for i in n8..a.len() {
        s += a[i] * b[i];
    }
    s
}
