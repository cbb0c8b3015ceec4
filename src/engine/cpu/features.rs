//! What this CPU can run, detected at run time (std caches each detection): AVX2+FMA for
//! the integer, f32 and exp kernels, F16C for the f16 KV cache, AVX-512 VNNI (with VL) for
//! the group tiles; and [`Tiles`], the choice of matmul tiles a model makes once at load.
//! Every kernel file asks here, so none imports another for a feature check.
//! Owns only detection; must not know the kernels.

/// True when the AVX2+FMA kernels can run on this CPU.
#[inline]
pub(crate) fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// True when F16C (and AVX2) can run.
#[inline]
pub(crate) fn has_f16c() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        has_avx2() && is_x86_feature_detected!("f16c")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// True when the VNNI group tiles can run: AVX2, FMA, AVX-512 VNNI and VL.
pub(crate) fn has_vnni() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        has_avx2() && is_x86_feature_detected!("avx512vnni") && is_x86_feature_detected!("avx512vl")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The matmul tiles a model runs, chosen at load: SIMD where the CPU has AVX2, the VNNI
/// group tiles where it has them and the load options allow them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tiles {
    /// AVX2 tiles (else the portable scalar one).
    pub simd: bool,
    /// AVX-512 VNNI group tiles for U4, U5 and U8 weights (needs `simd`).
    pub vnni: bool,
}

impl Tiles {
    /// The best this CPU runs; `allow_vnni = false` keeps the AVX2 group tiles.
    pub fn detect(allow_vnni: bool) -> Self {
        let simd = has_avx2();
        Tiles { simd, vnni: simd && allow_vnni && has_vnni() }
    }

    /// The portable scalar tiles only (tests).
    #[cfg(test)]
    pub(crate) const SCALAR: Tiles = Tiles { simd: false, vnni: false };
}
