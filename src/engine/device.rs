//! Device choice (`--device auto|cpu|cuda|cuda:N`), its resolution to a candle device,
//! the start-up CPU check, and the default CPU thread count. Knows nothing of models.

use crate::error::{Error, Result};
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceChoice {
    #[default]
    Auto,
    Cpu,
    Cuda(usize),
}

impl FromStr for DeviceChoice {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "auto" => DeviceChoice::Auto,
            "cpu" => DeviceChoice::Cpu,
            "cuda" | "gpu" => DeviceChoice::Cuda(0),
            _ => match s.strip_prefix("cuda:").and_then(|n| n.parse().ok()) {
                Some(n) => DeviceChoice::Cuda(n),
                None => return Err(Error::Usage(format!("--device {s}: expected auto, cpu, cuda or cuda:N"))),
            },
        })
    }
}

impl std::fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeviceChoice::Auto => write!(f, "auto"),
            DeviceChoice::Cpu => write!(f, "cpu"),
            DeviceChoice::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

/// Whether this binary was built with CUDA support.
pub const CUDA_BUILT: bool = cfg!(feature = "cuda");

/// Resolves a choice to a candle device: `auto` is CUDA 0 when built in and present.
pub fn resolve(choice: DeviceChoice) -> Result<(candle_core::Device, String)> {
    match choice {
        DeviceChoice::Cpu => Ok((candle_core::Device::Cpu, "cpu".into())),
        DeviceChoice::Auto => {
            if CUDA_BUILT && candle_core::utils::cuda_is_available() {
                if let Ok(d) = candle_core::Device::new_cuda(0) {
                    return Ok((single_stream(d), "cuda:0".into()));
                }
            }
            Ok((candle_core::Device::Cpu, "cpu".into()))
        }
        DeviceChoice::Cuda(n) => {
            if !CUDA_BUILT {
                return Err(Error::Device {
                    device: choice.to_string(),
                    msg: "this precis was built without CUDA; rebuild with `cargo build --release --features cuda` (see README, GPU)".into(),
                });
            }
            candle_core::Device::new_cuda(n).map(|d| (single_stream(d), format!("cuda:{n}"))).map_err(|e| {
                Error::Device {
                    device: choice.to_string(),
                    msg: format!("no usable CUDA device: {}", first_line(&e.to_string())),
                }
            })
        }
    }
}

/// precis runs every CUDA operation on the device's one stream, so cudarc's per-buffer
/// events (which order work across streams) are pure overhead: two event creations per
/// allocation and a record per kernel argument. Turned off for tensors made from now on.
fn single_stream(d: candle_core::Device) -> candle_core::Device {
    #[cfg(feature = "cuda")]
    if let candle_core::Device::Cuda(c) = &d {
        // SAFETY: precis never uses a second stream, so no tensor is shared across streams.
        unsafe { c.disable_event_tracking() };
    }
    d
}

/// Physical cores: the default for `--threads`, computed here only.
pub fn default_threads() -> usize {
    num_cpus::get_physical().max(1)
}

/// A warning when this x86-64 CPU lacks the AVX2/FMA the build assumes.
pub fn cpu_warning() -> Option<String> {
    #[cfg(target_arch = "x86_64")]
    {
        if !super::cpu::features::has_avx2() {
            return Some("this CPU lacks AVX2/FMA: precis is built for x86-64-v3 and may crash or run slowly; rebuild without .cargo/config.toml's target-cpu".into());
        }
    }
    None
}

pub(crate) fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_device_flags() {
        assert_eq!("auto".parse::<DeviceChoice>().unwrap(), DeviceChoice::Auto);
        assert_eq!("cuda:1".parse::<DeviceChoice>().unwrap(), DeviceChoice::Cuda(1));
        assert_eq!("cuda".parse::<DeviceChoice>().unwrap(), DeviceChoice::Cuda(0));
        assert!("tpu".parse::<DeviceChoice>().unwrap_err().to_string().contains("--device tpu"));
        assert!("cuda:x".parse::<DeviceChoice>().is_err());
    }

    #[test]
    #[cfg_attr(feature = "cuda", ignore = "a CUDA build has CUDA: this checks the CPU-only build's error")]
    fn cuda_without_cuda_build_is_a_clear_error() {
        let err = resolve(DeviceChoice::Cuda(0)).unwrap_err().to_string();
        assert!(err.contains("built without CUDA"), "{err}");
    }
}
