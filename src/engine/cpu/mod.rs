//! precis' own CPU inference path: repacked quantised weights, runtime-dispatched AVX2 and
//! AVX-512 VNNI integer kernels with a scalar fallback, a batched GEMM for prefill, a
//! fork-join pool, and the llama/qwen2 forward pass ([`CpuModel`]). Owns everything under
//! `engine/cpu/`; must not touch tokenisation, prompts or the CLI. Crate-private: the
//! benches reach the kernels through `engine::kernel_api`.

pub(crate) mod act;
pub(crate) mod attn;
pub(crate) mod features;
mod forward;
pub(crate) mod half;
pub(crate) mod kernels;
pub(crate) mod matmul;
pub(crate) mod model;
pub(crate) mod pool;
pub(crate) mod quant;
pub(crate) mod repack;
pub(crate) mod vexp;
pub(crate) mod vnni;

#[cfg(test)]
mod kernel_tests;
#[cfg(test)]
mod model_tests;

pub(crate) use features::Tiles;
pub(crate) use model::CpuModel;
