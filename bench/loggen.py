#!/usr/bin/env python3
"""Veilig's own log generator for the monitoring benchmark and detection checks.

Writes N syslog lines in eight formats at once (pfSense/OPNsense filterlog, FortiGate,
Cisco ASA, Windows Firewall pfirewall.log, MikroTik, OpenVPN, sshd, netfilter/ufw), over IPv4
and IPv6, with attacks of other shapes than the shared generator's, hidden in background
traffic, and OUT.truth.json naming the attackers per class:

  fast_scan          pf filterlog blocks: 30 ports within a minute
  slow_scan          Cisco ASA denies: 60 ports, one every 70 seconds
  horizontal_scan    Windows Firewall drops: one port on 30 hosts within 5 minutes
  vpn_brute_force    FortiGate SSL-VPN login failures: 15 within 5 minutes
  password_spraying  sshd over IPv6: 8 accounts, one try each, within 10 minutes
  success_after      OpenVPN: 6 failed logins, then a connection
  device_brute_force MikroTik: 12 failed logins within 4 minutes
  ufw_scan           ufw blocks over IPv6: 40 ports within 90 seconds

Background: many sources probing one to three ports a few times over hours (internet noise),
accepted traffic, and employees signing in. Deterministic for a seed.

usage: loggen.py OUT N [--seed 7] [--hours 6]
"""
import json
import random
import sys
from datetime import datetime, timedelta, timezone

START = datetime(2026, 11, 27, 0, 0, 0, tzinfo=timezone.utc)


def bsd(t):
    return t.strftime("%b %d %H:%M:%S").replace(" 0", "  ", 1) if t.day < 10 else t.strftime("%b %d %H:%M:%S")


def filterlog(t, src, dst, dport, action="block"):
    v6 = ":" in src
    proto = "6,tcp" if not v6 else "tcp,6"
    if v6:
        body = f"7,,,1000000103,igb0,match,{action},in,6,0x00,0x00000,64,{proto},60,{src},{dst},{random.randint(1024, 65535)},{dport},0,S,1,,64240,,mss"
    else:
        body = f"5,,,1000000103,igb0,match,{action},in,4,0x0,,64,0,0,DF,{proto},60,{src},{dst},{random.randint(1024, 65535)},{dport},0,S,1234,,64240,,mss"
    return f"<134>1 {t.strftime('%Y-%m-%dT%H:%M:%S.000Z')} fw01 filterlog 5423 - - {body}"


def asa_deny(t, src, dst, dport):
    return (f"<166>{t.strftime('%b %d %Y %H:%M:%S')} asa01 : %ASA-4-106023: Deny tcp src outside:{src}/{random.randint(1024, 65535)} "
            f"dst inside:{dst}/{dport} by access-group \"outside_in\" [0x0, 0x0]")


def winfw(t, action, src, dst, dport):
    return f"{t.strftime('%Y-%m-%d %H:%M:%S')} {action} TCP {src} {dst} {random.randint(1024, 65535)} {dport} 52 S 12345 0 64240 - - - RECEIVE 4"


def fortigate_vpn_fail(t, src, user):
    return (f"date={t.strftime('%Y-%m-%d')} time={t.strftime('%H:%M:%S')} devname=\"FGT60F\" logid=\"0101039426\" type=\"event\" "
            f"subtype=\"vpn\" level=\"alert\" logdesc=\"SSL VPN login fail\" action=\"ssl-login-fail\" remip={src} user=\"{user}\" "
            f"reason=\"sslvpn_login_permission_denied\"")


def fortigate_traffic(t, src, dst, dport, action):
    return (f"<189>date={t.strftime('%Y-%m-%d')} time={t.strftime('%H:%M:%S')} devname=\"FGT60F\" devid=\"FGT60FTK1\" "
            f"logid=\"0000000013\" type=\"traffic\" subtype=\"forward\" level=\"notice\" srcip={src} srcport={random.randint(1024, 65535)} "
            f"srcintf=\"wan1\" dstip={dst} dstport={dport} dstintf=\"lan\" proto=6 action=\"{action}\" policyid=1")


def mikrotik_fail(t, src, user):
    return f"{bsd(t)} mikrotik system,error,critical login failure for user {user} from {src} via winbox"


