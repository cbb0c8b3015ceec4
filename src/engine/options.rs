//! What a load is asked for: the device, the thread count, the backend, what the model card
//! promises about the file, and the experiment switches used for measurements. Plain data,
//! built once from the command line (`config`) and read by `model.rs`; nothing here reads
//! the environment.

use super::device::{self, DeviceChoice};
use crate::error::{Error, Result};
use std::fmt;

/// Which implementation runs the transformer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// On the CPU, precis's own kernels where they support the file, else candle's
    /// quantised model; on CUDA, the dense batched model.
    #[default]
    Auto,
    /// candle-transformers' quantised llama / qwen2 (one sequence at a time).
    Candle,
    /// precis's own CPU kernels.
    Native,
    /// precis's batched transformer on candle ops, weights dequantised at load.
    Dense,
}

impl std::str::FromStr for Backend {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(Backend::Auto),
            "candle" => Ok(Backend::Candle),
            "native" => Ok(Backend::Native),
            "dense" => Ok(Backend::Dense),
            _ => Err(Error::Usage(format!("--backend {s}: expected auto, native, dense or candle"))),
        }
    }
}

/// The float type of the dense backend's weights and activations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenseDType {
    F32,
    F16,
    Bf16,
}

impl std::str::FromStr for DenseDType {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "f32" => Ok(DenseDType::F32),
            "f16" => Ok(DenseDType::F16),
            "bf16" => Ok(DenseDType::Bf16),
            _ => Err(Error::Usage(format!("--dense-dtype {s}: expected f32, f16 or bf16"))),
        }
    }
}

impl fmt::Display for DenseDType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DenseDType::F32 => "f32",
            DenseDType::F16 => "f16",
            DenseDType::Bf16 => "bf16",
        })
    }
}

/// Experiment switches: each turns one optimisation off or changes one choice, to measure
/// it against the default. Hidden flags (`--dense-dtype`, `--dense-fused`, `--no-vnni`),
/// also read from `PRECIS_DENSE_DTYPE`, `PRECIS_DENSE_FUSED` and `PRECIS_NO_VNNI` by the
/// command line; shown by `-v` and in bench rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Switches {
    /// The dense backend's float type; `None`: f32 on the CPU, f16 on CUDA.
    pub dense_dtype: Option<DenseDType>,
    /// The dense backend's fused CUDA kernels off (candle ops only).
    pub no_fused: bool,
    /// The native backend's AVX-512 VNNI tiles off (the AVX2 ones instead).
    pub no_vnni: bool,
}

impl fmt::Display for Switches {
    /// `default`, or the switches that differ from it, e.g. `dense_dtype=f32 no_vnni`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(d) = self.dense_dtype {
            parts.push(format!("dense_dtype={d}"));
        }
        if self.no_fused {
            parts.push("no_fused".into());
        }
        if self.no_vnni {
            parts.push("no_vnni".into());
        }
        if parts.is_empty() {
            f.write_str("default")
        } else {
            f.write_str(&parts.join(" "))
        }
    }
}

#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub device: DeviceChoice,
    /// CPU threads of this engine (its own pool; never a process-wide setting).
    pub threads: usize,
    pub backend: Backend,
    /// End-of-generation token texts (from the card); the file's EOS is always added.
    pub eog_tokens: Vec<String>,
    /// The architecture the card promises, checked against the file.
    pub expect_arch: Option<String>,
    pub switches: Switches,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            device: DeviceChoice::Auto,
            threads: device::default_threads(),
            backend: Backend::Auto,
            eog_tokens: vec!["<|im_end|>".into(), "<|endoftext|>".into()],
            expect_arch: None,
            switches: Switches::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switches_read_as_their_flags() {
        assert_eq!(Switches::default().to_string(), "default");
        let s = Switches { dense_dtype: Some("bf16".parse().unwrap()), no_fused: true, no_vnni: true };
        assert_eq!(s.to_string(), "dense_dtype=bf16 no_fused no_vnni");
        let err = "f8".parse::<DenseDType>().unwrap_err().to_string();
        assert!(err.contains("--dense-dtype f8"), "{err}");
        assert!("dense".parse::<Backend>().is_ok() && "gpu".parse::<Backend>().is_err());
    }
}
