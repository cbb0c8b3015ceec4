//! Kernel tests: every weight format through repack + matmul (AVX2 and scalar) against the
//! reference (ggml dequantize_row, then an f64 matmul) at odd row and column counts.
//! Test-only; must not be used by the library.

use super::act::QAct;
use super::features::Tiles;
use super::kernels::OutPtr;
use super::matmul::{gemm_range, matmul};
use super::pool::Pool;
use super::quant::{dequantize_row, f32_to_f16, GgmlType};
use super::repack::PackedMatrix;

/// Deterministic xorshift generator.
pub struct Rng(u64);
impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed * 2 + 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn f(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
    }
}

fn put16(v: &mut Vec<u8>, x: f32) {
    v.extend_from_slice(&f32_to_f16(x).to_le_bytes());
}

/// `n` random ggml rows of `k` elements with realistic scales.
pub fn random_rows(ty: GgmlType, n: usize, k: usize, rng: &mut Rng) -> Vec<u8> {
    let mut v = Vec::new();
    for _ in 0..n * k / ty.block_elems() {
        let start = v.len();
        match ty {
            GgmlType::F32 => v.extend_from_slice(&rng.f().to_le_bytes()),
            GgmlType::F16 => put16(&mut v, rng.f()),
            GgmlType::Q4_0 | GgmlType::Q5_0 | GgmlType::Q8_0 => put16(&mut v, 0.01 + 0.02 * rng.f().abs()),
            GgmlType::Q4_1 => {
                put16(&mut v, 0.01 + 0.02 * rng.f().abs());
                put16(&mut v, -0.1 * rng.f().abs());
            }
            GgmlType::Q4K => {
                put16(&mut v, 0.002 + 0.002 * rng.f().abs());
                put16(&mut v, 0.002 * rng.f().abs());
            }
            GgmlType::Q6K => {}
        }
        let body = ty.block_bytes() - (v.len() - start) - if ty == GgmlType::Q6K { 2 } else { 0 };
        for _ in 0..body {
            v.push(rng.next() as u8);
        }
        if ty == GgmlType::Q6K {
            put16(&mut v, 0.001 + 0.001 * rng.f().abs());
        }
    }
    v
}

fn dequant_all(ty: GgmlType, raw: &[u8], n: usize, k: usize) -> Vec<f32> {
    let rb = ty.row_bytes(k);
    let mut w = vec![0f32; n * k];
    for r in 0..n {
        dequantize_row(ty, &raw[r * rb..(r + 1) * rb], &mut w[r * k..(r + 1) * k]);
    }
    w
}

/// Checks `got` (rows × n) against the references:
/// - tight: the dequantised Q8 activations times W, within f32 accumulation error;
/// - loose: the f32 activations times W, within the Q8 rounding bound Σ_k |w| * d_a/2.
#[allow(clippy::too_many_arguments)]
fn check(got: &[f32], x: &[f32], a: &QAct, w: &[f32], rows: usize, n: usize, k: usize, what: &str) {
    for r in 0..rows {
        for c in 0..n {
            let (mut exact, mut quant, mut mag, mut bound) = (0f64, 0f64, 0f64, 0f64);
            for i in 0..k {
                let wv = w[c * k + i] as f64;
                let ad = a.d[r * a.nb + i / 32] as f64;
                exact += x[r * k + i] as f64 * wv;
                quant += a.qs[r * k + i] as f64 * ad * wv;
                mag += (a.qs[r * k + i] as f64 * ad * wv).abs();
                bound += wv.abs() * ad * 0.5;
            }
            let g = got[r * n + c] as f64;
            let tight = 1e-5 * mag + 1e-6;
            assert!((g - quant).abs() <= tight, "{what} r{r} c{c}: {g} vs {quant} (tol {tight})");
            assert!((g - exact).abs() <= bound + tight, "{what} r{r} c{c}: {g} vs f32 {exact} (bound {bound})");
        }
    }
}

const ROWS: [usize; 12] = [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 33];

