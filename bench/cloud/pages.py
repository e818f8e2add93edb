"""bench/cloud.sh, part two: the register page with 1,000 services (issue #7: under 50 ms)."""
import base64
import hashlib
import hmac
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request

BIN, WORK = sys.argv[1], sys.argv[2]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def totp(secret):
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    h = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    o = h[-1] & 15
    return f"{(struct.unpack('>I', h[o:o + 4])[0] & 0x7fffffff) % 1_000_000:06d}"


port = free_port()
server = subprocess.Popen([BIN, "serve", "--data", os.path.join(WORK, "data"), "--listen", f"127.0.0.1:{port}"],
                          env=dict(os.environ, VEILIG_LOG_LEVEL="warn"), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
token = None
for line in server.stdout:
    if "/setup/" in line:
        token = line.strip().rsplit("/", 1)[1]
        break
threading.Thread(target=lambda: [None for _ in server.stdout], daemon=True).start()
base = f"http://127.0.0.1:{port}"
cookies, csrf = {}, [""]


def call(method, path, body=None, raw=False):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode() if body is not None else None, method=method)
    req.add_header("content-type", "application/json")
    if csrf[0]:
        req.add_header("x-csrf-token", csrf[0])
    if cookies:
        req.add_header("cookie", "; ".join(f"{k}={v}" for k, v in cookies.items()))
    with urllib.request.urlopen(req) as r:
        for h in r.headers.get_all("set-cookie") or []:
            k, v = h.split(";", 1)[0].split("=", 1)
            cookies[k] = v
        data = r.read()
    return data if raw else (json.loads(data) if data else None)


csrf[0] = call("POST", "/api/v1/setup", {"token": token, "email": "beheer@bench.nl", "password": "paarse fiets onder de brug"})["csrf_token"]
secret = call("POST", "/api/v1/me/totp")["secret"]
call("POST", "/api/v1/me/totp/confirm", {"code": totp(secret)})
catalog = call("GET", "/api/v1/cloud/catalog")
statuses = ["approved", "tolerated", "under_review", "to_be_replaced", "not_allowed"]
for i, s in enumerate(catalog):
    call("POST", "/api/v1/cloud/services", {"catalog_id": s["id"], "status": statuses[i % 5]})
for i in range(1000 - len(catalog)):
    call("POST", "/api/v1/cloud/services", {"name": f"Dienst {i:04d}", "functions": ["chat"], "domains": [f"dienst{i}.example.nl"]})
assert len(call("GET", "/api/v1/cloud/services")) == 1000


def cpu():
    with open(f"/proc/{server.pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


times = []
c0 = cpu()
for _ in range(30):
    t = time.perf_counter()
    page = call("GET", "/admin/cloud", raw=True)
    times.append((time.perf_counter() - t) * 1000)
server_cpu_ms = (cpu() - c0) * 1000 / 30
times.sort()
server.terminate()
server.wait(timeout=20)
print(f"register page with 1000 services ({len(page) // 1024} KiB): median {times[15]:.1f} ms, p90 {times[27]:.1f} ms wall, "
      f"{server_cpu_ms:.1f} ms server CPU per page")
print(f"RESULT_PAGES register_page_median_ms={times[15]:.1f} register_page_cpu_ms={server_cpu_ms:.1f} services=1000")
