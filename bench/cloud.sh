#!/usr/bin/env bash
# `veilig cloud discover` beside the plain pipeline an administrator would write instead
# (`awk` to pick name and client from each query line, `sort | uniq -c` to count), on the same
# generated dnsmasq/Pi-hole query log: 3,000,000 lines from 400 clients, a third of them
# queries for catalog services, the rest replies, unknown sites and internal names.
# Prints lines per CPU-second for both and one RESULT line; then the register page's time with
# 1,000 services (bench/cloud/pages.py). The pipeline only counts names; it
# knows no services, days or distinct clients, so Veilig does more work per line.
# Usage: bench/cloud.sh [LINES]   (VEILIG_BIN for another binary)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${VEILIG_BIN:-target/release/veilig}")
[ -x "$BIN" ] || cargo build --release --quiet
LINES=${1:-3000000}
WORK=$(mktemp -d /tmp/veilig-bench-cloud.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
python3 - "$WORK/dns.log" "$LINES" <<'PY'
import random, sys
path, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(7)
catalog = ["us05web.zoom.us", "teams.live.com", "outlook.office.com", "login.microsoftonline.com", "www.dropbox.com",
           "chatgpt.com", "api.openai.com", "www.deepl.com", "app.slack.com", "wetransfer.com", "start.exactonline.nl",
           "app.zivver.com", "www.canva.com", "web.whatsapp.com", "claude.ai", "github.com", "accounts.google.com"]
unknown = [f"www.site{i}.nl" for i in range(2000)] + [f"cdn{i}.example-shop.com" for i in range(500)]
internal = ["printer.local", "fileserver.corp.example", "23.1.168.192.in-addr.arpa", "wpad.lan"]
clients = [f"192.168.{i // 250}.{i % 250 + 2}" for i in range(400)]
with open(path, "w") as f:
    for i in range(n):
        t = 8 * 3600 + i * 36000 // n
        stamp = f"Nov 27 {t // 3600:02d}:{t // 60 % 60:02d}:{t % 60:02d}"
        r = rng.random()
        c = rng.choice(clients)
        if r < 0.33:
            name = rng.choice(catalog)
        elif r < 0.5:
            name = rng.choice(unknown)
        elif r < 0.55:
            name = rng.choice(internal)
        else:
            name = rng.choice(catalog + unknown)
            f.write(f"{stamp} dnsmasq[812]: reply {name} is 192.0.2.{i % 250}\n")
            continue
        f.write(f"{stamp} dnsmasq[812]: query[A] {name} from {c}\n")
PY
SIZE=$(stat -c %s "$WORK/dns.log")
cpu() { # CPU-seconds (user+system) of a command and its children
  local out; out=$( { /usr/bin/time -f '%U %S' "$@" >/dev/null; } 2>&1 | tail -1 ); awk '{print $1 + $2}' <<<"$out"
}
V=$(cpu "$BIN" cloud discover --format dnsmasq --json --year 2026 "$WORK/dns.log")
A=$(cpu sh -c "awk '/ query\\[/ {print \$6, \$8}' '$WORK/dns.log' | LC_ALL=C sort | LC_ALL=C uniq -c")
"$BIN" cloud discover --format dnsmasq --year 2026 "$WORK/dns.log" | tail -1
python3 - "$LINES" "$SIZE" "$V" "$A" <<'PY'
import sys
lines, size, v, a = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
print(f"{lines} lines, {size / 1e6:.0f} MB")
print(f"veilig cloud discover: {v:.2f} CPU-s = {lines / v / 1e6:.2f} M lines per CPU-second")
print(f"awk | sort | uniq -c:  {a:.2f} CPU-s = {lines / a / 1e6:.2f} M lines per CPU-second")
print(f"RESULT veilig_lines_per_cpu_s={lines / v:.0f} pipeline_lines_per_cpu_s={lines / a:.0f} vs_pipeline={a / v:.1f}")
PY
python3 bench/cloud/pages.py "$BIN" "$WORK"
