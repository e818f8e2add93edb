"""Drives bench/vpn.sh: builds the namespaces, runs both gateways, measures, prints RESULT."""
import base64, hashlib, hmac, http.cookiejar, json, os, re, struct, subprocess, sys, tempfile, time, urllib.request

VEILIG, SECS = sys.argv[1], int(sys.argv[2])
ID = f"{os.getpid() % 0xffff:x}"
GW, HOME, OFFICE = f"vb{ID}g", f"vb{ID}h", f"vb{ID}o"
WORK = tempfile.mkdtemp(prefix="veilig-vpn-bench-")
PORT_API, PORT_WG = 18480, 51820
BASE = f"http://10.98.0.2:{PORT_API}"
procs = []


def sh(*args, check=True, env=None):
    return subprocess.run(args, check=check, capture_output=True, text=True, env=env)


def ns(n, *args, **kw):
    return sh("ip", "netns", "exec", n, *args, **kw)


def build():
    for n in (GW, HOME, OFFICE):
        sh("ip", "netns", "add", n)
        ns(n, "ip", "link", "set", "lo", "up")
    sh("ip", "link", "add", f"vb{ID}m", "type", "veth", "peer", "name", "m1", "netns", GW)
    sh("ip", "addr", "add", "10.98.0.1/30", "dev", f"vb{ID}m")
    sh("ip", "link", "set", f"vb{ID}m", "up")
    ns(GW, "ip", "addr", "add", "10.98.0.2/30", "dev", "m1")
    ns(GW, "ip", "link", "set", "m1", "up")
    for n, net, peer in ((HOME, "10.99.1", "h1"), (OFFICE, "10.20.0", "o1")):
        sh("ip", "-n", n, "link", "add", "eth0", "type", "veth", "peer", "name", peer, "netns", GW)
        ns(n, "ip", "addr", "add", f"{net}.2/24", "dev", "eth0")
        ns(n, "ip", "link", "set", "eth0", "up")
        ns(GW, "ip", "addr", "add", f"{net}.1/24", "dev", peer)
        ns(GW, "ip", "link", "set", peer, "up")
    ns(OFFICE, "ip", "route", "add", "default", "via", "10.20.0.1")
    procs.append(subprocess.Popen(["ip", "netns", "exec", OFFICE, "iperf3", "-s", "-B", "10.20.0.2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))


def teardown():
    for name in os.listdir(WORK):
        if name.endswith(".conf"):
            ns(HOME, "wg-quick", "down", os.path.join(WORK, name), check=False)
    for p in procs:
        p.kill()
    for n in (GW, HOME, OFFICE):
        sh("ip", "netns", "del", n, check=False)
    sh("ip", "link", "del", f"vb{ID}m", check=False)


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def reaches(timeout=0.3):
    r = ns(HOME, "timeout", str(timeout), "bash", "-c", "echo > /dev/tcp/10.20.0.2/5201", check=False)
    return r.returncode == 0


def wait_reach(want, limit):
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if reaches() == want:
            return time.monotonic() - start
        time.sleep(0.02)
    return float("nan")


def iperf(pid):
    """Both directions, SECS seconds each; returns (bits per second, gateway CPU-seconds per GB)."""
    total_bytes, total_secs, cpu = 0, 0.0, 0.0
    for reverse in ([], ["-R"]):
        before = cpu_seconds(pid)
        out = ns(HOME, "iperf3", "-c", "10.20.0.2", "-t", str(SECS), "-J", *reverse).stdout
        cpu += cpu_seconds(pid) - before
        end = json.loads(out)["end"]["sum_received"]
        total_bytes += end["bytes"]
        total_secs += end["seconds"]
    return total_bytes * 8 / total_secs, cpu / (total_bytes / 1e9)


def wg_up(name, conf):
    path = os.path.join(WORK, f"{name}.conf")
    open(path, "w").write(conf)
    env = dict(os.environ, WG_QUICK_USERSPACE_IMPLEMENTATION="wireguard-go", WG_SUDO="1")
    ns(HOME, "wg-quick", "up", path, env=env)
    return path


# ---- Veilig's API ------------------------------------------------------------------------
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
csrf = ""


def call(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method, headers={"content-type": "application/json", "x-csrf-token": csrf})
    with opener.open(req, timeout=10) as r:
        text = r.read()
        return json.loads(text) if text else None


def totp(secret):
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    o = digest[-1] & 15
    return f"{(struct.unpack('>I', digest[o:o + 4])[0] & 0x7fffffff) % 1000000:06d}"


def veilig_run():
    global csrf
    data = os.path.join(WORK, "data")
    env = dict(os.environ, VEILIG_VPN_ENABLED="true", VEILIG_VPN_NETWORKS="10.20.0.0/24", VEILIG_VPN_PORT=str(PORT_WG),
               VEILIG_VPN_ENDPOINT=f"10.99.1.1:{PORT_WG}", VEILIG_VPN_INTERFACE="veilig0", VEILIG_LOG_LEVEL="warn")
    log = open(os.path.join(WORK, "veilig.out"), "w")
    p = subprocess.Popen(["ip", "netns", "exec", GW, VEILIG, "serve", "--data", data, "--listen", f"10.98.0.2:{PORT_API}", "--behind-proxy", "10.98.0.1/32"],
                         stdout=log, stderr=subprocess.STDOUT, env=env)
    procs.append(p)
    link = None
    for _ in range(200):
        m = re.search(r"/setup/(\S+)", open(log.name).read())
        if m:
            link = m.group(1)
            break
        time.sleep(0.05)
    csrf = call("POST", "/api/v1/setup", {"token": link, "email": "beheer@bench.nl", "password": "paarse fiets onder de brug"})["csrf_token"]
    secret = call("POST", "/api/v1/me/totp")["secret"]
    call("POST", "/api/v1/me/totp/confirm", {"code": totp(secret)})
    me = call("GET", "/api/v1/me")
    call("POST", "/api/v1/groups", {"name": "Bench"})
    call("PUT", f"/api/v1/groups/Bench/members/{me['id']}")
    call("POST", "/api/v1/vpn/rules", {"group": "Bench", "network": "10.20.0.0/24"})
    conf = call("POST", "/api/v1/vpn/devices", {"name": "bench"})["config"]
    path = wg_up(f"vb{ID}v", conf)
    t0 = time.monotonic()
    call("POST", "/api/v1/vpn/sessions")
    first_connect = wait_reach(True, 15)
    sid = call("GET", "/api/v1/vpn/sessions")[0]["id"]
    t0 = time.monotonic()
    call("DELETE", f"/api/v1/vpn/sessions/{sid}")
    revoke = wait_reach(False, 10)
    # A returning device: the gateway knows its address and starts the handshake itself.
    call("POST", "/api/v1/vpn/sessions")
    connect = wait_reach(True, 15)
    bps, cpu_gb = iperf(p.pid)
    ns(HOME, "wg-quick", "down", path)
    os.remove(path)
    p.terminate()
    p.wait(timeout=20)
    return bps, cpu_gb, first_connect, connect, revoke


def wggo_run():
    gw_key = sh("wg", "genkey").stdout.strip()
    gw_pub = subprocess.run(["wg", "pubkey"], input=gw_key, capture_output=True, text=True).stdout.strip()
    cl_key = sh("wg", "genkey").stdout.strip()
    cl_pub = subprocess.run(["wg", "pubkey"], input=cl_key, capture_output=True, text=True).stdout.strip()
    iface = f"vb{ID}w"
    p = subprocess.Popen(["ip", "netns", "exec", GW, "wireguard-go", "-f", iface], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(p)
    for _ in range(100):
        if ns(GW, "ip", "link", "show", iface, check=False).returncode == 0:
            break
        time.sleep(0.05)
    keyfile = os.path.join(WORK, "gw.key")
    open(keyfile, "w").write(gw_key)
    ns(GW, "wg", "set", iface, "listen-port", str(PORT_WG), "private-key", keyfile, "peer", cl_pub, "allowed-ips", "10.13.0.2/32")
    ns(GW, "ip", "addr", "add", "10.13.0.1/24", "dev", iface)
    ns(GW, "ip", "link", "set", iface, "mtu", "1420", "up")
    conf = (f"[Interface]\nPrivateKey = {cl_key}\nAddress = 10.13.0.2/32\n\n[Peer]\nPublicKey = {gw_pub}\n"
            f"AllowedIPs = 10.20.0.0/24\nEndpoint = 10.99.1.1:{PORT_WG}\nPersistentKeepalive = 25\n")
    path = wg_up(f"vb{ID}x", conf)
    wait_reach(True, 15)
    bps, cpu_gb = iperf(p.pid)
    ns(HOME, "wg-quick", "down", path)
    os.remove(path)
    p.kill()
    return bps, cpu_gb


try:
    build()
    ns(GW, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward")
    v_bps, v_cpu, v_first, v_connect, v_revoke = veilig_run()
    w_bps, w_cpu = wggo_run()
finally:
    teardown()

print(f"veilig gateway:       {v_bps / 1e6:8.0f} Mbit/s  {v_cpu:6.2f} CPU-s/GB  first connect {v_first * 1000:.0f} ms, returning device {v_connect * 1000:.0f} ms, revoke {v_revoke * 1000:.0f} ms")
print(f"wireguard-go gateway: {w_bps / 1e6:8.0f} Mbit/s  {w_cpu:6.2f} CPU-s/GB")
print(f"RESULT throughput_ratio={v_bps / w_bps:.2f} gateway_cpu_per_gb_ratio={v_cpu / w_cpu:.2f} "
      f"connect_to_first_packet_ms={v_connect * 1000:.0f} first_ever_connect_ms={v_first * 1000:.0f} revoke_to_drop_ms={v_revoke * 1000:.0f}")
