//! f16 ⇄ f32 for slices, for the KV cache (held in IEEE half precision, as llama.cpp holds
//! it by default, which halves the bytes attention reads per step). F16C eight at a time
//! where the CPU has it, the exact scalar conversions of `quant` otherwise; both round to
//! nearest even, so they agree bit for bit. Owns only these conversions.

use super::quant::{f16_to_f32, f32_to_f16};

use super::features::has_f16c;

/// `dst[i] = f16(src[i])`, rounded to nearest even.
pub fn to_f16(src: &[f32], dst: &mut [u16]) {
    assert_eq!(src.len(), dst.len());
    #[cfg(target_arch = "x86_64")]
    if has_f16c() {
        // SAFETY: f16c detected; lengths equal.
        unsafe { x86::to_f16(src, dst) };
        return;
    }
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = f32_to_f16(s);
    }
}

/// `dst[i] = f32(src[i])` (exact).
pub fn to_f32(src: &[u16], dst: &mut [f32]) {
    assert_eq!(src.len(), dst.len());
    #[cfg(target_arch = "x86_64")]
    if has_f16c() {
        // SAFETY: f16c detected; lengths equal.
        unsafe { x86::to_f32(src, dst) };
        return;
    }
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = f16_to_f32(s);
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{f16_to_f32, f32_to_f16};
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx2,f16c")]
    pub unsafe fn to_f16(src: &[f32], dst: &mut [u16]) {
        let n8 = src.len() / 8 * 8;
        for i in (0..n8).step_by(8) {
            let h = _mm256_cvtps_ph::<_MM_FROUND_TO_NEAREST_INT>(_mm256_loadu_ps(src.as_ptr().add(i)));
            _mm_storeu_si128(dst.as_mut_ptr().add(i) as *mut __m128i, h);
        }
        for i in n8..src.len() {
            dst[i] = f32_to_f16(src[i]);
        }
    }

    #[target_feature(enable = "avx2,f16c")]
    pub unsafe fn to_f32(src: &[u16], dst: &mut [f32]) {
        let n8 = src.len() / 8 * 8;
        for i in (0..n8).step_by(8) {
            let f = _mm256_cvtph_ps(_mm_loadu_si128(src.as_ptr().add(i) as *const __m128i));
            _mm256_storeu_ps(dst.as_mut_ptr().add(i), f);
        }
        for i in n8..src.len() {
            dst[i] = f16_to_f32(src[i]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simd_and_scalar_conversions_agree() {
        let xs: Vec<f32> =
            (0..1003).map(|i| ((i * 7919) % 20011) as f32 / 97.0 - 100.0).chain([1e-6, -3e-5, 7e4, 0.1]).collect();
        let mut h = vec![0u16; xs.len()];
        to_f16(&xs, &mut h);
        for (x, &hv) in xs.iter().zip(&h) {
            assert_eq!(hv, f32_to_f16(*x), "{x}");
        }
        let mut back = vec![0f32; xs.len()];
        to_f32(&h, &mut back);
        for (b, &hv) in back.iter().zip(&h) {
            assert_eq!(b.to_bits(), f16_to_f32(hv).to_bits());
        }
    }
}
