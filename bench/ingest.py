#!/usr/bin/env python3
"""Live syslog over TCP into a running Veilig: sends a log file's lines as fast as the socket
takes them (newline framing, 4 MiB writes), then polls GET /api/v1/inputs until Veilig has
counted every line, and reads Veilig's CPU time from /proc. Prints one RESULT line.

usage: ingest.py LOG HOST:PORT BASE_URL COOKIE PID"""
import json, os, socket, sys, time, urllib.request

log, target, base, cookie, pid = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
data = open(log, "rb").read()
lines = data.count(b"\n")
tick = os.sysconf("SC_CLK_TCK")


def cpu():
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick


def counted():
    req = urllib.request.Request(base + "/api/v1/inputs", headers={"cookie": cookie})
    with urllib.request.urlopen(req) as r:
        v = json.loads(r.read())
    return sum(s["lines"] for s in v["senders"])


host, port = target.rsplit(":", 1)
before, c0 = counted(), cpu()
t0 = time.monotonic()
with socket.create_connection((host, int(port))) as s:
    for i in range(0, len(data), 4 << 20):
        s.sendall(data[i:i + (4 << 20)])
sent = time.monotonic()
deadline = sent + 300
while True:
    got = counted() - before
    if got >= lines or time.monotonic() > deadline:
        break
    time.sleep(0.05)
done = time.monotonic()
c1 = cpu()
rate = got / (done - t0)
print(f"sent {lines} lines in {sent - t0:.2f} s; Veilig counted {got} after {done - t0:.2f} s; Veilig CPU {c1 - c0:.2f} s", file=sys.stderr)
print(f"RESULT lines={lines} received={got} lost={lines - got} msgs_per_second={rate:.0f} "
      f"veilig_cpu_seconds={c1 - c0:.2f} lines_per_cpu_second={got / max(c1 - c0, 0.001):.0f}")
