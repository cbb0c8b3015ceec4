//! Fused operations of the dense model's decode step, as candle custom ops: on CUDA they
//! run precis's own kernels (`kernels.cu`, built to PTX by build.rs), each one launch where
//! plain candle ops take several; at one token per step the launches, not the arithmetic,
//! are what a small model's decode time is made of. Owns the kernels' launch code; the
//! model decides when to use them (`mod.rs`).
//!
//! - [`Gemv`]: `x · wᵀ` for the few rows of a decode step (CPU and CUDA), one launch
//!   where cuBLAS's general matmul costs more than the arithmetic at this size.
//! - [`SiluMul`]: `silu(gate) * up` from the stacked gate/up projection (CPU and CUDA).
//! - [`GemvSiluMul`]: the down projection with `SiluMul` folded into its input (CPU and
//!   CUDA), one launch for the two.
//! - [`AddRmsNorm`]: the residual sum and its RMS norm, both out of one pass (CPU and CUDA).
//! - [`AttnDecode`]: RoPE on q and k, the new k and v written into the KV cache, and
//!   attention of each row's one query over its cache, in one kernel (CUDA only).

use candle_core::{CpuStorage, CustomOp1, CustomOp3, Layout, Result, Shape, Tensor};

/// `(x, y, w)` with x, y `[rows, d]` and w `[d]` → `[2, rows, d]`: `x + y`, then
/// `rms_norm(x + y) · w` (the sum rounded to the storage type first, as unfused ops do).
pub struct AddRmsNorm {
    pub eps: f32,
}

impl CustomOp3 for AddRmsNorm {
    fn name(&self) -> &'static str {
        "precis-add-rms-norm"
    }

    fn cpu_fwd(
        &self,
        x: &CpuStorage,
        lx: &Layout,
        y: &CpuStorage,
        ly: &Layout,
        w: &CpuStorage,
        lw: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (rows, d) = rows_dims(lx, ly, lw)?;
        fn run<T: candle_core::WithDType + num_traits::Float>(x: &[T], y: &[T], w: &[T], d: usize, eps: f32) -> Vec<T> {
            let n = x.len();
            let mut out = vec![T::zero(); 2 * n];
            let (sum, norm) = out.split_at_mut(n);
            for ((s, nr), (xr, yr)) in sum.chunks_mut(d).zip(norm.chunks_mut(d)).zip(x.chunks(d).zip(y.chunks(d))) {
                let mut ss = 0f32;
                for ((o, &a), &b) in s.iter_mut().zip(xr).zip(yr) {
                    *o = a + b;
                    let f = o.to_f32().unwrap_or(0.0);
                    ss += f * f;
                }
                let inv = T::from(1.0 / (ss / d as f32 + eps).sqrt()).unwrap_or_else(T::zero);
                for ((o, &v), &g) in nr.iter_mut().zip(s.iter()).zip(w) {
                    *o = v * inv * g;
                }
            }
            out
        }
        let op = "add-rms-norm";
        let ((a1, a2), (b1, b2), (c1, c2)) = (contiguous(lx, op)?, contiguous(ly, op)?, contiguous(lw, op)?);
        let out = match (x, y, w) {
            (CpuStorage::F32(x), CpuStorage::F32(y), CpuStorage::F32(w)) => {
                CpuStorage::F32(run(&x[a1..a2], &y[b1..b2], &w[c1..c2], d, self.eps))
            }
            (CpuStorage::F16(x), CpuStorage::F16(y), CpuStorage::F16(w)) => {
                CpuStorage::F16(run(&x[a1..a2], &y[b1..b2], &w[c1..c2], d, self.eps))
            }
            _ => candle_core::bail!("add-rms-norm: unsupported dtypes"),
        };
        Ok((out, Shape::from((2, rows, d))))
    }

    #[cfg(feature = "cuda")]
    fn cuda_fwd(
        &self,
        x: &candle_core::CudaStorage,
        lx: &Layout,
        y: &candle_core::CudaStorage,
        ly: &Layout,
        w: &candle_core::CudaStorage,
        lw: &Layout,
    ) -> Result<(candle_core::CudaStorage, Shape)> {
        use candle_core::backend::BackendStorage;
        let (rows, d) = rows_dims(lx, ly, lw)?;
        let out = match x.dtype() {
            candle_core::DType::F32 => cuda::add_rms::<f32>(x, lx, y, ly, w, lw, rows, d, self.eps)?,
            candle_core::DType::F16 => cuda::add_rms::<half::f16>(x, lx, y, ly, w, lw, rows, d, self.eps)?,
            t => candle_core::bail!("add-rms-norm: no CUDA kernel for {t:?}"),
        };
        Ok((out, Shape::from((2, rows, d))))
    }
}

