"""Label-agnostic scores of one pseudonymiser's spans against the annotated evaluation files.

  python score.py GOLD_DIR SPANS.jsonl

GOLD_DIR holds files marked up as in crates/veilig-pseudo/eval/GUIDELINES.md ([[LABEL:value]],
KEEP = must not be replaced). SPANS.jsonl has one line per file, as tools.py prints them (and
Veilig): {"file": NAME, "spans": [{"byte_start": .., "byte_end": .., "label": ..}, ...]}, UTF-8 byte
offsets into the text without the marks. A span with "replacement": null is not a replacement and
is ignored. Labels of spans are not compared:
  a value (not KEEP) is found when any span overlaps it; a span is correct when it overlaps a value;
  leak = share of values with a letter or digit outside every span; keep_replaced = KEEP values
  overlapped by a span. The *_merged fields count overlapping spans of a file as one span.
Prints one JSON line. Plain Python 3, no dependencies.
"""
import json
import os
import sys
from collections import Counter


def parse(src):
    """(plain text as UTF-8 bytes, [(byte_start, byte_end, label)]) for an annotated text."""
    out, gold, i, n = [], [], 0, 0
    while (p := src.find("[[", i)) >= 0:
        close = src.find("]]", p + 2)
        if close < 0:
            raise ValueError(f"char {p}: a label opened with [[ is not closed")
        label, value = src[p + 2:close].split(":", 1)
        before = src[i:p].encode()
        out.append(before)
        n += len(before)
        out.append(value.encode())
        gold.append((n, n + len(value.encode()), label))
        n += len(value.encode())
        i = close + 2
    out.append(src[i:].encode())
    return b"".join(out), gold


def overlaps(a, b):
    return a[0] < b[1] and b[0] < a[1]


def merge(spans):
    merged = []
    for s, e in sorted(spans):
        if merged and s < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def ratio(a, b, empty=1.0):
    return round(a / b, 4) if b else empty


def f1(p, r):
    return round(2 * p * r / (p + r), 4) if p + r else 0.0


def score(gold_dir, spans_path):
    found_spans = {}
    with open(spans_path, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    for row in rows:
        found_spans[row["file"]] = [(s["byte_start"], s["byte_end"]) for s in row["spans"]
                                    if s.get("replacement", "") is not None]
    n_spans = correct = n_merged = correct_merged = values = found = leaked = keep_replaced = 0
    by_label, found_by_label = Counter(), Counter()
    files = sorted(f for f in os.listdir(gold_dir) if f != "README.md" and os.path.isfile(os.path.join(gold_dir, f)))
    for name in files:
        with open(os.path.join(gold_dir, name), encoding="utf-8", newline="") as f:
            text, gold = parse(f.read())
        if name not in found_spans:
            print(f"warning: no spans for {name}", file=sys.stderr)
        spans = found_spans.pop(name, [])
        for s, e in spans:
            assert 0 <= s <= e <= len(text), f"{name}: span {s}..{e} outside the text"
        values_here = [g for g in gold if g[2] != "KEEP"]
        n_correct = lambda ss: sum(any(overlaps(sp, g) for g in values_here) for sp in ss)
        n_spans, correct = n_spans + len(spans), correct + n_correct(spans)
        n_merged, correct_merged = n_merged + len(merge(spans)), correct_merged + n_correct(merge(spans))
        covered = set()
        for s, e in spans:
            covered.update(range(s, e))
        for g in gold:
            hit = any(overlaps(sp, g) for sp in spans)
            if g[2] == "KEEP":
                keep_replaced += hit
                continue
            values += 1
            found += hit
            by_label[g[2]] += 1
            found_by_label[g[2]] += hit
            value, at = text[g[0]:g[1]].decode(), g[0]
            leak = False
            for ch in value:
                if ch.isalnum() and at not in covered:
                    leak = True
                at += len(ch.encode())
            leaked += leak
    for name in found_spans:
        print(f"warning: spans for {name}, which is not in {gold_dir}", file=sys.stderr)
    p, r, pm = ratio(correct, n_spans), ratio(found, values), ratio(correct_merged, n_merged)
    return {"files": len(files), "values": values, "spans": n_spans, "correct": correct, "found": found,
            "precision": p, "recall": r, "f1": f1(p, r), "leak": ratio(leaked, values, 0.0),
            "keep_replaced": keep_replaced, "spans_merged": n_merged, "precision_merged": pm,
            "f1_merged": f1(pm, r),
            "recall_by_label": {k: ratio(found_by_label[k], by_label[k]) for k in sorted(by_label)},
            "values_by_label": dict(sorted(by_label.items()))}


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    print(json.dumps(score(sys.argv[1], sys.argv[2])))
