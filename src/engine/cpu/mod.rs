//! precis' own CPU inference path: repacked quantised weights, runtime-dispatched AVX2
//! integer kernels with a scalar fallback, a batched GEMM for prefill, a fork-join pool,
//! and the llama/qwen2 forward pass ([`CpuModel`]). Owns everything under `engine/cpu/`;
//! must not touch tokenisation, prompts or the CLI.

pub mod act;
pub mod attn;
mod forward;
pub mod half;
pub mod kernels;
pub mod matmul;
pub mod model;
pub mod pool;
pub mod quant;
pub mod repack;
pub mod vexp;
pub mod vnni;

#[cfg(test)]
mod kernel_tests;
#[cfg(test)]
mod model_tests;

pub use crate::engine::arch::Config;
pub use act::QAct;
pub use matmul::matmul;
pub use model::CpuModel;
pub use pool::Pool;
pub use quant::{dequantize_row, GgmlType};
pub use repack::{Kind, PackedMatrix};
