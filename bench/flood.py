#!/usr/bin/env python3
"""Sends wrong-password logins at a fixed rate for a while, each from a different (forwarded)
documentation-range address and account, so every one costs a password hash on the server.
Prints how many were sent and the answers by status. Only talks to the URL it is given."""
import collections, json, sys, threading, time, urllib.error, urllib.request

base, rate, seconds = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
statuses = collections.Counter()
lock = threading.Lock()

def one(i):
    body = json.dumps({"email": f"niemand{i}@gemeente.nl", "password": "verkeerd wachtwoord 123"}).encode()
    fwd = f"203.0.113.{i % 250 + 1}, 198.51.100.{(i // 250) % 250 + 1}"
    req = urllib.request.Request(base + "/api/v1/login", data=body, method="POST",
                                 headers={"content-type": "application/json", "x-forwarded-for": fwd})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            code = r.status
    except urllib.error.HTTPError as e:
        code = e.code
    except Exception:
        code = "error"
    with lock:
        statuses[code] += 1

start, i, threads = time.monotonic(), 0, []
while time.monotonic() - start < seconds:
    due = start + i / rate
    now = time.monotonic()
    if due > now:
        time.sleep(due - now)
    t = threading.Thread(target=one, args=(i,), daemon=True)
    t.start()
    threads.append(t)
    i += 1
for t in threads:
    t.join(timeout=60)
print(json.dumps({"sent": i, "seconds": seconds, "statuses": {str(k): v for k, v in statuses.items()}}))
