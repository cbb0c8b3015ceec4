#!/usr/bin/env bash
# Documents per minute of `precis batch` at several --jobs, side by side, on a folder of
# short documents built at run time (scripts/short-corpus.sh), as BENCHMARKS.md reports.
# Each run is timed as process wall time (the model's load included) into a fresh OUT;
# the rounds alternate the --jobs values so that a noisy machine hits them alike. Each row
# has the engine calls the batch made (documents' chats merged) and, from the engine's
# debug lines, its forward passes and the sequences each held on average. After the
# rounds, every --jobs value's outputs are compared with the first's (timings aside).
#
#   scripts/batch-jobs.sh [JOBS] [COUNT] [ROUNDS] [-- PRECIS FLAGS...]
#
# JOBS defaults to 1,2,4,8 (the first is the reference), COUNT to 24 documents, ROUNDS
# to 1; flags after `--` go to every `precis batch` (e.g. -- --threads 2, or
# -- --backend openai --base-url http://127.0.0.1:8080 --parallel 4).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs_list=${1:-1,2,4,8}
count=${2:-24}
rounds=${3:-1}
shift $(($# < 3 ? $# : 3))
[ "${1:-}" = "--" ] && shift
precis=${PRECIS:-$PWD/target/release/precis}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
scripts/short-corpus.sh "$work/docs" "$count" >/dev/null 2>&1
n=$(ls "$work/docs" | wc -l)
ref=${jobs_list%%,*}
printf 'round\tjobs\tseconds\tdocs/min\tengine calls\tdecode\n'
for r in $(seq 1 "$rounds"); do
    for j in ${jobs_list//,/ }; do
        out=$work/out-$j-$r
        t0=$(date +%s.%N)
        PRECIS_LOG=precis=info,precis::engine::generate=debug \
            "$precis" batch "$work/docs" --out "$out" --jobs "$j" "$@" 2>"$work/log-$j-$r" || true
        t1=$(date +%s.%N)
        secs=$(echo "$t1 - $t0" | bc -l)
        calls=$(grep -o -- "--jobs $j: [0-9]* engine calls" "$work/log-$j-$r" | grep -o "[0-9]* engine" | cut -d' ' -f1 || true)
        # The engine's forward passes and the sequences in them (its debug lines).
        passes=$(sed -n 's/.*: \([0-9]*\) forward passes, \([0-9]*\) sequence-steps.*/\1 \2/p' "$work/log-$j-$r" |
            awk '{p += $1; r += $2} END {if (p) printf "%d passes, %.1f sequences a pass", p, r / p}')
        printf '%s\t%s\t%.1f\t%.1f\t%s\t%s\n' "$r" "$j" "$secs" "$(echo "60 * $n / $secs" | bc -l)" "${calls:-0}" "$passes"
        if ! grep -q "$n summarised" "$work/log-$j-$r"; then
            echo "--jobs $j: not every document was summarised:" >&2
            tail -3 "$work/log-$j-$r" >&2
        fi
    done
done
# Greedy outputs of each --jobs against the reference's (first round).
for j in ${jobs_list//,/ }; do
    [ "$j" = "$ref" ] && continue
    same=0 differ=0
    for f in "$work/out-$ref-1"/*.json; do
        g=$work/out-$j-1/$(basename "$f")
        if cmp -s <(jq -S 'del(.stats)' "$f") <(jq -S 'del(.stats)' "$g"); then
            same=$((same + 1))
        else
            differ=$((differ + 1))
            echo "differs: --jobs $j $(basename "$f")" >&2
        fi
    done
    printf 'outputs of --jobs %s against --jobs %s: %d identical, %d differ\n' "$j" "$ref" "$same" "$differ"
done
if [ -n "${KEEP:-}" ]; then
    mkdir -p "$KEEP" && cp -r "$work"/out-* "$work"/log-* "$KEEP"/ && echo "outputs and logs kept in $KEEP" >&2
fi
