#!/usr/bin/env bash
# The VPN gateway beside wireguard-go as the gateway, in one run, on the same namespaces:
# a wireguard-go client in "home", the gateway in "gw", an iperf3 server in "office".
# Prints throughput, the gateway's CPU-seconds per GB, connect-to-first-packet and
# revoke-to-drop, and one RESULT line (ratios are Veilig / wireguard-go). Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in wireguard-go wg-quick iperf3 curl; do
  command -v "$tool" >/dev/null || { echo "bench/vpn.sh needs $tool (scripts/test installs it)" >&2; exit 1; }
done
cargo build --release --quiet
exec python3 bench/vpn.py "$PWD/target/release/veilig" "${SECONDS_PER_RUN:-10}"
