#!/usr/bin/env bash
# A folder of short documents for timing `precis batch`, built at run time (nothing of it
# is committed): runs of consecutive paragraphs, about WORDS words each, cut from the dev
# set's articles (../shared/devset/articles/*.txt, when that folder is there) and from
# examples/article.txt.
#
#   scripts/short-corpus.sh OUTDIR [COUNT] [WORDS]
#
# COUNT defaults to 24 documents, WORDS to 200. OUTDIR is emptied of *.txt first.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/short-corpus.sh OUTDIR [COUNT] [WORDS]}
count=${2:-24}
words=${3:-200}
mkdir -p "$out"
rm -f "$out"/*.txt
sources=(examples/article.txt)
if [ -d ../shared/devset/articles ]; then
    sources+=(../shared/devset/articles/*.txt)
fi
# Round-robin over the sources, so that the documents differ in subject and style.
awk -v out="$out" -v count="$count" -v words="$words" '
    FNR == 1 { src++; para[src] = 0 }
    /^[[:space:]]*$/ { if (cur[src] != "") { n[src]++; p[src, n[src]] = cur[src]; cur[src] = "" } next }
    { cur[src] = cur[src] (cur[src] == "" ? "" : " ") $0 }
    END {
        for (s = 1; s <= src; s++) if (cur[s] != "") { n[s]++; p[s, n[s]] = cur[s] }
        made = 0; s = 0; stuck = 0
        while (made < count && stuck <= src) {
            s = s % src + 1
            if (next_p[s] >= n[s]) { stuck++; continue }
            stuck = 0
            text = ""; w = 0
            while (w < words && next_p[s] < n[s]) {
                next_p[s]++
                para_text = p[s, next_p[s]]
                text = text (text == "" ? "" : "\n\n") para_text
                w += split(para_text, tmp, /[[:space:]]+/)
            }
            if (w < words / 2) continue
            made++
            f = sprintf("%s/doc-%03d.txt", out, made)
            printf "%s\n", text > f
            close(f)
        }
        printf "%d documents in %s\n", made, out > "/dev/stderr"
    }' "${sources[@]}"
