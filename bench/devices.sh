#!/usr/bin/env bash
# The device agent's footprint and the server's intake of reports (issue #9's goals):
#   - one full `veilig agent check` in CPU-seconds, beside a shell script that runs the same
#     system tools and reads the same files (the least any agent pays; osquery/Fleet, what
#     administrators use today, is not installable from the package sources here);
#   - the report's size in bytes (the `{"seq", "report"}` body the agent sends);
#   - `veilig agent run`'s resident memory while it waits between reports;
#   - reports stored per second and per server CPU-second on SQLite with 10,000 enrolled devices,
#     sent over mutual TLS by 16 enrolled agents (Python's ssl, keep-alive) at once.
# Prints one RESULT line. Usage: bench/devices.sh   (VEILIG_BIN for another binary)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${VEILIG_BIN:-target/release/veilig}")
[ -x "$BIN" ] || cargo build --release --quiet
WORK=$(mktemp -d /tmp/veilig-bench-devices.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
exec python3 bench/devices/run.py "$BIN" "$WORK"
