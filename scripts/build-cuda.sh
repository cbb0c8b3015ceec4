#!/usr/bin/env bash
# Builds precis with `--features cuda` on a machine without a GPU or a system CUDA
# toolkit: the toolkit comes from NVIDIA's PyPI wheels (pinned to CUDA 13.0, whose
# ptxas matches a 13.0 driver), and the driver library is replaced at link time by a
# stub; the real libcuda.so.1 is loaded on the GPU machine.
#
#   scripts/build-cuda.sh            # → target/cuda/release/precis
#   CUDA_COMPUTE_CAP=80 scripts/build-cuda.sh   # another GPU generation (default 90: H100)
#
# Everything it installs goes under target/cuda-toolkit (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD/target/cuda-toolkit"
site="$root/site"
mkdir -p "$site"

if [ ! -x "$site/nvidia/cu13/bin/nvcc" ]; then
    echo "installing the CUDA 13.0 toolkit wheels into $site" >&2
    python3 -m pip install -q --no-deps --target "$site" \
        nvidia-cuda-nvcc==13.0.88 nvidia-cuda-runtime==13.0.96 nvidia-cuda-crt==13.0.88 \
        nvidia-cuda-cccl==13.0.85 nvidia-nvvm==13.0.88 nvidia-cublas==13.0.2.14 \
        nvidia-cuda-nvrtc==13.0.88 nvidia-curand==10.4.5.25
fi
cu="$site/nvidia/cu13"
[ -x "$cu/bin/nvcc" ] || { echo "error: $cu/bin/nvcc missing after install" >&2; exit 1; }

# Unversioned library names for the linker, and a stub libcuda.so.1 exporting every
# cu* function that cuda.h declares (after its _v2 macros).
libs="$root/lib"
mkdir -p "$libs"
for f in "$cu"/lib/lib*.so.*; do
    base=$(basename "$f"); name=${base%%.so.*}
    ln -sf "$f" "$libs/$name.so"
done
if [ ! -f "$libs/libcuda.so.1" ]; then
    gcc -E -I"$cu/include" "$cu/include/cuda.h" \
        | grep -oE '\bcu[A-Z][A-Za-z0-9_]*[[:space:]]*\(' | tr -d '( \t' | sort -u \
        | sed 's/.*/void &(void) {}/' > "$root/cuda_stub.c"
    gcc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$libs/libcuda.so.1" "$root/cuda_stub.c"
    ln -sf libcuda.so.1 "$libs/libcuda.so"
fi

export PATH="$cu/bin:$PATH"
export CUDA_ROOT="$cu" CUDA_PATH="$cu" CUDA_HOME="$cu"
export NVCC_PREPEND_FLAGS="-I$cu/include -I$cu/include/cccl"
export CUDA_COMPUTE_CAP="${CUDA_COMPUTE_CAP:-90}"
export LIBRARY_PATH="$libs${LIBRARY_PATH:+:$LIBRARY_PATH}"
cargo build --release --features cuda --target-dir target/cuda "$@"
echo "built target/cuda/release/precis (compute capability $CUDA_COMPUTE_CAP)" >&2
