#!/usr/bin/env bash
# The GPU checks, in one run on a CUDA machine (see README, GPU). Needs a CUDA build of
# precis (scripts/build-cuda.sh), the model file with its real weights, an article (e.g.
# examples/article.txt), and llama.cpp's greedy reference
# (tests/fixtures/smollm2_greedy_reference.json).
#
#   scripts/gpu-check.sh PRECIS MODEL.gguf ARTICLE.txt REFERENCE.json OUTDIR
#
# 1. Greedy parity: the first 16 tokens on the GPU (each backend) against the CPU's
#    backends, on a chat prompt and on llama.cpp's reference prompt (and its ids).
# 2. `precis bench` on cuda: pp512, tg128 at batch 1, 8 and 32, and sum@ARTICLE; the
#    same with the fused kernels off, in f16, and on candle's quantised backend.
# 3. The whole summary of ARTICLE, process wall time, model load included, three times.
# Everything lands in OUTDIR (and OUTDIR.tgz); the last lines printed are the results.
set -uo pipefail
bin=$1 model=$2 article=$3 reference=$4 out=$5
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt"
"$bin" --version | tee -a "$out/gpu.txt"

echo "== 1. greedy parity, first 16 tokens"
chat="Summarise this article in short bullet points.

$(head -c 1500 "$article")"
# (the x keeps the prompt's final newline, which $(...) would strip)
raw=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["runs"]["bullets_hfsys"]["prompt_text"], end="x")' "$reference")
raw=${raw%x}
run_gen() { # name, then precis flags
    local name=$1
    shift
    "$bin" generate -q -m "$model" -n 16 --json "$@" >"$out/gen-$name.json" 2>"$out/gen-$name.err" ||
        echo "generate $name failed: $(head -c 300 "$out/gen-$name.err")"
}
for p in chat raw; do
    if [ $p = chat ]; then args=("$chat"); else args=(--raw "$raw"); fi
    run_gen $p-cpu-native --device cpu --backend native "${args[@]}"
    run_gen $p-cpu-dense --device cpu --backend dense "${args[@]}"
    run_gen $p-cpu-candle --device cpu --backend candle "${args[@]}"
    run_gen $p-cuda-dense --device cuda "${args[@]}"
    PRECIS_DENSE_FUSED=0 run_gen $p-cuda-dense-unfused --device cuda "${args[@]}"
    PRECIS_DENSE_DTYPE=f16 run_gen $p-cuda-dense-f16 --device cuda "${args[@]}"
    run_gen $p-cuda-candle --device cuda --backend candle "${args[@]}"
done
python3 - "$out" "$reference" <<'PY'
import json, sys, pathlib
out = pathlib.Path(sys.argv[1])
llama = json.load(open(sys.argv[2]))["runs"]["bullets_hfsys"]["gen_ids"][:16]
def ids(name):
    try:
        return json.loads((out / f"gen-{name}.json").read_text())["tokens"][:16]
    except Exception as e:
        return f"missing ({e})"
for p in ["chat", "raw"]:
    refs = {k: ids(f"{p}-{k}") for k in ["cpu-dense", "cpu-candle", "cpu-native"]}
    if p == "raw":
        refs["llama.cpp"] = llama
    print(f"-- prompt {p}: " + "; ".join(f"{k} {v}" for k, v in refs.items()))
    for name in ["cuda-dense", "cuda-dense-unfused", "cuda-dense-f16", "cuda-candle"]:
        got = ids(f"{p}-{name}")
        same = [k for k, v in refs.items() if v == got]
        print(f"{name:20} equals: {', '.join(same) or 'NONE'}  {got}")
PY

echo "== 2. bench on cuda"
bench() { # name, then precis flags
    local name=$1
    shift
    "$bin" bench -m "$model" --device cuda -o jsonl "$@" >"$out/bench-$name.jsonl" 2>"$out/bench-$name.err" ||
        echo "bench $name failed: $(tail -c 300 "$out/bench-$name.err")"
}
bench dense -p 512 -n 128 -b 1,8,32 -r 5 --sum "$article"
PRECIS_DENSE_FUSED=0 bench dense-unfused -p 512 -n 128 -b 1,8 -r 5 --sum "$article"
PRECIS_DENSE_DTYPE=f16 bench dense-f16 -p 512 -n 128 -b 1,8,32 -r 5 --sum "$article"
bench candle --backend candle -p 512 -n 128 -r 3

echo "== 3. whole summary, process wall time"
for i in 1 2 3; do
    s=$(date +%s.%N)
    "$bin" summarize "$article" -m "$model" --device cuda --format json -o "$out/summary-$i.json" 2>"$out/summary-$i.err" ||
        echo "summarize $i failed: $(tail -c 300 "$out/summary-$i.err")"
    e=$(date +%s.%N)
    echo "summary $i: $(python3 -c "print(f'{$e - $s:.2f}')") s wall" | tee -a "$out/summary-times.txt"
done
"$bin" summarize "$article" -m "$model" --format md -o "$out/summary.md" -v 2>&1 | grep -a "map:\|tl;dr" | sed 's/\x1b\[[0-9;]*m//g'
# Where the process time goes: start-up (a bare --version), then one summary's stages.
s=$(date +%s.%N); "$bin" --version >/dev/null; e=$(date +%s.%N)
echo "process start and exit alone (--version): $(python3 -c "print(f'{$e - $s:.3f}')") s"
s=$(date +%s.%N)
"$bin" summarize "$article" -m "$model" --device cuda --format json -o "$out/summary-vv.json" -vv 2>"$out/summary-vv.err"
e=$(date +%s.%N)
echo "summary with -vv: $(python3 -c "print(f'{$e - $s:.3f}')") s wall"
grep -a "load:\|map:\|tl;dr in\|finished" "$out/summary-vv.err" | sed 's/\x1b\[[0-9;]*m//g'
"$bin" generate -m "$model" --device cuda -n 1 -vv "Hello" 2>&1 | grep -a "load:" | sed 's/\x1b\[[0-9;]*m//g'
"$bin" generate -m "$model" --device cpu -n 1 -vv "Hello" 2>&1 | grep -a "load:" | sed 's/\x1b\[[0-9;]*m//g'

echo "== results"
python3 - "$out" <<'PY'
import json, sys, pathlib
out = pathlib.Path(sys.argv[1])
for f in sorted(out.glob("bench-*.jsonl")):
    for line in f.read_text().splitlines():
        try:
            r = json.loads(line)
        except ValueError:
            continue
        print(f"{f.stem:20} {r.get('test', '?'):18} {r.get('backend', '?'):7} {r.get('avg_ts', 0):10.1f} t/s ±{r.get('stddev_ts', 0):.1f}")
for f in sorted(out.glob("summary-[0-9].json")):
    print(f"{f.name}: {json.loads(f.read_text()).get('stats', {})}")
PY
tar -czf "$out.tgz" -C "$(dirname "$out")" "$(basename "$out")"
