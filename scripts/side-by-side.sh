#!/usr/bin/env bash
# precis and llama.cpp side by side, as BENCHMARKS.md measures them: the same GGUF file,
# the same thread count, alternating llama.cpp's llama-bench and `precis bench` in rounds,
# then whole summaries of one article timed as process wall time.
#
#   scripts/side-by-side.sh [MODEL.gguf] [ARTICLE] [THREADS] [ROUNDS]
#
# MODEL defaults to the default card's file (fetched like any run), ARTICLE to
# examples/article.txt, THREADS to 2, ROUNDS to 2.
#
# llama-bench is built once, outside the repository, under ~/.cache/precis/llama.cpp: the
# llama.cpp vendored in the llama-cpp-python 0.3.36 source package (build 0c1e57098),
# fetched with pip, configured for this CPU. That build takes several minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-}
article=${2:-examples/article.txt}
threads=${3:-2}
rounds=${4:-2}

cargo build --release
precis=$PWD/target/release/precis
if [ -z "$model" ]; then
    model=$("$precis" models pull | cut -f2)
fi

cache=${XDG_CACHE_HOME:-$HOME/.cache}/precis/llama.cpp
llama_bench=$cache/build/bin/llama-bench
if [ ! -x "$llama_bench" ]; then
    mkdir -p "$cache"
    python3 -m pip install --quiet scikit-build-core
    python3 -m pip download --no-deps --no-binary llama-cpp-python --no-build-isolation \
        llama-cpp-python==0.3.36 -d "$cache"
    tar -xzf "$cache"/llama_cpp_python-0.3.36.tar.gz -C "$cache"
    cmake -S "$cache/llama_cpp_python-0.3.36/vendor/llama.cpp" -B "$cache/build" \
        -DGGML_NATIVE=ON -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
        -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF
    cmake --build "$cache/build" --target llama-bench -j"$(nproc)"
fi

# One greedy pass over the article for llama.cpp: its tokens as prompt, 256 generated.
n_article=$("$precis" summarize --offline -m "$model" --plan "$article" | head -1 | sed -E 's/.* ([0-9]+) tokens.*/\1/')
echo "model: $model"
echo "article: $article ($n_article tokens), threads: $threads"

TIMEFORMAT='%R s'
for round in $(seq 1 "$rounds"); do
    echo "== round $round: llama.cpp"
    "$llama_bench" -m "$model" -t "$threads" -p 512 -n 128 -pg "$n_article,256" -r 5 -o md
    echo "== round $round: precis"
    "$precis" bench -m "$model" -t "$threads" -p 512 -n 128 -r 5 --sum "$article" -o md
    echo "== round $round: precis summarize, process wall time, model load included"
    for _ in 1 2 3; do
        time "$precis" summarize --offline -q -m "$model" -t "$threads" "$article" >/dev/null
    done
done

echo "== batched decode, precis (total tokens/s over all sequences)"
"$precis" bench -m "$model" -t "$threads" -p 0 -n 128 -b 1,4,16 -r 3 -o md
echo "== the AVX-512 VNNI tiles off (the AVX2 ones), against the default"
"$precis" bench -m "$model" -t "$threads" -p 512 -n 128 -r 3 --no-vnni -o md
if [ -x /usr/bin/time ]; then
    echo "== peak RSS of one bench process"
    /usr/bin/time -v "$llama_bench" -m "$model" -t "$threads" -p 512 -n 128 -r 1 -o md 2>&1 | grep Maximum
    /usr/bin/time -v "$precis" bench -m "$model" -t "$threads" -p 512 -n 128 -r 1 -o md 2>&1 | grep Maximum
fi
