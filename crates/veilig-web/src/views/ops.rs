//! Operations: health, metrics, the OpenAPI document and the capability status.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use crate::AppState;
use crate::error::{ApiError, ErrorBody, ErrorDetail};
use crate::metrics::Gauges;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Veilig API",
        description = "JSON API of Veilig. Errors are shaped {\"error\": {\"code\", \"message\"}}.",
        license(name = "EUPL-1.2")
    ),
    paths(
        healthz, status, super::audit::api_list, super::audit::api_verify, super::alerts::api_list, super::alerts::api_status,
        super::alerts::api_get, super::alerts::api_assign, super::alerts::api_comment, super::alerts::api_inputs,
        super::blocks::api_decisions, super::blocks::api_block, super::blocks::api_unblock, super::blocks::api_allowlist,
        super::blocks::api_allow, super::blocks::api_disallow, super::blocks::api_token, super::blocks::api_webhooks,
        super::blocks::api_add_webhook, super::blocks::api_remove_webhook, super::blocks::api_test_webhook,
        api::setup, api::enroll, api::totp_begin, api::totp_confirm, api::login, api::login_totp, api::login_recovery, api::logout,
        api::me, api::me_export, api::my_sessions, api::token_create, api::users_list, api::user_create, api::user_get, api::user_delete,
        api::user_disable, api::user_enable, api::user_reset, api::user_resend, api::user_role,
        api::groups_list, api::group_create, api::group_delete, api::member_add, api::member_remove,
        api::passkey_register_begin, api::passkey_register_finish, api::passkey_second_begin, api::passkey_second_finish,
        api::passwordless_begin, api::passwordless_finish, api::my_factors, api::factor_rename, api::factor_remove,
        super::vpn::api_status, super::vpn::api_devices, super::vpn::api_add_device, super::vpn::api_remove_device,
        super::vpn::api_sessions, super::vpn::api_open_session, super::vpn::api_close_session, super::vpn::api_rules,
        super::vpn::api_add_rule, super::vpn::api_remove_rule, super::vpn::api_set_limit,
        super::phishing::api_check, super::phishing::api_list, super::phishing::api_get, super::phishing::api_verdict,
        super::phishing::api_status, super::phishing::api_note, super::awareness::api_send, super::awareness::api_list,
        super::awareness::api_readers, super::awareness::api_read, super::pseudo::api_run, super::pseudo::api_restore,
        super::devices::api_list, super::devices::api_summary, super::devices::api_get, super::devices::api_revoke,
        super::devices::api_remove, super::devices::api_token, super::devices::api_policy, super::devices::api_set_policy,
        super::devices::api_conditions, super::devices::api_set_conditions, super::devices::api_enroll,
    ),
    components(schemas(Health, DatabaseHealth, Status, Capability, ErrorBody, ErrorDetail, super::audit::AuditPage, super::audit::AuditRecordView, super::audit::VerifyResult)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

use super::identity_api as api;

/// Declares the two ways to authenticate: the session cookie and API tokens.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme("token", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
        components.add_security_scheme("session", SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("veilig_session"))));
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/status", get(status))
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `degraded` when the database does not answer.
    pub status: &'static str,
    pub version: &'static str,
    pub database: DatabaseHealth,
}

#[derive(Serialize, ToSchema)]
pub struct DatabaseHealth {
    /// `sqlite` or `postgres`.
    pub kind: &'static str,
    pub reachable: bool,
}

/// Liveness and database reachability, for load balancers and monitoring.
#[utoipa::path(get, path = "/healthz", responses((status = 200, body = Health), (status = 503, body = Health)))]
async fn healthz(State(state): State<AppState>) -> Response {
    let reachable = tokio::time::timeout(std::time::Duration::from_secs(3), state.store.ping()).await.is_ok_and(|r| r.is_ok());
    let body = Health {
        status: if reachable { "ok" } else { "degraded" },
        version: veilig_core::VERSION,
        database: DatabaseHealth { kind: state.store.dialect().as_str(), reachable },
    };
    let code = if reachable { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (code, Json(body)).into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
    let pool = state.store.pool_stats();
    let head = tokio::time::timeout(std::time::Duration::from_secs(3), state.store.audit_head()).await;
    let (db_up, audit_records) = match head {
        Ok(Ok(head)) => (true, head.map_or(0, |h| h.seq)),
        _ => (false, 0),
    };
    let gauges = Gauges { db_pool_size: pool.size, db_pool_idle: pool.idle, db_pool_max: pool.max, db_up, audit_records };
    let mut res = state.metrics.render(&gauges).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
    res
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

#[derive(Serialize, ToSchema)]
pub struct Status {
    pub version: &'static str,
    pub database: &'static str,
    pub schema_version: i64,
    pub tls: bool,
    pub capabilities: Vec<Capability>,
}

#[derive(Serialize, ToSchema)]
pub struct Capability {
    /// Stable id, such as `platform` or `audit`.
    pub id: &'static str,
    /// Whether it is set up and working.
    pub ready: bool,
    /// What is missing, when not ready.
    pub todo: Option<String>,
}

/// The capabilities this installation has and whether each is set up.
#[utoipa::path(get, path = "/api/v1/status", responses((status = 200, body = Status), (status = 503, body = ErrorBody)))]
async fn status(State(state): State<AppState>) -> Result<Json<Status>, ApiError> {
    let schema_version = state.store.schema_version().await?;
    let head = state.store.audit_head().await?;
    let capabilities = vec![
        Capability { id: "platform", ready: schema_version == veilig_store::Store::latest_migration(), todo: None },
        Capability { id: "audit", ready: head.is_some(), todo: head.is_none().then(|| "no record yet".to_owned()) },
    ];
    Ok(Json(Status {
        version: veilig_core::VERSION,
        database: state.store.dialect().as_str(),
        schema_version,
        tls: state.config.tls.is_some(),
        capabilities,
    }))
}
