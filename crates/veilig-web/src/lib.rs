//! The web shell: assembles the router from the capabilities' pages and API routes, and owns
//! what every request passes through (security headers, metrics, client address, language,
//! errors). Only this crate knows HTTP.

mod assets;
pub mod auth;
pub mod error;
pub mod i18n;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod qr;
mod views;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use veilig_core::{Config, EventBus, SharedClock};
use veilig_store::Store;

pub use error::{ApiError, ApiJson};
pub use i18n::Catalog;
pub use metrics::Metrics;

/// Everything a request handler may need. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub clock: SharedClock,
    pub config: Arc<Config>,
    pub bus: EventBus,
    pub metrics: Arc<Metrics>,
    pub identity: veilig_identity::Identity,
    pub vpn: veilig_vpn::Vpn,
    pub respond: veilig_respond::Responder,
    /// Device compliance: enrolment, reports, inventory, policy and access conditions.
    pub devices: veilig_compliance::Devices,
    /// The cloud register: services, assessments, employees' reports.
    pub register: veilig_register::Register,
    /// The live inputs (per-sender counts, samples of lines not understood).
    pub ingest: Arc<veilig_ingest::Ingest>,
    /// A random secret of this process that seals the pseudonymiser's keys handed to browsers.
    pub pseudo_key: Arc<[u8; 32]>,
    /// The organisation's term list (`[pseudo] terms_file`), read once; `veilig serve` refuses an
    /// invalid one before it gets here.
    pub pseudo_terms: Arc<veilig_pseudo::Terms>,
}

/// The capabilities the pages and API call into.
pub struct Capabilities {
    pub identity: veilig_identity::Identity,
    pub vpn: veilig_vpn::Vpn,
    pub respond: veilig_respond::Responder,
    pub ingest: Arc<veilig_ingest::Ingest>,
    pub devices: veilig_compliance::Devices,
    pub register: veilig_register::Register,
}

impl AppState {
    pub fn new(store: Store, clock: SharedClock, config: Config, bus: EventBus, c: Capabilities) -> Self {
        let pseudo_terms = Arc::new(veilig_pseudo::Terms::from_csv(config.pseudo.terms_csv.as_deref().unwrap_or("")).unwrap_or_default());
        AppState {
            store,
            clock,
            config: Arc::new(config),
            bus,
            metrics: Arc::new(Metrics::default()),
            identity: c.identity,
            vpn: c.vpn,
            respond: c.respond,
            ingest: c.ingest,
            devices: c.devices,
            register: c.register,
            pseudo_terms,
            pseudo_key: Arc::new({
                use rand::RngCore;
                let mut k = [0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut k);
                k
            }),
        }
    }
}

/// The device agents' endpoint (`devices.agent_listen`): only the report and the CA, for a
/// listener that has verified the client certificate and put its SHA-256 in each request as
/// [`AgentPeer`]. Bodies are capped just above the largest report.
pub fn agent_router(state: AppState) -> Router {
    Router::new()
        .merge(views::devices::agent_routes())
        .fallback(|| async { error::ApiError::not_found("the agent endpoint has /agent/v1/report and /agent/v1/ca") })
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::client_ip))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::security_headers))
        .layer(DefaultBodyLimit::max(veilig_compliance::MAX_REPORT_BYTES + 4096))
        .with_state(state)
}

pub use views::devices::AgentPeer;

/// The whole application as a router, without a socket, so tests can call it directly.
pub fn router(state: AppState) -> Router {
    let max_body = state.config.max_body_bytes;
    Router::new()
        .merge(views::routes())
        .merge(assets::routes())
        .fallback(views::not_found)
        .method_not_allowed_fallback(views::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::authenticate))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::language))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::client_ip))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::metrics))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::security_headers))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(state)
}