def mikrotik_drop(t, src, dst, dport):
    return (f"{bsd(t)} mikrotik firewall,info drop input: in:ether1 out:(unknown 0), src-mac 00:11:22:33:44:55, "
            f"proto TCP (SYN), {src}:{random.randint(1024, 65535)}->{dst}:{dport}, len 60")


def openvpn_fail(t, src):
    return f"{bsd(t)} vpn openvpn[812]: {src}:{random.randint(1024, 65535)} TLS Auth Error: Auth Username/Password verification failed for peer"


def openvpn_ok(t, src, user):
    return f"{bsd(t)} vpn openvpn[812]: {src}:1194 [{user}] Peer Connection Initiated with [AF_INET]{src}:1194"


def sshd(t, src, user, ok):
    port = random.randint(1024, 65535)
    if ok:
        return f"{bsd(t)} srv01 sshd[{random.randint(100, 9999)}]: Accepted publickey for {user} from {src} port {port} ssh2: ED25519 SHA256:Zm9v"
    return f"{bsd(t)} srv01 sshd[{random.randint(100, 9999)}]: Failed password for invalid user {user} from {src} port {port} ssh2"


def ufw(t, src, dst, dport, proto="TCP"):
    return (f"{bsd(t)} host kernel: [{random.randint(1, 99999)}.{random.randint(0, 999999)}] [UFW BLOCK] IN=enp3s0 OUT= MAC=aa "
            f"SRC={src} DST={dst} LEN=60 PROTO={proto} SPT={random.randint(1024, 65535)} DPT={dport} SYN")