/// The element range of a contiguous input, or an error naming the op.
fn contiguous(l: &Layout, op: &str) -> Result<(usize, usize)> {
    l.contiguous_offsets().ok_or_else(|| candle_core::Error::Msg(format!("{op}: input not contiguous")))
}

fn rows_dims(lx: &Layout, ly: &Layout, lw: &Layout) -> Result<(usize, usize)> {
    match (lx.dims(), ly.dims(), lw.dims()) {
        ([r, d], [r2, d2], [d3]) if r == r2 && d == d2 && d == d3 => Ok((*r, *d)),
        (a, b, c) => candle_core::bail!("add-rms-norm: shapes {a:?} {b:?} {c:?}"),
    }
}

/// `(x [rows, k], w [n, k])` → `[rows, n]`, for up to [`Gemv::MAX_ROWS`] rows and `k` a
/// multiple of 8 (checked by [`Gemv::fits`]).
pub struct Gemv;

impl Gemv {
    pub const MAX_ROWS: usize = 16;

    pub fn fits(rows: usize, k: usize) -> bool {
        rows <= Self::MAX_ROWS && k.is_multiple_of(8)
    }
}

impl candle_core::CustomOp2 for Gemv {
    fn name(&self) -> &'static str {
        "precis-gemv"
    }

    fn cpu_fwd(&self, x: &CpuStorage, lx: &Layout, w: &CpuStorage, lw: &Layout) -> Result<(CpuStorage, Shape)> {
        let (rows, n, k) = gemv_dims(lx, lw)?;
        let ((a1, a2), (b1, b2)) = (contiguous(lx, "gemv")?, contiguous(lw, "gemv")?);
        fn run<T: candle_core::WithDType + num_traits::Float>(
            x: &[T],
            w: &[T],
            rows: usize,
            n: usize,
            k: usize,
        ) -> Vec<T> {
            let mut y = Vec::with_capacity(rows * n);
            for xr in x.chunks(k).take(rows) {
                for wr in w.chunks(k).take(n) {
                    let s: f32 =
                        xr.iter().zip(wr).map(|(&a, &b)| a.to_f32().unwrap_or(0.0) * b.to_f32().unwrap_or(0.0)).sum();
                    y.push(T::from(s).unwrap_or_else(T::zero));
                }
            }
            y
        }
        let out = match (x, w) {
            (CpuStorage::F32(x), CpuStorage::F32(w)) => CpuStorage::F32(run(&x[a1..a2], &w[b1..b2], rows, n, k)),
            (CpuStorage::F16(x), CpuStorage::F16(w)) => CpuStorage::F16(run(&x[a1..a2], &w[b1..b2], rows, n, k)),
            _ => candle_core::bail!("gemv: unsupported dtypes"),
        };
        Ok((out, Shape::from((rows, n))))
    }

    #[cfg(feature = "cuda")]
    fn cuda_fwd(
        &self,
        x: &candle_core::CudaStorage,
        lx: &Layout,
        w: &candle_core::CudaStorage,
        lw: &Layout,
    ) -> Result<(candle_core::CudaStorage, Shape)> {
        let (rows, n, k) = gemv_dims(lx, lw)?;
        gemv_on_cuda("gemv", x, lx, w, lw, (rows, n, k))
    }
}

/// `(gu [rows, 2k], w [n, k])` → `silu(gate) · up` (rounded to the storage type, as
/// [`SiluMul`] stores it) times `wᵀ`, `[rows, n]`: [`SiluMul`] then [`Gemv`] in one launch.
pub struct GemvSiluMul;

impl candle_core::CustomOp2 for GemvSiluMul {
    fn name(&self) -> &'static str {
        "precis-gemv-silu-mul"
    }

    fn cpu_fwd(&self, gu: &CpuStorage, lg: &Layout, w: &CpuStorage, lw: &Layout) -> Result<(CpuStorage, Shape)> {
        let (_, act_layout) = silu_gemv_dims(lg, lw)?;
        let (act, _) = SiluMul.cpu_fwd(gu, lg)?;
        Gemv.cpu_fwd(&act, &act_layout, w, lw)
    }

    #[cfg(feature = "cuda")]
    fn cuda_fwd(
        &self,
        gu: &candle_core::CudaStorage,
        lg: &Layout,
        w: &candle_core::CudaStorage,
        lw: &Layout,
    ) -> Result<(candle_core::CudaStorage, Shape)> {
        let (_, act_layout) = silu_gemv_dims(lg, lw)?;
        gemv_on_cuda("gemv_silu", gu, lg, w, lw, gemv_dims(&act_layout, lw)?)
    }
}

