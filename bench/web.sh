#!/usr/bin/env bash
# A signed-in page under wrk on loopback: alone, and while wrong-password logins flood in at
# 200 per second (each from another forwarded address, so each costs an argon2id hash).
# Prints one RESULT line. Talks only to 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then apt-get install -y -qq wrk >/dev/null; else echo "bench/web.sh needs wrk (apt-get install wrk)" >&2; exit 1; fi
fi
cargo build --release --quiet
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
./target/release/veilig serve --data "$dir" --listen "127.0.0.1:$port" --behind-proxy 127.0.0.1/32 >"$dir/out" 2>"$dir/err" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do curl -fs "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
token=$(grep -o '/setup/[A-Za-z0-9_-]*' "$dir/out" | head -1 | cut -d/ -f3)
cookie=$(python3 bench/signin.py "$base" "$token")
page=${PAGE:-/}
duration=${DURATION:-10}

run_wrk() { wrk -t2 -c"${CONNECTIONS:-16}" -d"${duration}s" --latency -H "Cookie: $cookie" "$base$page"; }
rps() { awk '/Requests\/sec/ {print $2}' "$1"; }
p99() { awk '$1 == "99%" { v = $2; if (v ~ /us$/) { sub(/us/, "", v); v = v / 1000 } else if (v ~ /ms$/) { sub(/ms/, "", v) } else if (v ~ /s$/) { sub(/s/, "", v); v = v * 1000 } print v }' "$1"; }

curl -fs -o /dev/null -H "Cookie: $cookie" "$base$page" || { echo "the signed-in page does not answer 200" >&2; exit 1; }
run_wrk >"$dir/alone"
python3 bench/flood.py "$base" 200 $((duration + 4)) >"$dir/flood" &
flood=$!
sleep 2
run_wrk >"$dir/during"
wait $flood
cat "$dir/alone" "$dir/during" "$dir/flood" >&2
echo "RESULT logged_in_rps=$(rps "$dir/alone") p99_ms=$(p99 "$dir/alone") rps_during_flood=$(rps "$dir/during") p99_during_flood_ms=$(p99 "$dir/during") flood=$(tr -d ' ' <"$dir/flood")"
