//! A WebDriver client for Debian's headless Chromium, started with its own chromedriver on a
//! free port. Only the few commands the tests need.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    agent: ureq::Agent,
    _profile: std::path::PathBuf,
}

/// A found element.
#[derive(Debug, Clone)]
pub struct Element(String);

impl Browser {
    /// Starts chromedriver and a headless Chromium with a fresh profile, in a phone-sized or
    /// desktop-sized window, with a Dutch browser (as most of Veilig's users have).
    pub fn start(width: u32, height: u32) -> Browser {
        Self::start_with_language(width, height, "nl-NL,nl")
    }

    /// Like [`Browser::start`], with the browser's `Accept-Language`.
    pub fn start_with_language(width: u32, height: u32, accept_language: &str) -> Browser {
        let port = crate::free_port();
        let driver = Command::new(std::env::var("VEILIG_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".to_owned()))
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start chromedriver ({e}); scripts/test installs chromium-driver"));
        let base = format!("http://127.0.0.1:{port}");
        let agent = crate::http::agent();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(mut res) = agent.get(&format!("{base}/status")).call() {
                let ready = res.body_mut().read_json::<Value>().ok().and_then(|v| v["value"]["ready"].as_bool()).unwrap_or(false);
                if ready {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "chromedriver did not become ready");
            std::thread::sleep(Duration::from_millis(50));
        }
        let profile = crate::temp_dir("chromium");
        let binary = std::env::var("VEILIG_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": binary,
                "prefs": {"intl": {"accept_languages": accept_language}},
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-quic", "--no-first-run", "--disable-extensions", "--hide-scrollbars",
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.display()),
                ]
            }
        }}});
        let mut browser = Browser { driver, base, session: String::new(), agent, _profile: profile };
        let v = browser.call("POST", "/session", Some(caps));
        browser.session = v["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {v}")).to_owned();
        browser
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let res = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            ("DELETE", _) => self.agent.delete(&url).call(),
            (_, Some(b)) => self.agent.post(&url).send_json(b),
            (_, None) => self.agent.post(&url).send_json(json!({})),
        };
        let mut res = res.unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
        let status = res.status().as_u16();
        let v: Value = res.body_mut().with_config().limit(64 << 20).read_json().unwrap_or(Value::Null);
        assert!(status < 400, "WebDriver {method} {path} -> {status}: {v}");
        v["value"].clone()
    }

    fn s(&self, path: &str) -> String {
        format!("/session/{}{path}", self.session)
    }

    pub fn goto(&self, url: &str) {
        self.call("POST", &self.s("/url"), Some(json!({"url": url})));
    }

    pub fn current_url(&self) -> String {
        self.call("GET", &self.s("/url"), None).as_str().unwrap_or_default().to_owned()
    }

    pub fn title(&self) -> String {
        self.call("GET", &self.s("/title"), None).as_str().unwrap_or_default().to_owned()
    }

    /// Finds an element by CSS selector, waiting up to 10 s for it to appear.
    pub fn find(&self, css: &str) -> Element {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let url = format!("{}{}", self.base, self.s("/element"));
            let found = self.agent.post(&url).send_json(json!({"using": "css selector", "value": css})).ok().and_then(|mut r| {
                let ok = r.status().as_u16() < 400;
                let v: Value = r.body_mut().read_json().ok()?;
                ok.then(|| v["value"][ELEMENT_KEY].as_str().map(str::to_owned)).flatten()
            });
            if let Some(id) = found {
                return Element(id);
            }
            assert!(Instant::now() < deadline, "no element matches {css}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn click(&self, el: &Element) {
        self.call("POST", &self.s(&format!("/element/{}/click", el.0)), Some(json!({})));
    }

    pub fn type_text(&self, el: &Element, text: &str) {
        self.call("POST", &self.s(&format!("/element/{}/value", el.0)), Some(json!({"text": text})));
    }

    pub fn text(&self, el: &Element) -> String {
        self.call("GET", &self.s(&format!("/element/{}/text", el.0)), None).as_str().unwrap_or_default().to_owned()
    }

    /// Runs JavaScript in the page and returns its result.
    pub fn execute(&self, script: &str, args: Vec<Value>) -> Value {
        self.call("POST", &self.s("/execute/sync"), Some(json!({"script": script, "args": args})))
    }

    /// Runs asynchronous JavaScript: the script calls its last argument with the result.
    pub fn execute_async(&self, script: &str, args: Vec<Value>) -> Value {
        self.call("POST", &self.s("/execute/async"), Some(json!({"script": script, "args": args})))
    }

    /// Waits until `css` matches an element whose text contains `needle` (through page loads).
    pub fn wait_for_text(&self, css: &str, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        let url = format!("{}{}", self.base, self.s("/execute/sync"));
        let script = "var e = document.querySelector(arguments[0]); return e ? e.innerText : null;";
        let mut last = String::new();
        loop {
            let text = self.agent.post(&url).send_json(json!({"script": script, "args": [css]})).ok().and_then(|mut r| {
                let v: Value = r.body_mut().read_json().ok()?;
                v["value"].as_str().map(str::to_owned)
            });
            if let Some(text) = text {
                if text.contains(needle) {
                    return text;
                }
                last = text;
            }
            assert!(Instant::now() < deadline, "{css} never contained {needle:?}; last text: {last:?}; at {}", self.current_url());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Presses one key (a WebDriver key code such as `\u{E004}` for Tab) on the focused element.
    pub fn press_key(&self, key: &str) {
        let actions = json!({"actions": [{"type": "key", "id": "keyboard", "actions": [
            {"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}
        ]}]});
        self.call("POST", &self.s("/actions"), Some(actions));
    }

    /// Saves a PNG of the viewport under the repository's `docs/screenshots/`.
    pub fn save_screenshot(&self, name: &str) -> std::path::PathBuf {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots");
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join(name);
        let png = self.screenshot();
        assert!(png.starts_with(b"\x89PNG"), "the screenshot is not a PNG");
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        path
    }

    /// A PNG of the viewport.
    pub fn screenshot(&self) -> Vec<u8> {
        let b64 = self.call("GET", &self.s("/screenshot"), None);
        base64::engine::general_purpose::STANDARD.decode(b64.as_str().unwrap_or_default()).unwrap_or_default()
    }

    /// Adds a virtual platform authenticator (a passkey store with user verification) to the
    /// browser, through WebDriver's WebAuthn extension.
    pub fn add_virtual_authenticator(&self) -> String {
        let v = self.command(
            "POST",
            "/webauthn/authenticator",
            Some(json!({
                "protocol": "ctap2", "transport": "internal", "hasResidentKey": true,
                "hasUserVerification": true, "isUserVerified": true, "automaticPresenceSimulation": true
            })),
        );
        v.as_str().unwrap_or_default().to_owned()
    }

    /// The credentials a virtual authenticator holds.
    pub fn virtual_credentials(&self, authenticator: &str) -> Vec<Value> {
        self.command("GET", &format!("/webauthn/authenticator/{authenticator}/credentials"), None).as_array().cloned().unwrap_or_default()
    }

    /// Sets a cookie for the current page's site (navigate there first).
    pub fn add_cookie(&self, name: &str, value: &str) {
        self.command("POST", "/cookie", Some(json!({"cookie": {"name": name, "value": value, "path": "/"}})));
    }

    /// Sends a raw WebDriver command for this session (for example the WebAuthn extension).
    pub fn command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.call(method, &self.s(path), body)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.agent.delete(&format!("{}/session/{}", self.base, self.session)).call();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
