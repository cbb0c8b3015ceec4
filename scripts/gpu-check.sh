#!/usr/bin/env bash
# The GPU checks, in one run on a CUDA machine (see README, GPU). Needs a CUDA build of
# precis (scripts/build-cuda.sh), the model file with its real weights, and the sample.
#
#   scripts/gpu-check.sh PRECIS MODEL.gguf ARTICLE.txt OUTDIR
#
# 1. Greedy parity: the first 16 tokens on the GPU (each backend) against the CPU.
# 2. `precis bench` on cuda: pp512, tg128 at batch 1, 8 and 32, and sum@ARTICLE;
#    the same for candle's quantised backend and for the dense backend in f32.
# 3. The whole summary of ARTICLE, process wall time, model load included, three times.
# Everything lands in OUTDIR; the last lines printed are the summary table.
set -uo pipefail
bin=$1 model=$2 article=$3 out=$4
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt"
"$bin" --version | tee -a "$out/gpu.txt"

echo "== 1. greedy parity, first 16 tokens"
prompt="Summarise this article in short bullet points.

$(head -c 1500 "$article")"
run_gen() { # name, then precis flags
    local name=$1; shift
    "$bin" generate -q -m "$model" -n 16 --json "$@" "$prompt" >"$out/gen-$name.json" 2>"$out/gen-$name.err" ||
        echo "generate $name failed: $(head -c 300 "$out/gen-$name.err")"
}
run_gen cpu --device cpu
run_gen cuda-dense --device cuda
run_gen cuda-candle --device cuda --backend candle
PRECIS_DENSE_DTYPE=f32 run_gen cuda-dense-f32 --device cuda
PRECIS_DENSE_DTYPE=bf16 run_gen cuda-dense-bf16 --device cuda
python3 - "$out" <<'EOF'
import json, sys, pathlib
out = pathlib.Path(sys.argv[1])
def ids(name):
    try:
        return json.loads((out / f"gen-{name}.json").read_text())["tokens"][:16]
    except Exception as e:
        return f"missing ({e})"
ref = ids("cpu")
print(f"cpu (reference): {ref}")
for name in ["cuda-dense", "cuda-candle", "cuda-dense-f32", "cuda-dense-bf16"]:
    got = ids(name)
    print(f"{name:16} {'MATCH' if got == ref else 'DIFFER'} {got}")
EOF

echo "== 2. bench on cuda"
"$bin" bench -m "$model" --device cuda -p 512 -n 128 -b 1,8,32 -r 5 --sum "$article" -o jsonl >"$out/bench-dense.jsonl" 2>"$out/bench-dense.err" ||
    echo "bench dense failed: $(tail -c 300 "$out/bench-dense.err")"
"$bin" bench -m "$model" --device cuda --backend candle -p 512 -n 128 -r 5 --sum "$article" -o jsonl >"$out/bench-candle.jsonl" 2>"$out/bench-candle.err" ||
    echo "bench candle failed: $(tail -c 300 "$out/bench-candle.err")"
PRECIS_DENSE_DTYPE=f32 "$bin" bench -m "$model" --device cuda -p 512 -n 128 -b 1,32 -r 3 -o jsonl >"$out/bench-dense-f32.jsonl" 2>"$out/bench-dense-f32.err" ||
    echo "bench dense f32 failed: $(tail -c 300 "$out/bench-dense-f32.err")"

echo "== 3. whole summary, process wall time"
for i in 1 2 3; do
    s=$(date +%s.%N)
    "$bin" summarize "$article" -m "$model" --device cuda --format json -o "$out/summary-$i.json" 2>"$out/summary-$i.err" ||
        echo "summarize $i failed: $(tail -c 300 "$out/summary-$i.err")"
    e=$(date +%s.%N)
    echo "summary $i: $(python3 -c "print(f'{$e - $s:.2f}')") s wall" | tee -a "$out/summary-times.txt"
done
"$bin" summarize "$article" -m "$model" --device cuda --format md -o "$out/summary.md" 2>/dev/null

echo "== table"
python3 - "$out" <<'EOF'
import json, sys, pathlib
out = pathlib.Path(sys.argv[1])
for f in sorted(out.glob("bench-*.jsonl")):
    for line in f.read_text().splitlines():
        try:
            r = json.loads(line)
        except ValueError:
            continue
        print(f"{f.stem:16} {r.get('test', '?'):24} {r.get('backend', '?'):7} {r.get('avg_ts', 0):10.1f} t/s  ±{r.get('stddev_ts', 0):.1f}")
for f in sorted(out.glob("summary-[0-9].json")):
    s = json.loads(f.read_text()).get("stats", {})
    print(f"{f.name}: {s}")
EOF
