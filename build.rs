//! Embeds every `models/*.toml` card into the binary, so adding a model is adding a file.
use std::{env, fs, path::Path};

fn main() {
    println!("cargo:rerun-if-changed=models");
    let mut cards: Vec<_> = fs::read_dir("models")
        .expect("models/ folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    cards.sort();
    let mut out = String::from(
        "/// Built-in model cards: (file name, TOML text).\npub static BUILTIN_CARDS: &[(&str, &str)] = &[\n",
    );
    for p in &cards {
        println!("cargo:rerun-if-changed={}", p.display());
        let abs = fs::canonicalize(p).unwrap();
        out += &format!(
            "    ({:?}, include_str!({:?})),\n",
            p.file_name().unwrap().to_string_lossy(),
            abs.display().to_string()
        );
    }
    out += "];\n";
    let out_dir = env::var("OUT_DIR").unwrap();
    fs::write(Path::new(&out_dir).join("cards.rs"), out).unwrap();

    // The prompt templates and the summary schema, likewise.
    println!("cargo:rerun-if-changed=prompts");
    let mut prompts: Vec<_> = fs::read_dir("prompts")
        .expect("prompts/ folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "j2"))
        .collect();
    prompts.sort();
    let mut out = String::from(
        "/// Built-in prompt templates: (file name, text).\npub static BUILTIN_PROMPTS: &[(&str, &str)] = &[\n",
    );
    for p in &prompts {
        println!("cargo:rerun-if-changed={}", p.display());
        out += &format!(
            "    ({:?}, include_str!({:?})),\n",
            p.file_name().unwrap().to_string_lossy(),
            fs::canonicalize(p).unwrap().display().to_string()
        );
    }
    out += "];\n";
    let schema = fs::canonicalize("prompts/summary.schema.json").expect("prompts/summary.schema.json");
    out += &format!(
        "/// The summary JSON schema.\npub static SUMMARY_SCHEMA: &str = include_str!({:?});\n",
        schema.display().to_string()
    );
    fs::write(Path::new(&out_dir).join("prompts.rs"), out).unwrap();
    // The build's commit, for bench rows (llama-bench's build_commit).
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short=9", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=PRECIS_BUILD_COMMIT={commit}");

    if env::var_os("CARGO_FEATURE_CUDA").is_some() {
        build_ptx(&out_dir);
    }
}

/// The dense model's fused CUDA kernels, compiled to PTX with nvcc (`NVCC`, else `nvcc` on
/// PATH) for `CUDA_COMPUTE_CAP` (default 80; the driver JIT-compiles PTX for newer GPUs).
fn build_ptx(out_dir: &str) {
    let src = "src/engine/dense/kernels.cu";
    println!("cargo:rerun-if-changed={src}");
    println!("cargo:rerun-if-env-changed=CUDA_COMPUTE_CAP");
    let cap = env::var("CUDA_COMPUTE_CAP").unwrap_or_else(|_| "80".into());
    let nvcc = env::var("NVCC").unwrap_or_else(|_| "nvcc".into());
    let out = Path::new(out_dir).join("dense_kernels.ptx");
    let status = std::process::Command::new(&nvcc)
        .args(["--ptx", "-O3", &format!("--gpu-architecture=compute_{cap}"), src, "-o"])
        .arg(&out)
        .status()
        .unwrap_or_else(|e| panic!("the cuda feature needs nvcc ({nvcc}: {e}); see scripts/build-cuda.sh"));
    assert!(status.success(), "nvcc failed on {src}");
}
