#!/usr/bin/env bash
# Live TCP syslog ingestion: `veilig serve --syslog-tcp` receives a 1,000,000-line log (Veilig's
# own generator, eight formats) over one connection as fast as it takes it; measures messages a
# second until every line is counted, lines lost, and Veilig's CPU time. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=${LINES:-1000000}
cargo build --release --quiet
dir=$(mktemp -d)
free() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free); sport=$(free)
base="http://127.0.0.1:$port"
VEILIG_RESPONSE_BLOCK_SEVERITY=off ./target/release/veilig serve --data "$dir" --listen "127.0.0.1:$port" \
  --syslog-tcp "127.0.0.1:$sport" >"$dir/out" 2>"$dir/err" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do curl -fs "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
token=$(grep -o '/setup/[A-Za-z0-9_-]*' "$dir/out" | head -1 | cut -d/ -f3)
cookie=$(python3 bench/signin.py "$base" "$token")
python3 bench/loggen.py "$dir/live.log" "$LINES" --seed 11 2>/dev/null
python3 bench/ingest.py "$dir/live.log" "127.0.0.1:$sport" "$base" "$cookie" "$pid"
