"""bench/devices.sh: the agent's footprint and the server's report intake. See devices.sh."""
import json
import os
import resource
import socket
import sqlite3
import ssl
import subprocess
import sys
import threading
import time
import http.client
import urllib.request

BIN, WORK = sys.argv[1], sys.argv[2]
AGENTS, DEVICES, SECONDS = 16, 10_000, 20


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def proc_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# ---- one full check, beside the same tools run by a shell script --------------------------------
SHELL_CHECK = r"""
cat /etc/os-release /usr/share/distro-info/debian.csv /var/log/apt/history.log >/dev/null 2>&1
head -c 512 /var/lib/clamav/daily.cld >/dev/null 2>&1 || head -c 512 /var/lib/clamav/daily.cvd >/dev/null 2>&1
systemctl is-active clamav-freshclam >/dev/null 2>&1 || ps -eo comm >/dev/null
clamscan --version >/dev/null 2>&1
lsblk -J -o NAME,TYPE,MOUNTPOINTS >/dev/null 2>&1
nft list ruleset >/dev/null 2>&1; ufw status >/dev/null 2>&1; firewall-cmd --state >/dev/null 2>&1
loginctl list-sessions --no-legend >/dev/null 2>&1
true
"""
runs = 10
before = children_cpu()
for _ in range(runs):
    subprocess.run(["sh", "-c", SHELL_CHECK], check=True)
shell_cpu = (children_cpu() - before) / runs
before = children_cpu()
out = b""
for _ in range(runs):
    out = subprocess.run([BIN, "agent", "check", "--json"], check=True, capture_output=True, env={"PATH": os.environ["PATH"]}).stdout
check_cpu = (children_cpu() - before) / runs
report = json.loads(out)["report"]
report_bytes = len(json.dumps({"seq": 1, "report": report}, separators=(",", ":")).encode())
print(f"one check: veilig {check_cpu:.3f} CPU-s, the same tools from sh {shell_cpu:.3f} CPU-s; report {report_bytes} bytes")