#[test]
fn every_format_every_shape() {
    let pools = [Pool::new(1), Pool::new(3)];
    let mut rng = Rng::new(7);
    let types =
        [GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q8_0, GgmlType::Q4K, GgmlType::Q6K, GgmlType::F16];
    for ty in types {
        let k = if ty.block_elems() == 256 { 512 } else { 96 };
        for &n in &[1usize, 3, 6, 13] {
            let raw = random_rows(ty, n, k, &mut rng);
            let w = dequant_all(ty, &raw, n, k);
            let p = PackedMatrix::from_ggml(ty, &raw, n, k).unwrap();
            let mut back = vec![0f32; k];
            for c in 0..n {
                p.dequant_row(c, &mut back);
                let exact = ty != GgmlType::F16;
                for i in 0..k {
                    let tol = if exact { 1e-6 } else { 0.01 };
                    assert!((back[i] - w[c * k + i]).abs() <= tol, "{ty:?} repack c{c} i{i}");
                }
            }
            let w = if ty == GgmlType::F16 {
                // The F16 repack is lossy (requantised to Q8): compare against what it holds.
                (0..n)
                    .flat_map(|c| {
                        p.dequant_row(c, &mut back);
                        back.clone()
                    })
                    .collect()
            } else {
                w
            };
            for &rows in &ROWS {
                let x: Vec<f32> = (0..rows * k).map(|_| rng.f() * 2.0).collect();
                let mut a = QAct::new();
                a.quantize(&x, rows, k);
                // The best tiles (VNNI where the CPU has it) and the AVX2 ones.
                for tiles in [Tiles::detect(true), Tiles::detect(false)] {
                    for pool in &pools {
                        let mut out = vec![f32::NAN; rows * n];
                        matmul(pool, tiles, &[&p], &a, &mut out);
                        check(&out, &x, &a, &w, rows, n, k, &format!("{ty:?} {tiles:?} n{n} rows{rows}"));
                    }
                }
                let mut out = vec![f32::NAN; rows * n];
                let o = OutPtr { ptr: out.as_mut_ptr(), ldo: n };
                // SAFETY: `out` holds rows × n values, written by this thread only.
                unsafe { gemm_range(&p, 0, n, &a, o, Tiles::SCALAR) };
                check(&out, &x, &a, &w, rows, n, k, &format!("{ty:?} scalar n{n} rows{rows}"));
            }
        }
    }
}

#[test]
fn fused_mixed_formats() {
    let pool = Pool::new(2);
    let mut rng = Rng::new(11);
    let k = 256;
    let specs = [(GgmlType::Q4_1, 37usize), (GgmlType::Q8_0, 5), (GgmlType::Q6K, 11)];
    let mut ws = Vec::new();
    let mut ps = Vec::new();
    for (ty, n) in specs {
        let raw = random_rows(ty, n, k, &mut rng);
        ws.push(dequant_all(ty, &raw, n, k));
        ps.push(PackedMatrix::from_ggml(ty, &raw, n, k).unwrap());
    }
    let total: usize = specs.iter().map(|s| s.1).sum();
    let wall: Vec<f32> = ws.concat();
    for rows in [1, 6, 9] {
        let x: Vec<f32> = (0..rows * k).map(|_| rng.f()).collect();
        let mut a = QAct::new();
        a.quantize(&x, rows, k);
        let mut out = vec![f32::NAN; rows * total];
        let refs: Vec<&PackedMatrix> = ps.iter().collect();
        matmul(&pool, Tiles::detect(true), &refs, &a, &mut out);
        check(&out, &x, &a, &wall, rows, total, k, "fused");
    }
}

/// The VNNI group tiles against the AVX2 ones: bit for bit for U4 and U5 (the integer sums
/// are exact in both), within float rounding for U8 (AVX2 sums signed weights, VNNI offset ones).
/// On a CPU without VNNI it checks only that no load chooses the VNNI tiles.
#[cfg(target_arch = "x86_64")]
#[test]
fn vnni_tiles_match_avx2() {
    if !super::features::has_vnni() {
        eprintln!("no avx512vnni here: the AVX2 tiles are the only group tiles");
        assert!(!Tiles::detect(true).vnni);
        return;
    }
    assert!(Tiles::detect(true).vnni && !Tiles::detect(false).vnni);
    let mut rng = Rng::new(5);
    for ty in [GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q4K, GgmlType::Q5_0, GgmlType::Q8_0, GgmlType::F16] {
        let (n, k) = (16, 512);
        let raw = random_rows(ty, n, k, &mut rng);
        let p = PackedMatrix::from_ggml(ty, &raw, n, k).unwrap();
        let exact = p.kind != super::repack::Kind::U8;
        let rows = 4;
        let x: Vec<f32> = (0..rows * k).map(|_| rng.f() * 3.0).collect();
        let mut a = QAct::new();
        a.quantize(&x, rows, k);
        for rn in 1..=4 {
            for g in 0..2 {
                let (mut want, mut got) = (vec![f32::NAN; rows * n], vec![f32::NAN; rows * n]);
                let ow = OutPtr { ptr: want.as_mut_ptr(), ldo: n };
                let og = OutPtr { ptr: got.as_mut_ptr(), ldo: n };
                // SAFETY: avx2, fma, avx512vnni and avx512vl detected; U4 or U8; rows 0..rn < 4.
                unsafe {
                    super::kernels::avx2::pick8(p.kind, rn)(&p, g, &a, 0, ow, 0, 8);
                    super::vnni::x86::pick8(p.kind, rn)(&p, g, &a, 0, og, 0, 8);
                }
                for i in 0..rn * n {
                    let (w, v) = (want[i], got[i]);
                    let same =
                        if exact { w.to_bits() == v.to_bits() } else { (w - v).abs() <= 1e-5 * w.abs().max(1.0) };
                    assert!(w.is_nan() && v.is_nan() || same, "{ty:?} rn{rn} g{g} i{i}: {w} vs {v}");
                }
            }
        }
    }
}
