#!/usr/bin/env python3
"""Creates the first administrator of a fresh Veilig through its API (setup link token, TOTP)
and prints the Cookie header of the signed-in session. Standard library only."""
import base64, hashlib, hmac, http.cookiejar, json, struct, sys, time, urllib.request

base, token = sys.argv[1], sys.argv[2]
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

def call(path, body=None, csrf=""):
    req = urllib.request.Request(base + path, data=json.dumps(body or {}).encode(), method="POST",
                                 headers={"content-type": "application/json", "x-csrf-token": csrf})
    with opener.open(req) as r:
        return json.loads(r.read() or b"{}")

def totp(secret_b32):
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    o = digest[19] & 15
    return "%06d" % ((struct.unpack(">I", digest[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)

csrf = call("/api/v1/setup", {"token": token, "email": "bench@gemeente.nl", "password": "paarse fiets onder de brug"})["csrf_token"]
secret = call("/api/v1/me/totp", csrf=csrf)["secret"]
call("/api/v1/me/totp/confirm", {"code": totp(secret)}, csrf=csrf)
print("; ".join(f"{c.name}={c.value}" for c in jar))
