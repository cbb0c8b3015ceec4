//! Fused operations of the dense model's decode step, as candle custom ops: on CUDA they
//! run precis's own kernels (`kernels.cu`, built to PTX by build.rs), each one launch where
//! plain candle ops take several; at one token per step the launches, not the arithmetic,
//! are what a small model's decode time is made of. Owns the kernels' launch code; the
//! model decides when to use them (`mod.rs`).
//!
//! - [`SiluMul`]: `silu(gate) * up` from the stacked gate/up projection (CPU and CUDA).
//! - [`AttnDecode`]: RoPE on q and k, the new k and v written into the KV cache, and
//!   attention of each row's one query over its cache (CUDA only).

use candle_core::{CpuStorage, CustomOp1, CustomOp3, Layout, Result, Shape, Tensor};

/// `[rows, 2·ff]` (gate then up) → `[rows, ff]`.
pub struct SiluMul;

impl CustomOp1 for SiluMul {
    fn name(&self) -> &'static str {
        "precis-silu-mul"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let (rows, ff) = split_dims(l)?;
        let (o1, o2) = l.contiguous_offsets().ok_or_else(|| candle_core::Error::Msg("silu-mul: not contiguous".into()))?;
        fn run<T: candle_core::WithDType + num_traits::Float>(x: &[T], rows: usize, ff: usize) -> Vec<T> {
            let mut out = Vec::with_capacity(rows * ff);
            for r in x.chunks_exact(2 * ff).take(rows) {
                let (g, u) = r.split_at(ff);
                out.extend(g.iter().zip(u).map(|(&g, &u)| g / (T::one() + (-g).exp()) * u));
            }
            out
        }
        let out = match s {
            CpuStorage::F32(x) => CpuStorage::F32(run(&x[o1..o2], rows, ff)),
            CpuStorage::F16(x) => CpuStorage::F16(run(&x[o1..o2], rows, ff)),
            CpuStorage::BF16(x) => CpuStorage::BF16(run(&x[o1..o2], rows, ff)),
            _ => candle_core::bail!("silu-mul: unsupported dtype"),
        };
        Ok((out, Shape::from((rows, ff))))
    }

    #[cfg(feature = "cuda")]
    fn cuda_fwd(&self, s: &candle_core::CudaStorage, l: &Layout) -> Result<(candle_core::CudaStorage, Shape)> {
        use candle_core::backend::BackendStorage;
        let (rows, ff) = split_dims(l)?;
        let out = match s.dtype() {
            candle_core::DType::F32 => cuda::silu_mul::<f32>(s, l, rows, ff)?,
            candle_core::DType::F16 => cuda::silu_mul::<half::f16>(s, l, rows, ff)?,
            d => candle_core::bail!("silu-mul: no CUDA kernel for {d:?}"),
        };
        Ok((out, Shape::from((rows, ff))))
    }
}

fn split_dims(l: &Layout) -> Result<(usize, usize)> {
    match l.dims() {
        [rows, w] if w % 2 == 0 => Ok((*rows, w / 2)),
        d => candle_core::bail!("silu-mul: expected [rows, 2·ff], got {d:?}"),
    }
}

/// One decode step of attention for every row: `apply_op3(qkv [B, (H+2KV)·hd], cos [B, hd/2],
/// sin [B, hd/2])` (cos/sin in f32) → `[B, H·hd]`. Writes the new k and v at index `len` of
/// `k` and `v` (`[B, KV, cap, hd]`, contiguous), which the caller owns and must not share.
#[cfg_attr(not(feature = "cuda"), allow(dead_code))]
pub struct AttnDecode {
    pub k: Tensor,
    pub v: Tensor,
    /// Left padding of each row, u32 on the device.
    pub pads: Tensor,
    pub len: usize,
    pub n_head: usize,
    pub n_kv_head: usize,
    pub head_dim: usize,
    pub neox: bool,
    pub scale: f32,
}

impl AttnDecode {
    /// Whether the kernel can hold this many keys in shared memory.
    pub fn fits(head_dim: usize, total: usize) -> bool {
        (head_dim + total) * 4 <= 48 * 1024
    }
}

impl CustomOp3 for AttnDecode {
    fn name(&self) -> &'static str {
        "precis-attn-decode"
    }

    fn cpu_fwd(
        &self,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        candle_core::bail!("precis-attn-decode runs on CUDA only")
    }

    #[cfg(feature = "cuda")]
    fn cuda_fwd(
        &self,
        qkv: &candle_core::CudaStorage,
        lq: &Layout,
        cos: &candle_core::CudaStorage,
        lc: &Layout,
        sin: &candle_core::CudaStorage,
        ls: &Layout,
    ) -> Result<(candle_core::CudaStorage, Shape)> {
        use candle_core::backend::BackendStorage;
        let rows = lq.dims()[0];
        let out = match qkv.dtype() {
            candle_core::DType::F32 => cuda::attn_decode::<f32>(self, qkv, lq, cos, lc, sin, ls)?,
            candle_core::DType::F16 => cuda::attn_decode::<half::f16>(self, qkv, lq, cos, lc, sin, ls)?,
            d => candle_core::bail!("attn-decode: no CUDA kernel for {d:?}"),
        };
        Ok((out, Shape::from((rows, self.n_head * self.head_dim))))
    }
}

#[cfg(feature = "cuda")]
mod cuda {
    use super::AttnDecode;
    use candle_core::cuda_backend::cudarc::driver::{CudaView, DeviceRepr, LaunchConfig, PushKernelArg};
    use candle_core::cuda_backend::{CudaDType, WrapErr};
    use candle_core::{builder_arg, CudaStorage, Layout, Result, Storage, Tensor, WithDType};

