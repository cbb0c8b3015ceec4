#!/usr/bin/env bash
# Summary quality on a scored document set: summarises every article with the release
# build (greedy), keeps only the generated text (title, tl;dr, key points; never the
# evidence quotes), scores it with the set's scorer and prints one row per document.
#
#   scripts/quality.sh [MODEL] [OUT]        MODEL: a card id (default: the default card)
#
# DEVSET (default ../shared/devset beside the repo) holds articles/, keyfacts.json and
# score.py. OUT (default target/quality/MODEL) keeps the JSON summaries, the extracted
# text (txt/) and the scorer's report (score.json). PRECIS_ARGS adds flags to each run;
# PRECIS_BIN runs another build of precis (default: the release build, built first).
set -euo pipefail
cd "$(dirname "$0")/.."
model="${1:-smollm2-135m-instruct-q4_1}"
out="${2:-target/quality/$model}"
devset="${DEVSET:-../shared/devset}"
[ -f "$devset/score.py" ] || { echo "quality.sh: no scorer at $devset/score.py (set DEVSET)" >&2; exit 2; }
bin="${PRECIS_BIN:-}"
if [ -z "$bin" ]; then cargo build --release --quiet; bin=./target/release/precis; fi
rm -rf "$out"; mkdir -p "$out/json" "$out/txt"
start=$(date +%s.%N)
for f in "$devset"/articles/*.txt; do
  name=$(basename "$f" .txt)
  # shellcheck disable=SC2086
  "$bin" summarize -q --model "$model" ${PRECIS_ARGS:-} "$f" -o "$out/json/$name.json"
done
end=$(date +%s.%N)
python3 - "$out" "$devset" "$start" "$end" <<'PY'
import json, pathlib, subprocess, sys
out, devset, t0, t1 = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
walls = {}
for p in sorted((out / "json").glob("*.json")):
    s = json.loads(p.read_text(encoding="utf-8"))
    lines = [s.get("title", ""), s.get("tldr", "")] + [k["text"] for k in s.get("key_points", [])]
    (out / "txt" / f"{p.stem}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    walls[p.stem] = (s.get("stats", {}).get("wall_s", 0.0), len(s.get("key_points", [])),
                     s.get("tldr", "").rstrip()[-1:] in ".!?\"'”’)", 
                     any(w.startswith("title has") for w in s.get("warnings", [])))
rep = subprocess.run([sys.executable, str(devset / "score.py"), "--dir", str(out / "txt")],
                     check=True, capture_output=True, text=True).stdout
(out / "score.json").write_text(rep, encoding="utf-8")
r = json.loads(rep)
print(f"{'document':44} {'cov':>5} {'facts':>6} {'words':>5} {'pts':>3} {'mn':>2} {'novel':>5} {'wall_s':>6}")
for x in r["results"]:
    stem = pathlib.Path(x["summary_file"]).stem
    g = x["groundedness"]
    wall, npts, tl_ok, title_flag = walls[stem]
    novel = len(g["novel_capitalised"]) + len(g["novel_numbers"])
    flags = ("" if tl_ok else " tl;dr-cut") + (" title-flagged" if title_flag else "")
    print(f"{stem[:44]:44} {x['coverage']:5.2f} {x['facts_covered']:>2}/{x['facts_total']:<3} {x['summary_words']:5d} "
          f"{npts:3d} {len(x['must_not_hits']):2d} {novel:5d} {wall:6.1f}{flags}")
words = [x["summary_words"] for x in r["results"]]
print(f"{'mean':44} {r['mean_coverage']:5.3f} {r['facts_covered']:>2}/{r['facts_total']:<3} {sum(words)/len(words):5.0f}"
      f"      must_not {r['must_not_hits']}, grounded {r['mean_grounded_frac']}, max words {max(words)}, "
      f"total {t1 - t0:.0f} s")
PY