/// Launches the GEMV kernel `kernel` (`gemv` or `gemv_silu`) for x's type: `[rows, n]` out.
#[cfg(feature = "cuda")]
fn gemv_on_cuda(
    kernel: &str,
    x: &candle_core::CudaStorage,
    lx: &Layout,
    w: &candle_core::CudaStorage,
    lw: &Layout,
    (rows, n, k): (usize, usize, usize),
) -> Result<(candle_core::CudaStorage, Shape)> {
    use candle_core::backend::BackendStorage;
    let out = match x.dtype() {
        candle_core::DType::F32 => cuda::gemv::<f32>(kernel, x, lx, w, lw, rows, n, k)?,
        candle_core::DType::F16 => cuda::gemv::<half::f16>(kernel, x, lx, w, lw, rows, n, k)?,
        t => candle_core::bail!("{kernel}: no CUDA kernel for {t:?}"),
    };
    Ok((out, Shape::from((rows, n))))
}

/// The rows of `gu` and the layout of its `silu(gate) · up` (`[rows, k]`), checked against `w`.
fn silu_gemv_dims(lg: &Layout, lw: &Layout) -> Result<(usize, Layout)> {
    let (rows, ff) = split_dims(lg)?;
    let act = Layout::contiguous((rows, ff));
    gemv_dims(&act, lw)?;
    Ok((rows, act))
}

fn gemv_dims(lx: &Layout, lw: &Layout) -> Result<(usize, usize, usize)> {
    match (lx.dims(), lw.dims()) {
        ([rows, k], [n, k2]) if k == k2 && Gemv::fits(*rows, *k) => Ok((*rows, *n, *k)),
        (a, b) => candle_core::bail!("gemv: shapes {a:?} × {b:?}ᵀ"),
    }
}

/// `[rows, 2·ff]` (gate then up) → `[rows, ff]`.
pub struct SiluMul;