    const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/dense_kernels.ptx"));
    const MODULE: &str = "precis_dense";

    fn suffix<T: WithDType>() -> &'static str {
        if T::DTYPE == candle_core::DType::F16 {
            "f16"
        } else {
            "f32"
        }
    }

    fn view<'a, T: CudaDType>(s: &'a CudaStorage, l: &Layout) -> Result<CudaView<'a, T>> {
        let (o1, o2) = l.contiguous_offsets().ok_or_else(|| candle_core::Error::Msg("input not contiguous".into()))?;
        Ok(s.as_cuda_slice::<T>()?.slice(o1..o2))
    }

    /// The device buffer behind a whole contiguous tensor that the caller owns.
    fn with_buffer<T: CudaDType, R>(t: &Tensor, f: impl FnOnce(&CudaView<'_, T>) -> Result<R>) -> Result<R> {
        let (storage, layout) = t.storage_and_layout();
        let Storage::Cuda(s) = &*storage else { candle_core::bail!("expected a CUDA tensor") };
        f(&view::<T>(s, layout)?)
    }

    pub fn silu_mul<T: CudaDType + WithDType + DeviceRepr>(s: &CudaStorage, l: &Layout, rows: usize, ff: usize) -> Result<CudaStorage> {
        let dev = s.device.clone();
        let src = view::<T>(s, l)?;
        let n = rows * ff;
        let out = unsafe { dev.alloc::<T>(n)? };
        let func = dev.get_or_load_custom_func(&format!("silu_mul_{}", suffix::<T>()), MODULE, PTX)?;
        let mut b = func.builder();
        b.arg(&src);
        b.arg(&out);
        builder_arg!(b, ff as i32, n);
        let cfg = LaunchConfig { grid_dim: (n.div_ceil(256) as u32, 1, 1), block_dim: (256, 1, 1), shared_mem_bytes: 0 };
        unsafe { b.launch(cfg) }.w()?;
        Ok(CudaStorage::wrap_cuda_slice(out, dev))
    }

    pub fn attn_decode<T: CudaDType + WithDType + DeviceRepr>(
        op: &AttnDecode,
        qkv: &CudaStorage,
        lq: &Layout,
        cos: &CudaStorage,
        lc: &Layout,
        sin: &CudaStorage,
        ls: &Layout,
    ) -> Result<CudaStorage> {
        let dev = qkv.device.clone();
        let (h, kv, hd) = (op.n_head, op.n_kv_head, op.head_dim);
        let rows = lq.dims()[0];
        let cap = op.k.dims()[2];
        let total = op.len + 1;
        let (qkv, cos, sin) = (view::<T>(qkv, lq)?, view::<f32>(cos, lc)?, view::<f32>(sin, ls)?);
        let q = unsafe { dev.alloc::<f32>(rows * h * hd)? };
        let out = unsafe { dev.alloc::<T>(rows * h * hd)? };
        let s = suffix::<T>();
        let rope = dev.get_or_load_custom_func(&format!("rope_store_{s}"), MODULE, PTX)?;
        let attn = dev.get_or_load_custom_func(&format!("attn_decode_{s}"), MODULE, PTX)?;
        with_buffer::<T, _>(&op.k, |kc| {
            with_buffer::<T, _>(&op.v, |vc| {
                let mut b = rope.builder();
                b.arg(&qkv);
                b.arg(&cos);
                b.arg(&sin);
                b.arg(&q);
                b.arg(kc);
                b.arg(vc);
                builder_arg!(b, h as i32, kv as i32, hd as i32, cap as i32, op.len as i32, op.neox as i32, op.scale);
                let cfg = LaunchConfig {
                    grid_dim: (rows as u32, (h + 2 * kv) as u32, 1),
                    block_dim: ((hd / 2) as u32, 1, 1),
                    shared_mem_bytes: 0,
                };
                unsafe { b.launch(cfg) }.w()?;
                with_buffer::<u32, _>(&op.pads, |pads| {
                    let mut b = attn.builder();
                    b.arg(&q);
                    b.arg(kc);
                    b.arg(vc);
                    b.arg(pads);
                    b.arg(&out);
                    builder_arg!(b, h as i32, kv as i32, hd as i32, cap as i32, total as i32);
                    let cfg = LaunchConfig {
                        grid_dim: ((rows * h) as u32, 1, 1),
                        block_dim: (128, 1, 1),
                        shared_mem_bytes: ((hd + total) * 4) as u32,
                    };
                    unsafe { b.launch(cfg) }.w()?;
                    Ok(())
                })
            })
        })?;
        Ok(CudaStorage::wrap_cuda_slice(out, dev))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, D};

    #[test]
    fn silu_mul_equals_candle_ops() {
        let x = Tensor::randn(0f32, 2.0, (3, 10), &Device::Cpu).unwrap();
        let want = (x.narrow(D::Minus1, 0, 5).unwrap().silu().unwrap() * x.narrow(D::Minus1, 5, 5).unwrap()).unwrap();
        let got = x.apply_op1_no_bwd(&SiluMul).unwrap();
        let diff = (want - got).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
        assert!(diff < 1e-5, "max difference {diff}");
        assert!(Tensor::zeros((2, 3), candle_core::DType::F32, &Device::Cpu).unwrap().apply_op1_no_bwd(&SiluMul).is_err());
    }
}