# ---- the server: 10,000 devices on SQLite ------------------------------------------------------------
port, agent_port = free_port(), free_port()
data = os.path.join(WORK, "data")
env = dict(os.environ, VEILIG_DEVICES_AGENT_LISTEN=f"127.0.0.1:{agent_port}", VEILIG_LOG_LEVEL="warn")
server = subprocess.Popen([BIN, "serve", "--data", data, "--listen", f"127.0.0.1:{port}"], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
setup = None
for line in server.stdout:
    if "/setup/" in line:
        setup = line.strip().rsplit("/", 1)[1]
        break
threading.Thread(target=lambda: [None for _ in server.stdout], daemon=True).start()
base = f"http://127.0.0.1:{port}"


class Session:
    def __init__(self):
        self.cookies = {}
        self.csrf = ""

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(base + path, data=data, method=method)
        req.add_header("content-type", "application/json")
        if self.csrf:
            req.add_header("x-csrf-token", self.csrf)
        if self.cookies:
            req.add_header("cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        with urllib.request.urlopen(req) as r:
            for h in r.headers.get_all("set-cookie") or []:
                k, v = h.split(";", 1)[0].split("=", 1)
                self.cookies[k] = v
            text = r.read()
        return json.loads(text) if text else None


def totp(secret_b32):
    import base64, hmac, hashlib, struct
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    msg = struct.pack(">Q", int(time.time()) // 30)
    h = hmac.new(key, msg, hashlib.sha1).digest()
    o = h[-1] & 15
    return f"{(struct.unpack('>I', h[o:o + 4])[0] & 0x7fffffff) % 1_000_000:06d}"


admin = Session()
r = admin.call("POST", "/api/v1/setup", {"token": setup, "email": "beheer@bench.nl", "password": "paarse fiets onder de brug"})
admin.csrf = r["csrf_token"]
t = admin.call("POST", "/api/v1/me/totp")
admin.call("POST", "/api/v1/me/totp/confirm", {"code": totp(t["secret"])})

# 16 real agents, enrolled with tokens like employees' laptops
agents = []
for i in range(AGENTS):
    tok = admin.call("POST", "/api/v1/devices/tokens", {})["token"]
    d = os.path.join(WORK, f"agent{i}")
    env_a = dict(os.environ, VEILIG_AGENT_TOKEN=tok)
    subprocess.run([BIN, "agent", "enroll", base, "--dir", d], check=True, capture_output=True, env=env_a)
    agents.append(d)

# 9,984 more devices as rows (enrolling them through the API only adds minutes, not insight)
db = sqlite3.connect(os.path.join(data, "veilig.db"), timeout=30)
uid = db.execute("SELECT id FROM users LIMIT 1").fetchone()[0]
now_ms = int(time.time() * 1000)
stored = json.dumps(report)
db.executemany(
    "INSERT INTO agent_devices (id, user_id, hostname, os, cert_serial, cert_sha256, cert_not_after_ms, enrolled_ms, last_seq, "
    "last_report_ms, verdict, report) VALUES (?, ?, ?, 'debian 12', ?, ?, ?, ?, 1, ?, 'not_compliant', ?)",
    [(f"bench{i:05d}", uid, f"laptop-{i:05d}", f"{i:032x}", f"{i:064x}", now_ms + 86_400_000 * 365, now_ms, now_ms, stored)
     for i in range(DEVICES - AGENTS)])
db.commit()
db.close()
assert admin.call("GET", "/api/v1/devices/summary")["total"] == DEVICES

# the load: each agent's certificate on its own keep-alive connection, sequence numbers growing
count = [0] * AGENTS
errors = [0] * AGENTS
stop = time.monotonic() + SECONDS


def load(i):
    d = agents[i]
    ctx = ssl.create_default_context(cafile=os.path.join(d, "ca.pem"))
    ctx.load_cert_chain(os.path.join(d, "cert.pem"), os.path.join(d, "key.pem"))
    conn = http.client.HTTPSConnection("127.0.0.1", agent_port, context=ctx)
    seq = 1
    while time.monotonic() < stop:
        seq += 1
        body = json.dumps({"seq": seq, "report": dict(report, checked_at=int(time.time()))})
        conn.request("POST", "/agent/v1/report", body, {"content-type": "application/json"})
        r = conn.getresponse()
        r.read()
        if r.status == 200:
            count[i] += 1
        else:
            errors[i] += 1


cpu0 = proc_cpu(server.pid)
t0 = time.monotonic()
threads = [threading.Thread(target=load, args=(i,)) for i in range(AGENTS)]
for th in threads:
    th.start()
for th in threads:
    th.join()
wall = time.monotonic() - t0
server_cpu = proc_cpu(server.pid) - cpu0
n = sum(count)
per_s = n / wall
per_cpu = n / server_cpu if server_cpu else 0
print(f"server: {n} reports in {wall:.1f} s = {per_s:.0f}/s wall, {per_cpu:.0f} per server CPU-second, {sum(errors)} refused; "
      f"{DEVICES} devices enrolled")

# ---- the agent between reports --------------------------------------------------------------------
# the load above used this device's sequence numbers: continue after them, as the agent would
state_file = os.path.join(agents[0], "agent.json")
with open(state_file) as f:
    state = json.load(f)
state["seq"] = 10**9
with open(state_file, "w") as f:
    json.dump(state, f)
run = subprocess.Popen([BIN, "agent", "run", "--dir", agents[0], "--interval-minutes", "60"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
first = run.stdout.readline()
if not first:
    sys.exit(f"agent run printed nothing: {run.stderr.read()}")
time.sleep(2)
idle_kib = rss_kib(run.pid)
run.kill()
server.terminate()
server.wait(timeout=20)
print(f"agent run, waiting for the next report: {idle_kib / 1024:.1f} MB resident ({first.strip()})")
print(f"RESULT check_cpu_s={check_cpu:.3f} vs_shell={check_cpu / shell_cpu if shell_cpu else 0:.2f} report_bytes={report_bytes} "
      f"idle_rss_mb={idle_kib / 1024:.1f} reports_per_s={per_s:.0f} reports_per_server_cpu_s={per_cpu:.0f} devices={DEVICES}")
