//! The administrator's home page: per capability that exists, whether it is set up.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::{PageCtx, render};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(home))
}

/// One capability on the home page.
pub struct Card {
    pub title_key: &'static str,
    pub intro_key: &'static str,
    /// `ok`, `warn`, `bad` or `todo`.
    pub state: &'static str,
    pub state_key: &'static str,
    pub facts: Vec<(&'static str, String)>,
    pub link: Option<(&'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    ctx: PageCtx,
    cards: Vec<Card>,
}

async fn home(State(state): State<AppState>, crate::auth::Signed(who): crate::auth::Signed, ctx: PageCtx) -> Response {
    if !who.role().is_staff() {
        return axum::response::Redirect::to("/me").into_response();
    }
    let mut cards = Vec::new();

    let (db_state, db_state_key, schema) = match state.store.schema_version().await {
        Ok(v) if v == veilig_store::Store::latest_migration() => ("ok", "state.ready", v.to_string()),
        Ok(v) => ("warn", "state.attention", v.to_string()),
        Err(_) => ("bad", "state.unreachable", "?".to_owned()),
    };
    let kind = match state.store.dialect() {
        veilig_store::Dialect::Sqlite => "SQLite",
        veilig_store::Dialect::Postgres => "PostgreSQL",
    };
    cards.push(Card {
        title_key: "home.platform_title",
        intro_key: "home.platform_intro",
        state: db_state,
        state_key: db_state_key,
        facts: vec![("home.database", kind.to_owned()), ("home.schema", schema), ("home.version", veilig_core::VERSION.to_owned())],
        link: None,
    });

    let head = state.store.audit_head().await.ok().flatten();
    cards.push(Card {
        title_key: "home.audit_title",
        intro_key: "home.audit_intro",
        state: if head.is_some() { "ok" } else { "todo" },
        state_key: if head.is_some() { "state.ready" } else { "state.empty" },
        facts: vec![
            ("home.audit_records", head.as_ref().map_or(0, |h| h.seq).to_string()),
            ("home.audit_head", head.as_ref().map_or_else(|| "–".to_owned(), |h| h.hash[..16].to_owned())),
        ],
        link: Some(("/audit", "home.audit_open")),
    });

    let users = state.identity.store.users_list().await.unwrap_or_default();
    let active = users.iter().filter(|u| u.status == "active").count();
    let invited = users.iter().filter(|u| u.status == "invited").count();
    cards.push(Card {
        title_key: "home.identity_title",
        intro_key: "home.identity_intro",
        state: if active > 0 { "ok" } else { "todo" },
        state_key: if active > 0 { "state.ready" } else { "state.empty" },
        facts: vec![
            ("home.users_active", active.to_string()),
            ("home.users_invited", invited.to_string()),
            ("home.passkeys", ctx.t.t(if state.identity.passkeys.is_some() { "home.on" } else { "home.off_ip" }).to_owned()),
        ],
        link: Some(("/admin/users", "home.open_users")),
    });
    cards.push(Card {
        title_key: "home.mail_title",
        intro_key: "home.mail_intro",
        state: if state.config.smtp.is_some() { "ok" } else { "todo" },
        state_key: if state.config.smtp.is_some() { "state.ready" } else { "state.attention" },
        facts: vec![(
            "home.mail_server",
            state.config.smtp.as_ref().map_or_else(|| ctx.t.t("home.mail_none").to_owned(), |m| format!("{}:{}", m.host, m.port)),
        )],
        link: None,
    });

    let tls = state.config.tls.is_some();
    let proxied = !state.config.behind_proxy.is_empty();
    let (tls_state, tls_key) = match (tls, proxied, state.config.listen.ip().is_loopback()) {
        (true, _, _) => ("ok", "state.ready"),
        (false, true, _) => ("ok", "state.behind_proxy"),
        (false, false, _) => ("warn", "state.loopback_only"),
    };
    cards.push(Card {
        title_key: "home.transport_title",
        intro_key: "home.transport_intro",
        state: tls_state,
        state_key: tls_key,
        facts: vec![("home.listen", state.config.listen.to_string()), ("home.public_url", state.config.public_url.clone())],
        link: None,
    });

    // the cloud register: reviews that are due (within 30 days, overdue, or a certificate expired)
    let services = state.register.services().await.unwrap_or_default();
    let due = services.iter().filter(|s| state.register.due(s, 30)).count();
    let open = state.register.reports(Some("open")).await.map(|r| r.len()).unwrap_or(0);
    cards.push(Card {
        title_key: "home.cloud_title",
        intro_key: "home.cloud_intro",
        state: if services.is_empty() {
            "todo"
        } else if due > 0 || open > 0 {
            "warn"
        } else {
            "ok"
        },
        state_key: if services.is_empty() {
            "state.empty"
        } else if due > 0 || open > 0 {
            "state.attention"
        } else {
            "state.ready"
        },
        facts: vec![
            ("home.cloud_services", services.len().to_string()),
            ("home.cloud_reviews_due", due.to_string()),
            ("home.cloud_reports_open", open.to_string()),
        ],
        link: Some(("/admin/cloud", "home.cloud_open")),
    });

    render(&HomePage { ctx, cards })
}
