// Passkeys and security keys in the browser: turns the server's WebAuthn options into the
// browser's calls and the answers back into JSON. No inline script: buttons carry
// data-passkey="register|second|passwordless".
(function () {
  "use strict";
  function enc(buf) {
    var bytes = new Uint8Array(buf), s = "";
    for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function dec(str) {
    var s = str.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function csrf() {
    var m = document.querySelector("meta[name=csrf-token]");
    return m ? m.content : "";
  }
  async function post(url, body) {
    var r = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", "x-csrf-token": csrf() },
      body: JSON.stringify(body || {})
    });
    var j = {};
    try { j = await r.json(); } catch (e) { j = {}; }
    if (!r.ok) throw new Error((j.error && j.error.message) || ("HTTP " + r.status));
    return j;
  }
  function creation(o) {
    var p = o.publicKey;
    p.challenge = dec(p.challenge);
    p.user.id = dec(p.user.id);
    (p.excludeCredentials || []).forEach(function (c) { c.id = dec(c.id); });
    // Ask for a discoverable credential where the authenticator can keep one, so the same
    // passkey also works for passwordless sign-in.
    p.authenticatorSelection = Object.assign({}, p.authenticatorSelection, { residentKey: "preferred", requireResidentKey: false });
    return { publicKey: p };
  }
  function request(o) {
    var p = o.publicKey;
    p.challenge = dec(p.challenge);
    (p.allowCredentials || []).forEach(function (c) { c.id = dec(c.id); });
    return { publicKey: p };
  }
  function extensions(c) {
    return c.getClientExtensionResults ? c.getClientExtensionResults() : {};
  }
  function registration(c) {
    return {
      id: c.id, rawId: enc(c.rawId), type: c.type, extensions: extensions(c),
      response: { attestationObject: enc(c.response.attestationObject), clientDataJSON: enc(c.response.clientDataJSON) }
    };
  }
  function assertion(c) {
    return {
      id: c.id, rawId: enc(c.rawId), type: c.type, extensions: extensions(c),
      response: {
        authenticatorData: enc(c.response.authenticatorData), clientDataJSON: enc(c.response.clientDataJSON),
        signature: enc(c.response.signature), userHandle: c.response.userHandle ? enc(c.response.userHandle) : null
      }
    };
  }
  function say(btn, text) {
    var s = document.getElementById(btn.dataset.status || "passkey-status");
    if (s) s.textContent = text;
  }
  async function register(btn) {
    var options = await post("/api/v1/me/passkey/begin");
    var cred = await navigator.credentials.create(creation(options));
    var nameField = document.getElementById("passkey-name");
    var res = await post("/api/v1/me/passkey/finish", { credential: registration(cred), name: nameField ? nameField.value : "" });
    if (res.recovery_codes && res.recovery_codes.length) {
      var list = document.getElementById("passkey-codes");
      res.recovery_codes.forEach(function (code) {
        var li = document.createElement("li"), el = document.createElement("code");
        el.textContent = code;
        li.appendChild(el);
        list.appendChild(li);
      });
      document.getElementById("passkey-done").hidden = false;
      document.getElementById("passkey-done-link").href = res.next;
      document.getElementById("factor-choice").hidden = true;
    } else {
      window.location.assign(res.next);
    }
  }
  async function second(btn) {
    var options = await post("/api/v1/login/passkey/begin");
    var cred = await navigator.credentials.get(request(options));
    await post("/api/v1/login/passkey/finish", { credential: assertion(cred) });
    window.location.assign(btn.dataset.next || "/");
  }
  async function passwordless(btn) {
    var begun = await post("/api/v1/passkey/begin");
    var cred = await navigator.credentials.get(request(begun.options));
    await post("/api/v1/passkey/finish", { challenge_id: begun.challenge_id, credential: assertion(cred) });
    window.location.assign(btn.dataset.next || "/");
  }
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("[data-passkey]");
    if (!btn) return;
    ev.preventDefault();
    if (!window.PublicKeyCredential) {
      say(btn, btn.dataset.unsupported || "This browser does not support passkeys.");
      return;
    }
    var run = { register: register, second: second, passwordless: passwordless }[btn.dataset.passkey];
    btn.disabled = true;
    say(btn, btn.dataset.busy || "");
    run(btn).catch(function (e) {
      btn.disabled = false;
      say(btn, (btn.dataset.failed || "") + " " + e.message);
    });
  });
})();
