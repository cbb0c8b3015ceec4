#!/usr/bin/env bash
# precis against a real OpenAI-compatible server: builds llama.cpp's llama-server from the
# llama-cpp-python==0.3.36 sdist (outside the repo, cached), starts it on 127.0.0.1 with
# the default model's GGUF and 4 slots, summarises an article and a folder through it
# (--backend openai), compares the article's key points with a local run, and stops the
# server.
#
#   scripts/llama-server.sh ARTICLE [FOLDER]
#
# Environment: PRECIS_LLAMA_CACHE (default ~/.cache/precis/llama.cpp) holds the sdist, the
# build tools (a venv with cmake and scikit-build-core) and the build; PORT (8089);
# THREADS (physical cores); SLOTS (4); WORK (where outputs go; default a temporary folder).
# The build takes a few minutes of every core, once.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"

article=${1:?usage: scripts/llama-server.sh ARTICLE [FOLDER]}
folder=${2:-}
version=0.3.36
cache=${PRECIS_LLAMA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/precis/llama.cpp}
port=${PORT:-8089}
slots=${SLOTS:-4}
threads=${THREADS:-$(lscpu -p=core 2>/dev/null | grep -v '^#' | sort -u | wc -l)}
[ "$threads" -ge 1 ] 2>/dev/null || threads=$(nproc)
work=${WORK:-$(mktemp -d)}
mkdir -p "$cache" "$work"
server="$cache/build-$version/bin/llama-server"

if [ ! -x "$server" ]; then
    venv="$cache/venv"
    if [ ! -x "$venv/bin/cmake" ]; then
        echo "llama-server.sh: installing cmake and scikit-build-core into $venv" >&2
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q cmake scikit-build-core
    fi
    src="$cache/llama_cpp_python-$version"
    if [ ! -d "$src/vendor/llama.cpp" ]; then
        echo "llama-server.sh: fetching the llama-cpp-python==$version sdist" >&2
        PATH="$venv/bin:$PATH" "$venv/bin/pip" download -q --no-deps --no-binary llama-cpp-python \
            --no-build-isolation "llama-cpp-python==$version" -d "$cache/sdist"
        tar -xzf "$cache"/sdist/llama_cpp_python-$version.tar.gz -C "$cache"
    fi
    echo "llama-server.sh: building llama-server (a few minutes)" >&2
    "$venv/bin/cmake" -S "$src/vendor/llama.cpp" -B "$cache/build-$version" \
        -DGGML_NATIVE=ON -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
        -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF \
        -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_EXAMPLES=OFF >/dev/null
    "$venv/bin/cmake" --build "$cache/build-$version" --target llama-server -j "$(nproc)" >/dev/null
fi
[ -x "$server" ] || { echo "llama-server.sh: $server was not built" >&2; exit 1; }

precis="$repo/target/release/precis"
[ -x "$precis" ] || cargo build --release
card=$("$precis" models info --json | jq -r '.card.id')
model=$("$precis" models info --json | jq -r '.cached // empty')
[ -f "$model" ] || { "$precis" models pull >&2; model=$("$precis" models info --json | jq -r '.cached // empty'); }

# Each slot gets 2048 tokens of context (-c is shared among the slots).
"$server" -m "$model" --host 127.0.0.1 --port "$port" -np "$slots" -c $((slots * 2048)) -t "$threads" \
    >"$work/llama-server.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true' EXIT
url="http://127.0.0.1:$port"
for _ in $(seq 1 240); do
    curl -sf "$url/health" >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || { echo "llama-server.sh: the server died; see $work/llama-server.log" >&2; exit 1; }
    sleep 0.5
done
curl -sf "$url/health" >/dev/null || { echo "llama-server.sh: no /health after 120 s" >&2; exit 1; }
echo "llama-server.sh: llama-server $version on $url, $slots slots, $threads threads, model $model" >&2

remote=(--backend openai --base-url "$url" --model "$card" --parallel "$slots")
timed() { local t0; t0=$(date +%s.%N); "$@"; echo "$(echo "$(date +%s.%N) - $t0" | bc)"; }
t_remote=$(timed "$precis" summarize "$article" "${remote[@]}" -o "$work/remote.json" | tail -1)
t_local=$(timed "$precis" summarize "$article" -t "$threads" -o "$work/local.json" | tail -1)
echo "article $article: remote ${t_remote}s, local ${t_local}s"
paste -d'\n' <(jq -r '.key_points[].text | "  local:  " + .' "$work/local.json") \
    <(jq -r '.key_points[].text | "  remote: " + .' "$work/remote.json")
same=$(jq -n --slurpfile a "$work/local.json" --slurpfile b "$work/remote.json" \
    '[$a[0].key_points[].text] as $x | [$b[0].key_points[].text] as $y | [range(0; [$x|length, $y|length]|min) | select($x[.] == $y[.])] | length')
echo "key points: $(jq '.key_points|length' "$work/local.json") local, $(jq '.key_points|length' "$work/remote.json") remote, $same the same"
echo "title: local $(jq .title "$work/local.json"), remote $(jq .title "$work/remote.json")"

if [ -n "$folder" ]; then
    n=$(find "$folder" -type f \( -name '*.txt' -o -name '*.md' -o -name '*.html' \) | wc -l)
    t=$(timed "$precis" batch "$folder" --out "$work/batch" "${remote[@]}" -q | tail -1)
    ok=$(grep -c '"status":"ok"' "$work/batch/manifest.jsonl" || true)
    echo "folder $folder: $n documents, $ok summarised in ${t}s through llama-server with --parallel $slots ($(echo "scale=1; 60 * $ok / $t" | bc) documents/min)"
fi
echo "outputs in $work"
