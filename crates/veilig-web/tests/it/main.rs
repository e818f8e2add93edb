//! The web shell through real HTTP on a loopback port, against a real database.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Tests may stop on failure.

mod api;
mod cloud;
mod devices;
mod identity;
mod monitor;
mod pages;
mod pseudo;
mod vpn;

use std::net::SocketAddr;
use std::sync::Arc;

use veilig_core::{Config, EventBus, FakeClock, Overrides};
use veilig_store::Store;
use veilig_testkit::http::{self, Reply};

/// The router served in-process on a free port, with a fake clock.
pub struct TestApp {
    pub base: String,
    pub clock: Arc<FakeClock>,
    pub store: Store,
    pub identity: veilig_identity::Identity,
    pub vpn: veilig_vpn::Vpn,
    pub ingest: Arc<veilig_ingest::Ingest>,
    pub devices: veilig_compliance::Devices,
    pub rt: tokio::runtime::Runtime,
    pub agent: http::Agent,
    /// The CSRF token of `agent`'s browser session, once signed in.
    pub csrf: std::cell::RefCell<String>,
}

/// An account made by a test, with what is needed to sign in again.
#[derive(Debug, Clone)]
pub struct Account {
    pub email: String,
    pub password: String,
    pub secret: Vec<u8>,
    pub recovery_codes: Vec<String>,
}

pub const PASSWORD: &str = "paarse fiets onder de brug";

impl TestApp {
    pub fn start() -> TestApp {
        Self::with(Overrides::default())
    }

    pub fn with(overrides: Overrides) -> TestApp {
        Self::with_config(overrides, |_| {})
    }