class Ips:
    """Distinct public-looking addresses per purpose (outside the ranges rules treat specially)."""

    def __init__(self):
        self.used = set()

    def v4(self, first):
        while True:
            ip = f"{first}.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
            if ip not in self.used:
                self.used.add(ip)
                return ip

    def v6(self, prefix):
        while True:
            ip = f"{prefix}:{random.randint(1, 0xffff):x}:{random.randint(1, 0xffff):x}::{random.randint(1, 0xffff):x}"
            if ip not in self.used:
                self.used.add(ip)
                return ip


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        sys.exit(__doc__)
    out, n = args[0], int(args[1])
    seed = int(args[args.index("--seed") + 1]) if "--seed" in args else 7
    hours = float(args[args.index("--hours") + 1]) if "--hours" in args else 6.0
    random.seed(seed)
    span = timedelta(hours=hours)
    ips = Ips()
    lines = []
    truth = {}

    def at(offset_s):
        return START + timedelta(seconds=offset_s)

    def some_time(margin_s=0):
        return random.uniform(0, span.total_seconds() - margin_s)

    servers = [f"145.100.{random.randint(0, 3)}.{i}" for i in range(1, 40)]
    ports = list(range(1, 65535))

    truth["fast_scan"] = []
    for _ in range(10):
        src, t0 = ips.v4(random.choice([37, 45, 91, 185])), some_time(120)
        truth["fast_scan"].append(src)
        for i, p in enumerate(random.sample(ports, 30)):
            lines.append((t0 + i * 1.8, filterlog(at(t0 + i * 1.8), src, random.choice(servers), p)))
    truth["slow_scan"] = []
    for _ in range(5):
        src, t0 = ips.v4(random.choice([80, 89, 176])), some_time(60 * 75)
        truth["slow_scan"].append(src)
        for i, p in enumerate(random.sample(ports, 60)):
            lines.append((t0 + i * 70, asa_deny(at(t0 + i * 70), src, random.choice(servers), p)))
    truth["horizontal_scan"] = []
    for _ in range(5):
        src, t0 = ips.v4(random.choice([5, 62, 193])), some_time(400)
        truth["horizontal_scan"].append(src)
        port = random.choice([445, 3389, 5985, 22])
        for i in range(30):
            dst = f"145.101.{i // 250}.{i % 250 + 1}"
            lines.append((t0 + i * 10, winfw(at(t0 + i * 10), "DROP", src, dst, port)))
    truth["vpn_brute_force"] = []
    for _ in range(3):
        src, t0 = ips.v4(random.choice([103, 146, 178])), some_time(400)
        truth["vpn_brute_force"].append(src)
        for i in range(15):
            lines.append((t0 + i * 20, fortigate_vpn_fail(at(t0 + i * 20), src, random.choice(["jan", "admin", "piet.jansen"]))))
    truth["password_spraying"] = []
    for _ in range(3):
        src, t0 = ips.v6("2a0e:97c0"), some_time(700)
        truth["password_spraying"].append(src)
        for i, user in enumerate(["admin", "backup", "deploy", "oracle", "postgres", "ubuntu", "test", "support"]):
            lines.append((t0 + i * 70, sshd(at(t0 + i * 70), src, user, False)))
    truth["success_after"] = []
    for _ in range(3):
        src, t0 = ips.v4(random.choice([94, 109, 212])), some_time(600)
        truth["success_after"].append(src)
        for i in range(6):
            lines.append((t0 + i * 30, openvpn_fail(at(t0 + i * 30), src)))
        lines.append((t0 + 200, openvpn_ok(at(t0 + 200), src, "j.devries")))
    truth["device_brute_force"] = []
    for _ in range(2):
        src, t0 = ips.v4(random.choice([31, 77])), some_time(300)
        truth["device_brute_force"].append(src)
        for i in range(12):
            lines.append((t0 + i * 20, mikrotik_fail(at(t0 + i * 20), src, random.choice(["admin", "root", "support"]))))
    truth["ufw_scan"] = []
    for _ in range(4):
        src, t0 = ips.v6("2a06:4880"), some_time(120)
        truth["ufw_scan"].append(src)
        for i, p in enumerate(random.sample(ports, 40)):
            lines.append((t0 + i * 2.2, ufw(at(t0 + i * 2.2), src, "2a02:a400:1::10", p)))

    attack_lines = len(lines)
    # Background: internet noise (1-3 ports, a few probes each, spread over the span),
    # accepted traffic and employees' sign-ins, in every format.
    employees = [f"emp{i:03d}" for i in range(200)]
    office = [f"145.102.{i // 200}.{i % 200 + 1}" for i in range(200)]
    noisy = [ips.v4(random.choice([2, 41, 102, 154, 196])) for _ in range(max(1, (n - attack_lines) // 40))]
    common = [22, 23, 80, 443, 445, 3389, 8080, 25, 1433, 3306, 5900, 8443, 123, 53]
    while len(lines) < n:
        t = some_time()
        kind = random.random()
        if kind < 0.55:
            src = random.choice(noisy)
            port = random.choice(common[: 3 + hash(src) % 3])
            fmt = random.random()
            dst = random.choice(servers)
            if fmt < 0.25:
                line = filterlog(at(t), src, dst, port)
            elif fmt < 0.45:
                line = asa_deny(at(t), src, dst, port)
            elif fmt < 0.6:
                line = winfw(at(t), "DROP", src, dst, port)
            elif fmt < 0.75:
                line = fortigate_traffic(at(t), src, dst, port, "deny")
            elif fmt < 0.9:
                line = mikrotik_drop(at(t), src, dst, port)
            else:
                line = ufw(at(t), src, dst, port)
        elif kind < 0.85:
            src, dst = random.choice(office), f"93.184.{random.randint(0, 255)}.{random.randint(1, 254)}"
            fmt = random.random()
            if fmt < 0.4:
                line = filterlog(at(t), src, dst, 443, "pass")
            elif fmt < 0.7:
                line = winfw(at(t), "ALLOW", src, dst, 443)
            else:
                line = fortigate_traffic(at(t), src, dst, 443, "accept")
        else:
            i = random.randrange(len(employees))
            src = office[i]
            if random.random() < 0.5:
                line = sshd(at(t), src, employees[i], True)
            else:
                line = openvpn_ok(at(t), src, employees[i])
        lines.append((t, line))

    lines.sort(key=lambda x: x[0])
    with open(out, "w") as f:
        for _, line in lines[:n]:
            f.write(line + "\n")
    with open(out + ".truth.json", "w") as f:
        json.dump(truth, f, indent=1)
    print(f"{min(n, len(lines))} lines, {attack_lines} attack lines, {sum(len(v) for v in truth.values())} attackers", file=sys.stderr)


if __name__ == "__main__":
    main()
