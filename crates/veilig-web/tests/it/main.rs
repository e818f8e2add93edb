//! The web shell through real HTTP on a loopback port, against a real database.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Tests may stop on failure.

mod api;
mod pages;

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
    pub rt: tokio::runtime::Runtime,
    pub agent: http::Agent,
}

impl TestApp {
    pub fn start() -> TestApp {
        Self::with(Overrides::default())
    }

    pub fn with(overrides: Overrides) -> TestApp {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let (base, clock, store) = rt.block_on(async {
            let db = veilig_testkit::fresh_database().await;
            let overrides = Overrides { database_url: Some(db.url.clone()), data: Some(db.data_dir.display().to_string()), ..overrides };
            let config = Config::load(&overrides, None).unwrap();
            let store = Store::connect(&db.url, 4).await.unwrap();
            store.migrate().await.unwrap();
            let clock = Arc::new(FakeClock::new(time::macros::datetime!(2026-11-20 09:00 UTC)));
            let state = veilig_web::AppState::new(store.clone(), clock.clone(), config, EventBus::default());
            let app = veilig_web::router(state);
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move {
                axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
            });
            (format!("http://{addr}"), clock, store)
        });
        TestApp { base, clock, store, rt, agent: http::agent() }
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