    /// Like [`TestApp::with`], with a last change to the checked configuration. The VPN is on
    /// (without a data plane) with 10.20.0.0/16 behind it.
    pub fn with_config(overrides: Overrides, change: impl FnOnce(&mut Config)) -> TestApp {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let (base, clock, store, identity, vpn, ingest, devices) = rt.block_on(async {
            let db = veilig_testkit::fresh_database().await;
            let overrides = Overrides { database_url: Some(db.url.clone()), data: Some(db.data_dir.display().to_string()), ..overrides };
            let mut config = Config::load(&overrides, None).unwrap();
            config.vpn.enabled = true;
            config.vpn.networks = vec!["10.20.0.0/16".parse().unwrap()];
            config.vpn.endpoint = "vpn.gemeente.nl:51820".into();
            change(&mut config);
            let store = Store::connect(&db.url, 4).await.unwrap();
            store.migrate().await.unwrap();
            let clock = Arc::new(FakeClock::new(time::macros::datetime!(2026-11-20 09:00 UTC)));
            let bus = EventBus::default();
            let identity = veilig_identity::Identity {
                store: store.clone(),
                clock: clock.clone(),
                hasher: veilig_identity::password::Hasher::new(2, 1024, 1).unwrap(),
                secrets: veilig_identity::crypto::SecretBox::new(&[7u8; 32]),
                bus: bus.clone(),
                settings: veilig_identity::IdentitySettings::default(),
                passkeys: None,
            };
            let vpn = veilig_vpn::Vpn::new(
                store.clone(),
                clock.clone(),
                bus.clone(),
                config.vpn.clone(),
                veilig_vpn::engine::KeyPair::generate(),
            );
            let respond = veilig_respond::Responder::new(
                store.clone(),
                bus.clone(),
                clock.clone(),
                config.response.clone(),
                None,
                veilig_identity::crypto::SecretBox::new(&[7u8; 32]),
                "http://veilig.test",
            );
            let ingest = veilig_ingest::Ingest::new(store.clone(), bus.clone(), clock.clone());
            let devices = veilig_compliance::Devices::open(
                store.clone(),
                clock.clone(),
                bus.clone(),
                &veilig_identity::crypto::SecretBox::new(&[7u8; 32]),
                veilig_compliance::DevicesSettings {
                    organisation: "Gemeente Test".into(),
                    token_hours: 24,
                    cert_days: 365,
                    agent_url: Some("https://agent.veilig.test:8444".into()),
                    public_url: "http://veilig.test".into(),
                },
            )
            .await
            .unwrap();
            let capabilities = veilig_web::Capabilities {
                identity: identity.clone(),
                vpn: vpn.clone(),
                respond: respond.clone(),
                ingest: ingest.clone(),
                devices: devices.clone(),
                register: veilig_register::Register::new(store.clone(), clock.clone(), bus.clone()).unwrap(),
            };
            let state = veilig_web::AppState::new(store.clone(), clock.clone(), config, bus, capabilities);
            let app = veilig_web::router(state);
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move {
                axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
            });
            (format!("http://{addr}"), clock, store, identity, vpn, ingest, devices)
        });
        TestApp { base, clock, store, identity, vpn, ingest, devices, rt, agent: http::agent(), csrf: Default::default() }
    }

    /// A second handle on the same running app (another browser).
    pub fn another_browser(&self) -> TestApp {
        TestApp {
            base: self.base.clone(),
            clock: self.clock.clone(),
            store: self.store.clone(),
            identity: self.identity.clone(),
            vpn: self.vpn.clone(),
            ingest: self.ingest.clone(),
            devices: self.devices.clone(),
            rt: tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap(),
            agent: http::agent(),
            csrf: Default::default(),
        }
    }

    /// Invites `email` (into `groups`) and enrols them with a password and TOTP in another
    /// browser, which is returned signed in.
    pub fn employee(&self, email: &str, groups: &[&str]) -> (TestApp, Account) {
        let invited = self.api("POST", "/api/v1/users", Some(serde_json::json!({"email": email, "name": "Mede Werker", "groups": groups})));
        assert_eq!(invited.status, 201, "{}", invited.body);
        let token = invited.json()["enrollment_url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
        let employee = self.another_browser();
        let r =
            employee.api("POST", "/api/v1/enroll", Some(serde_json::json!({"token": token, "password": "groene appel naast de kachel"})));
        assert_eq!(r.status, 200, "{}", r.body);
        *employee.csrf.borrow_mut() = r.json()["csrf_token"].as_str().unwrap().to_owned();
        let mut account = employee.enrol_totp(email);
        account.password = "groene appel naast de kachel".into();
        (employee, account)
    }

    /// Sends a JSON API request with this browser's cookies and CSRF token.
    pub fn api(&self, method: &str, path: &str, body: Option<serde_json::Value>) -> Reply {
        let csrf = self.csrf.borrow().clone();
        http::send(&self.agent, method, &format!("{}{path}", self.base), &[("x-csrf-token", &csrf)], body.as_ref())
    }

    /// The current TOTP code for `secret` on the app's fake clock.
    pub fn code(&self, secret: &[u8]) -> String {
        let now = veilig_core::Clock::now(&*self.clock).unix_timestamp();
        format!("{:06}", veilig_identity::totp::code_at(secret, veilig_identity::totp::step_of(now)))
    }

    /// Lets the clock move past the current TOTP step, so a new code can be used.
    pub fn next_step(&self) {
        self.clock.advance(time::Duration::seconds(30));
    }

    /// Creates the first administrator through the setup API, with an authenticator app, and
    /// leaves this app's agent signed in as them.
    pub fn sign_in_admin(&self) -> Account {
        let token = self.rt.block_on(self.identity.issue_setup_token()).unwrap();
        let email = "beheer@gemeente.nl";
        let r = http::post_json(
            &self.agent,
            &format!("{}/api/v1/setup", self.base),
            &serde_json::json!({"token": token, "email": email, "name": "Beheer", "password": PASSWORD}),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        *self.csrf.borrow_mut() = r.json()["csrf_token"].as_str().unwrap().to_owned();
        let account = self.enrol_totp(email);
        assert_eq!(self.api("GET", "/api/v1/me", None).status, 200);
        account
    }

    /// Adds and confirms an authenticator app for the session in `agent`.
    pub fn enrol_totp(&self, email: &str) -> Account {
        let t = self.api("POST", "/api/v1/me/totp", None);
        assert_eq!(t.status, 200, "{}", t.body);
        let secret = veilig_testkit::base32_decode(t.json()["secret"].as_str().unwrap());
        let c = self.api("POST", "/api/v1/me/totp/confirm", Some(serde_json::json!({"code": self.code(&secret)})));
        assert_eq!(c.status, 200, "{}", c.body);
        let recovery_codes = c.json()["recovery_codes"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect();
        Account { email: email.to_owned(), password: PASSWORD.to_owned(), secret, recovery_codes }
    }

    /// Signs in with password and TOTP from scratch (moving the clock to a fresh step first).
    pub fn login(&self, a: &Account) -> Reply {
        self.next_step();
        let r = self.api("POST", "/api/v1/login", Some(serde_json::json!({"email": a.email, "password": a.password})));
        if r.status != 200 {
            return r;
        }
        *self.csrf.borrow_mut() = r.json()["csrf_token"].as_str().unwrap().to_owned();
        self.api("POST", "/api/v1/login/totp", Some(serde_json::json!({"code": self.code(&a.secret)})))
    }

    pub fn get(&self, path: &str) -> Reply {
        http::get(&self.agent, &format!("{}{path}", self.base))
    }

    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        http::get_with(&self.agent, &format!("{}{path}", self.base), headers)
    }

    pub fn post_raw(&self, path: &str, content_type: &str, body: &[u8]) -> Reply {
        http::post_raw(&self.agent, &format!("{}{path}", self.base), content_type, body)
    }

    /// Appends an audit record directly, as a capability would.
    pub fn audit(&self, actor: &str, action: &str) {
        let now = veilig_core::Clock::now_ms(&*self.clock);
        self.rt.block_on(self.store.audit(now, &veilig_audit::Entry::new(actor, action, "target"))).unwrap();
    }
}

/// The headers every response must carry.
pub fn assert_security_headers(r: &Reply) {
    let csp = r.header("content-security-policy").expect("CSP");
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(r.header("x-frame-options"), Some("DENY"));
}
