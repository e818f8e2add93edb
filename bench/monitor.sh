#!/usr/bin/env bash
# `veilig monitor replay` beside fail2ban-regex and CrowdSec (when set up with the shared kit's
# setup_anchors.sh) on the same generated netfilter + sshd log. Prints detection per attack class and one RESULT line.
# CPU time (user + sys) is the measure: the machines are shared and wall time is noisy.
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=${LINES:-1000000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
kit=${KIT:-../shared/bench/monitor}
log="$work/fw.log"
python3 "$kit/gen_fwlog.py" "$log" "$LINES" >/dev/null
cargo build --release --quiet

# Veilig
/usr/bin/time -f "%U %S %M" -o "$work/veilig.time" ./target/release/veilig monitor replay --json --year 2026 "$log" >"$work/alerts.json" 2>"$work/veilig.err"
read -r vu vs vrss <"$work/veilig.time"
vcpu=$(echo "$vu + $vs" | bc -l)

python3 - "$log.truth.json" "$work/alerts.json" >"$work/detect" <<'PY'
import json, sys
truth = json.load(open(sys.argv[1]))
alerts = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
flagged = {a["source"] for a in alerts}
attackers = set().union(*truth.values())
parts = []
for cls, ips in truth.items():
    parts.append(f"{cls}={len(set(ips) & flagged)}/{len(ips)}")
benign = sorted(flagged - attackers)
print(" ".join(parts), f"benign_flagged={len(benign)}")
PY

# fail2ban needs one pass per filter (a jail each): the firewall filter and the stock sshd
# filter. Its CPU is the sum of both passes, as a fail2ban server would spend it.
f2b="n/a"; vs_f2b="n/a"
if command -v fail2ban-regex >/dev/null && [ -f /etc/fail2ban/filter.d/common.conf ]; then
  mkdir -p "$work/filter.d"
  cp "$kit/fail2ban/filter.d/iptables-drop.conf" "$work/filter.d/"
  cp /etc/fail2ban/filter.d/common.conf "$work/filter.d/"
  fcpu=0
  for filter in "$work/filter.d/iptables-drop.conf" /etc/fail2ban/filter.d/sshd.conf; do
    /usr/bin/time -f "%U %S %M" -o "$work/f2b.time" fail2ban-regex -r --print-no-missed "$log" "$filter" >"$work/f2b.out" 2>&1
    read -r fu fs frss <"$work/f2b.time"
    fcpu=$(echo "$fcpu + $fu + $fs" | bc -l)
  done
  f2b=$(echo "$LINES / $fcpu" | bc -l | xargs printf '%.0f')
fi
# CrowdSec (when installed: ../shared/bench/monitor/setup_anchors.sh) in replay mode with the
# iptables + sshd collections. It is ~300 times slower and needs GiBs, so it reads a smaller
# log of the same generator (CS_LINES, default 100,000); Veilig reads the same small log too,
# so the ratio compares like with like.
cs="n/a"; vs_cs="n/a"; cs_detect=""; v_small_detect=""
CS_LINES=${CS_LINES:-100000}
if command -v crowdsec >/dev/null && [ -d /var/lib/crowdsec/hub ]; then
  kitcopy="$work/kit"
  mkdir -p "$kitcopy"
  cp -r "$kit/." "$kitcopy/"
  (cd "$kitcopy" && ./setup_anchors.sh >/dev/null 2>&1) || true
  small="$work/fw-small.log"
  python3 "$kit/gen_fwlog.py" "$small" "$CS_LINES" >/dev/null
  mkdir -p "$kitcopy/results"
  (cd "$kitcopy" && ./bench_crowdsec.sh "$small" 1 >"$work/cs.report" 2>&1) || true
  cstime=$(ls "$kitcopy"/results/cs-*.time 2>/dev/null | head -1)
  if [ -n "$cstime" ]; then
    csu=$(sed -n 's/.*user=\([0-9.]*\).*/\1/p' "$cstime"); css=$(sed -n 's/.*sys=\([0-9.]*\).*/\1/p' "$cstime")
    cs=$(echo "$CS_LINES / ($csu + $css)" | bc -l | xargs printf '%.0f')
    cs_detect=$(grep '^crowdsec detected:' "$work/cs.report" | sed 's/^crowdsec detected: //')
    /usr/bin/time -f "%U %S %M" -o "$work/vsmall.time" ./target/release/veilig monitor replay --json --year 2026 "$small" >"$work/small.json" 2>/dev/null
    read -r su ss _ <"$work/vsmall.time"
    vsmall=$(echo "$CS_LINES / ($su + $ss + 0.001)" | bc -l | xargs printf '%.0f')
    vs_cs=$(echo "$vsmall / $cs" | bc -l | xargs printf '%.0f')
    v_small_detect=$(python3 - "$small.truth.json" "$work/small.json" <<'PY'
import json, sys
truth = json.load(open(sys.argv[1]))
flagged = {json.loads(l)["source"] for l in open(sys.argv[2]) if l.strip()}
print(" ".join(f"{c}={len(set(ips) & flagged)}/{len(ips)}" for c, ips in truth.items()))
PY
)
  fi
fi

# Veilig's own generator (bench/loggen.py): eight formats, IPv4 and IPv6, other attack shapes.
own="$work/own.log"
python3 bench/loggen.py "$own" "$LINES" --seed 7 2>/dev/null
/usr/bin/time -f "%U %S %M" -o "$work/own.time" ./target/release/veilig monitor replay --json --year 2026 "$own" >"$work/own.json" 2>/dev/null
read -r ou os orss <"$work/own.time"
own_rate=$(echo "$LINES / ($ou + $os)" | bc -l | xargs printf '%.0f')
own_detect=$(python3 - "$own.truth.json" "$work/own.json" <<'PY'
import json, sys
truth = json.load(open(sys.argv[1]))
flagged = {json.loads(l)["source"] for l in open(sys.argv[2]) if l.strip()}
attackers = set().union(*truth.values())
print(" ".join(f"{c}={len(set(ips) & flagged)}/{len(ips)}" for c, ips in truth.items()), f"benign_flagged={len(flagged - attackers)}")
PY
)

vrate=$(echo "$LINES / $vcpu" | bc -l | xargs printf '%.0f')
[ "$f2b" != "n/a" ] && vs_f2b=$(echo "$vrate / $f2b" | bc -l | xargs printf '%.1f')
cat "$work/veilig.err" >&2
echo "detection: $(cat "$work/detect")"
echo "own generator ($LINES lines, eight formats): $own_rate lines per CPU-second, peak $((orss / 1024)) MiB; detected $own_detect"
[ -n "$cs_detect" ] && echo "on $CS_LINES lines: crowdsec detected $cs_detect; veilig detected $v_small_detect"
echo "RESULT lines=$LINES lines_per_cpu_second=$vrate vs_fail2ban=$vs_f2b fail2ban_lines_per_cpu_second=$f2b vs_crowdsec=$vs_cs crowdsec_lines_per_cpu_second=$cs peak_rss_mib=$((vrss / 1024)) $(cat "$work/detect") own_lines_per_cpu_second=$own_rate"