impl CustomOp1 for SiluMul {
    fn name(&self) -> &'static str {
        "precis-silu-mul"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let (rows, ff) = split_dims(l)?;
        let (o1, o2) = contiguous(l, "silu-mul")?;
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
        (3 * head_dim + total) * 4 <= 48 * 1024
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
        let (o1, o2) = super::contiguous(l, "precis kernel")?;
        Ok(s.as_cuda_slice::<T>()?.slice(o1..o2))
    }

    /// The device buffer behind a whole contiguous tensor that the caller owns.
    fn with_buffer<T: CudaDType, R>(t: &Tensor, f: impl FnOnce(&CudaView<'_, T>) -> Result<R>) -> Result<R> {
        let (storage, layout) = t.storage_and_layout();
        let Storage::Cuda(s) = &*storage else { candle_core::bail!("expected a CUDA tensor") };
        f(&view::<T>(s, layout)?)
    }

    pub fn silu_mul<T: CudaDType + WithDType + DeviceRepr>(
        s: &CudaStorage,
        l: &Layout,
        rows: usize,
        ff: usize,
    ) -> Result<CudaStorage> {
        let dev = s.device.clone();
        let src = view::<T>(s, l)?;
        let n = rows * ff;
        // SAFETY: uninitialised device memory of n values; the kernel writes every one of the
        // n = rows·ff outputs (one thread each) before anything reads the buffer.
        let out = unsafe { dev.alloc::<T>(n)? };
        let func = dev.get_or_load_custom_func(&format!("silu_mul_{}", suffix::<T>()), MODULE, PTX)?;
        let mut b = func.builder();
        b.arg(&src);
        b.arg(&out);
        builder_arg!(b, ff as i32, n);
        let cfg =
            LaunchConfig { grid_dim: (n.div_ceil(256) as u32, 1, 1), block_dim: (256, 1, 1), shared_mem_bytes: 0 };
        // SAFETY: the arguments match `silu_mul_{f32,f16}(const T* gu, T* out, int ff,
        // size_t n)` in kernels.cu, with T this storage's type; `src` is the contiguous
        // [rows, 2·ff] input (split_dims checked the shape) and `out` holds n values; threads
        // past n return, so no access leaves either buffer.
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
        let (qkv, cos, sin) = (view::<T>(qkv, lq)?, view::<f32>(cos, lc)?, view::<f32>(sin, ls)?);
        // SAFETY: uninitialised device memory; the kernel's rows·h blocks each write all hd
        // values of their (row, head) before the buffer is read.
        let out = unsafe { dev.alloc::<T>(rows * h * hd)? };
        let attn = dev.get_or_load_custom_func(&format!("attn_decode_{}", suffix::<T>()), MODULE, PTX)?;
        with_buffer::<T, _>(&op.k, |kc| {
            with_buffer::<T, _>(&op.v, |vc| {
                with_buffer::<u32, _>(&op.pads, |pads| {
                    let mut b = attn.builder();
                    b.arg(&qkv);
                    b.arg(&cos);
                    b.arg(&sin);
                    b.arg(kc);
                    b.arg(vc);
                    b.arg(pads);
                    b.arg(&out);
                    builder_arg!(
                        b,
                        h as i32,
                        kv as i32,
                        hd as i32,
                        cap as i32,
                        op.len as i32,
                        op.neox as i32,
                        op.scale
                    );
                    let cfg = LaunchConfig {
                        grid_dim: ((rows * h) as u32, 1, 1),
                        block_dim: (128, 1, 1),
                        shared_mem_bytes: ((3 * hd + op.len + 1) * 4) as u32,
                    };
                    // SAFETY: the arguments match `attn_decode_{f32,f16}` in kernels.cu in order
                    // and type. qkv is the contiguous [rows, (h + 2·kv)·hd] input, cos/sin
                    // [rows, hd/2] f32, k/v the contiguous [rows, kv, cap, hd] caches this op
                    // owns (not shared with any other tensor, per AttnDecode's contract) with
                    // len < cap (the model reserves the cache first), pads one u32 per row.
                    // The dynamic shared memory holds the 3·hd + len + 1 floats the kernel
                    // uses; the model calls this only where AttnDecode::fits allows it.
                    unsafe { b.launch(cfg) }.w()?;
                    Ok(())
                })
            })
        })?;
        Ok(CudaStorage::wrap_cuda_slice(out, dev))
    }

    /// `gemv` or `gemv_silu` (whose x is `[rows, 2k]`).
    #[allow(clippy::too_many_arguments)]
    pub fn gemv<T: CudaDType + WithDType + DeviceRepr>(
        name: &str,
        x: &CudaStorage,
        lx: &Layout,
        w: &CudaStorage,
        lw: &Layout,
        rows: usize,
        n: usize,
        k: usize,
    ) -> Result<CudaStorage> {
        let dev = x.device.clone();
        let (xs, ws) = (view::<T>(x, lx)?, view::<T>(w, lw)?);
        // 16-byte loads: both start on a 16-byte boundary (k is a multiple of 8).
        let size = std::mem::size_of::<T>();
        if !(lx.start_offset() * size).is_multiple_of(16) || !(lw.start_offset() * size).is_multiple_of(16) {
            candle_core::bail!("gemv: misaligned input");
        }
        // SAFETY: uninitialised device memory; one warp per output column writes all `rows`
        // values of its column (grid n/8 rounded up, 8 warps a block) before it is read.
        let out = unsafe { dev.alloc::<T>(rows * n)? };
        let func = dev.get_or_load_custom_func(&format!("{name}_{}", suffix::<T>()), MODULE, PTX)?;
        let mut b = func.builder();
        b.arg(&xs);
        b.arg(&ws);
        b.arg(&out);
        builder_arg!(b, rows as i32, n as i32, k as i32);
        let cfg = LaunchConfig { grid_dim: (n.div_ceil(8) as u32, 1, 1), block_dim: (256, 1, 1), shared_mem_bytes: 0 };
        // SAFETY: the arguments match `gemv_*`/`gemv_silu_*(const T* x, const T* w, T* y,
        // int rows, int n, int k)` in kernels.cu. gemv_dims checked rows <= 16 (the kernel's
        // GEMV_MAX_ROWS), k % 8 == 0 and w [n, k] against x [rows, k] (gemv_silu: [rows, 2k]);
        // both start 16-byte aligned (checked above) for the kernel's vector loads; warps
        // past column n return.
        unsafe { b.launch(cfg) }.w()?;
        Ok(CudaStorage::wrap_cuda_slice(out, dev))
    }

    #[allow(clippy::too_many_arguments)]
    pub fn add_rms<T: CudaDType + WithDType + DeviceRepr>(
        x: &CudaStorage,
        lx: &Layout,
        y: &CudaStorage,
        ly: &Layout,
        w: &CudaStorage,
        lw: &Layout,
        rows: usize,
        d: usize,
        eps: f32,
    ) -> Result<CudaStorage> {
        let dev = x.device.clone();
        let (x, y, w) = (view::<T>(x, lx)?, view::<T>(y, ly)?, view::<T>(w, lw)?);
        // SAFETY: uninitialised device memory; block r writes all d values of both halves of
        // its row (the sum and its norm) before the buffer is read.
        let out = unsafe { dev.alloc::<T>(2 * rows * d)? };
        let func = dev.get_or_load_custom_func(&format!("add_rms_{}", suffix::<T>()), MODULE, PTX)?;
        let mut b = func.builder();
        b.arg(&x);
        b.arg(&y);
        b.arg(&w);
        b.arg(&out);
        builder_arg!(b, d as i32, rows as i32, eps);
        let cfg = LaunchConfig { grid_dim: (rows as u32, 1, 1), block_dim: (256, 1, 1), shared_mem_bytes: 0 };
        // SAFETY: the arguments match `add_rms_{f32,f16}(const T* x, const T* y, const T* w,
        // T* out, int d, int rows, float eps)` in kernels.cu; rows_dims checked x and y
        // [rows, d] and w [d], all contiguous views; `out` holds 2·rows·d values.
        unsafe { b.launch(cfg) }.w()?;
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
        assert!(Tensor::zeros((2, 3), candle_core::DType::F32, &Device::Cpu)
            .unwrap()
            .apply_op1_no_bwd(&SiluMul)
            .is_err());
    }

    #[test]
    fn gemv_equals_matmul() {
        let dev = &Device::Cpu;
        let (x, w) = (Tensor::randn(0f32, 1.0, (5, 24), dev).unwrap(), Tensor::randn(0f32, 1.0, (7, 24), dev).unwrap());
        let want = x.matmul(&w.t().unwrap()).unwrap();
        let got = x.apply_op2_no_bwd(&w, &Gemv).unwrap();
        let diff = (want - got).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
        assert!(diff < 1e-4, "max difference {diff}");
        assert!(!Gemv::fits(17, 24) && !Gemv::fits(4, 20));
    }

    #[test]
    fn gemv_silu_mul_equals_silu_mul_then_gemv() {
        let dev = &Device::Cpu;
        let gu = Tensor::randn(0f32, 2.0, (3, 48), dev).unwrap();
        let w = Tensor::randn(0f32, 1.0, (5, 24), dev).unwrap();
        let want = gu.apply_op1_no_bwd(&SiluMul).unwrap().apply_op2_no_bwd(&w, &Gemv).unwrap();
        let got = gu.apply_op2_no_bwd(&w, &GemvSiluMul).unwrap();
        assert_eq!(got.dims(), &[3, 5]);
        let diff = (want - got).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
        assert!(diff == 0.0, "max difference {diff}");
        // gate/up of 2·24 against w of 20 inputs: refused.
        assert!(gu
            .apply_op2_no_bwd(&Tensor::zeros((5, 20), candle_core::DType::F32, dev).unwrap(), &GemvSiluMul)
            .is_err());
    }

    #[test]
    fn add_rms_norm_equals_candle_ops() {
        let dev = &Device::Cpu;
        let (x, y) = (Tensor::randn(0f32, 1.0, (3, 16), dev).unwrap(), Tensor::randn(0f32, 1.0, (3, 16), dev).unwrap());
        let w = Tensor::randn(1f32, 0.1, 16, dev).unwrap();
        let out = x.apply_op3_no_bwd(&y, &w, &AddRmsNorm { eps: 1e-5 }).unwrap();
        let sum = (&x + &y).unwrap();
        let norm = candle_nn::ops::rms_norm(&sum, &w, 1e-5).unwrap();
        for (got, want) in [(out.get(0).unwrap(), sum), (out.get(1).unwrap(), norm)] {
            let diff = (got - want).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
            assert!(diff < 1e-5, "max difference {diff}");
        }
    }
}
