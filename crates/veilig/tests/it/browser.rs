//! Real headless Chromium against a real server: what a person sees and does.

use veilig_testkit::Browser;

use crate::{PASSWORD, setup_link, totp_now};

/// Fills the form fields by CSS selector and submits with the button.
pub fn fill(b: &Browser, fields: &[(&str, &str)], submit: &str) {
    for (css, value) in fields {
        let el = b.find(css);
        b.type_text(&el, value);
    }
    b.click(&b.find(submit));
}

/// Sets up an authenticator app on the factor page and returns its secret.
pub fn confirm_app(b: &Browser) -> String {
    let secret = b.text(&b.find("#totp-secret"));
    fill(b, &[("#code", &totp_now(&secret))], "form.stack button[type=submit]");
    b.wait_for_text("h1", "herstelcodes");
    secret
}

#[test]
fn administrator_sets_up_signs_in_and_invites_an_employee_in_chromium() {
    // Passkeys need a domain name: the browser talks to localhost.
    let server = crate::start(&["--public-url", "http://localhost:{port}"]);
    let link = setup_link(&server);
    assert!(link.starts_with("http://localhost:"), "{link}");
    let url = |path: &str| format!("http://localhost:{}{path}", server.port);
    let b = Browser::start(1280, 860);

    // The setup link: account, then the authenticator app, then recovery codes.
    b.goto(&link);
    assert_eq!(b.text(&b.find("h1")), "Veilig instellen");
    fill(
        &b,
        &[("#email", "beheer@gemeente.nl"), ("#name", "Anna de Beheerder"), ("#password", PASSWORD), ("#password2", PASSWORD)],
        "form.stack button",
    );
    b.wait_for_text("h1", "Tweede factor instellen");
    assert!(b.execute("return document.querySelector('svg.qr path').getAttribute('d').length > 100", vec![]) == true, "a QR code is drawn");
    b.save_screenshot("setup-factor-nl.png");
    let secret = confirm_app(&b);
    assert_eq!(b.execute("return document.querySelectorAll('#recovery-codes li').length", vec![]), 10);
    b.click(&b.find("#codes-saved"));
    b.wait_for_text("h1", "Overzicht");
    b.save_screenshot("home-nl.png");

    // Keyboard: the first Tab reaches the skip link.
    b.press_key("\u{E004}");
    assert_eq!(b.execute("return document.activeElement.className", vec![]), "skip");

    // The audit log shows what happened, filtered live with htmx.
    b.click(&b.find("a[hreflang=en]"));
    b.wait_for_text("h1", "Overview");
    b.goto(&url("/audit"));
    b.type_text(&b.find("#f-action"), "identity.");
    b.wait_for_text("#audit-rows", "identity.enrolled");
    b.click(&b.find("button[hx-get='/audit/verify']"));
    b.wait_for_text("#verify-result", "Chain intact");
    b.save_screenshot("audit-en.png");
    b.click(&b.find("a[hreflang=nl]"));

    // Sign out and in again: password, then the app's code.
    b.click(&b.find("form.logout button"));
    b.wait_for_text("h1", "Inloggen");
    b.save_screenshot("login-nl.png");
    fill(&b, &[("#email", "beheer@gemeente.nl"), ("#password", PASSWORD)], "form.stack button");
    b.wait_for_text("h1", "Tweede factor");
    fill(&b, &[("#code", "000000")], "form.stack button");
    b.wait_for_text(".error", "klopt niet");
    // The code used at enrolment is spent; wait for the next one.
    let first = totp_now(&secret);
    while totp_now(&secret) == first {
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    fill(&b, &[("#code", &totp_now(&secret))], "form.stack button");
    b.wait_for_text("h1", "Overzicht");

    // Invite an employee; the link appears on the page.
    b.goto(&url("/admin/users"));
    fill(&b, &[("#i-email", "medewerker@gemeente.nl"), ("#i-name", "Mo Medewerker")], "form.filters button");
    let enroll_link = b.text(&b.find("#enroll-link"));
    assert!(enroll_link.contains("/enroll/"), "{enroll_link}");
    b.save_screenshot("users-nl.png");

    // The employee enrols on a phone, with a passkey (Chromium's virtual authenticator).
    let phone = Browser::start(390, 844);
    let authenticator = phone.add_virtual_authenticator();
    phone.goto(&enroll_link);
    phone.wait_for_text("h1", "Account activeren");
    fill(&phone, &[("#password", "groene appel naast de kachel"), ("#password2", "groene appel naast de kachel")], "form.stack button");
    phone.wait_for_text("h1", "Tweede factor instellen");
    phone.save_screenshot("enroll-factor-nl-phone.png");
    phone.click(&phone.find("#passkey-register"));
    phone.wait_for_text("#passkey-codes", "-");
    assert_eq!(phone.execute("return document.querySelectorAll('#passkey-codes li').length", vec![]), 10);
    assert_eq!(phone.virtual_credentials(&authenticator).len(), 1, "the passkey lives in the authenticator");
    phone.click(&phone.find("#passkey-done-link"));
    phone.wait_for_text("h1", "Mijn account");
    phone.wait_for_text("main", "passkey");
    let fits = phone.execute("return document.documentElement.scrollWidth <= window.innerWidth + 1", vec![]);
    assert_eq!(fits, true, "the account page fits a phone");
    phone.save_screenshot("me-nl-phone.png");

    // Signed out, the employee signs in with the passkey alone: no password, no code.
    phone.click(&phone.find("form.logout button"));
    phone.wait_for_text("h1", "Inloggen");
    phone.click(&phone.find("#passkey-login"));
    phone.wait_for_text("h1", "Mijn account");
    assert!(phone.current_url().ends_with("/me"), "{}", phone.current_url());

    // A replayed passkey assertion is refused: each challenge answers once.
    let replay = phone.execute_async(REPLAY_SCRIPT, vec![]);
    assert_eq!(replay, serde_json::json!([200, 401]), "{replay}");

    // The audit log tells the administrator how.
    b.goto(&url("/api/v1/audit?action=identity.login&limit=5"));
    b.wait_for_text("body", "passkey_passwordless");
}

#[test]
fn pages_fit_a_phone_screen() {
    let server = crate::start(&[]);
    let b = Browser::start(390, 844);
    for path in ["/login", &setup_link(&server).replace(&server.base, "")] {
        b.goto(&server.url(path));
        b.find("h1");
        let fits = b.execute("return document.documentElement.scrollWidth <= window.innerWidth + 1", vec![]);
        assert_eq!(fits, true, "{path} scrolls sideways on a phone");
    }
    b.goto(&server.url("/login"));
    b.save_screenshot("login-nl-phone.png");
}

/// Signs in passwordless and then sends the very same assertion a second time.
const REPLAY_SCRIPT: &str = r#"
var done = arguments[arguments.length - 1];
(async function () {
  function dec(s) { s = s.replace(/-/g, "+").replace(/_/g, "/"); while (s.length % 4) s += "=";
    var b = atob(s), o = new Uint8Array(b.length); for (var i = 0; i < b.length; i++) o[i] = b.charCodeAt(i); return o.buffer; }
  function enc(buf) { var a = new Uint8Array(buf), s = ""; for (var i = 0; i < a.length; i++) s += String.fromCharCode(a[i]);
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""); }
  var csrf = document.querySelector("meta[name=csrf-token]").content;
  async function post(url, body) {
    return fetch(url, { method: "POST", credentials: "same-origin", headers: { "content-type": "application/json", "x-csrf-token": csrf }, body: JSON.stringify(body) });
  }
  var begun = await (await post("/api/v1/passkey/begin", {})).json();
  var pk = begun.options.publicKey;
  pk.challenge = dec(pk.challenge);
  (pk.allowCredentials || []).forEach(function (c) { c.id = dec(c.id); });
  var c = await navigator.credentials.get({ publicKey: pk });
  var payload = { challenge_id: begun.challenge_id, credential: { id: c.id, rawId: enc(c.rawId), type: c.type, extensions: {},
    response: { authenticatorData: enc(c.response.authenticatorData), clientDataJSON: enc(c.response.clientDataJSON),
      signature: enc(c.response.signature), userHandle: c.response.userHandle ? enc(c.response.userHandle) : null } } };
  var first = await post("/api/v1/passkey/finish", payload);
  var second = await post("/api/v1/passkey/finish", payload);
  done([first.status, second.status]);
})().catch(function (e) { done(String(e)); });
"#;
