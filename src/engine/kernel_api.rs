//! The small public API of precis's CPU kernels, for the criterion benches
//! (`benches/kernels.rs`): weights repacked from ggml blocks (with format-named
//! constructors), a quantised activation batch, a thread pool, the matmul, and attention of
//! one KV head over an f16 cache. precis itself never goes through it; it exists so that
//! the engine's own modules stay crate-private.

use super::cpu::features::Tiles;

pub use super::cpu::act::QAct;
pub use super::cpu::attn::attend_group;
pub use super::cpu::half::to_f16;
pub use super::cpu::pool::Pool;
pub use super::cpu::quant::GgmlType;
pub use super::cpu::repack::PackedMatrix;

/// Repacks `n` rows of `k` values of ggml `format` blocks for the kernels.
pub fn weights(format: GgmlType, raw: &[u8], n: usize, k: usize) -> Result<PackedMatrix, String> {
    PackedMatrix::from_ggml(format, raw, n, k)
}

/// Q4_1 weights: the U4 layout, run by the `tile8_q4_q5` group tiles (and their VNNI twins).
pub fn q4_1(raw: &[u8], n: usize, k: usize) -> Result<PackedMatrix, String> {
    weights(GgmlType::Q4_1, raw, n, k)
}

/// Q5_0 weights: the U5 layout (four bits plus a fifth bit plane), `tile8_q4_q5` with fifth bits.
pub fn q5_0(raw: &[u8], n: usize, k: usize) -> Result<PackedMatrix, String> {
    weights(GgmlType::Q5_0, raw, n, k)
}

/// Q8_0 weights: the U8 layout, run by the `tile8_q8_0` group tiles.
pub fn q8_0(raw: &[u8], n: usize, k: usize) -> Result<PackedMatrix, String> {
    weights(GgmlType::Q8_0, raw, n, k)
}

/// `out` (a.rows × Σn) = a × [mats...]ᵀ on `pool`, with the best tiles this CPU runs.
pub fn matmul(pool: &Pool, mats: &[&PackedMatrix], a: &QAct, out: &mut [f32]) {
    super::cpu::matmul::matmul(pool, Tiles::detect(true), mats, a, out)
}

/// [`matmul`] with the AVX2 tiles even where the CPU has AVX-512 VNNI (as `--no-vnni`).
pub fn matmul_avx2(pool: &Pool, mats: &[&PackedMatrix], a: &QAct, out: &mut [f32]) {
    super::cpu::matmul::matmul(pool, Tiles::detect(false), mats, a, out)
}
