//! Pages and API routes, one module per part of the product.

mod admin;
mod alerts;
mod audit;
mod awareness;
mod blocks;
pub mod cloud;
pub mod devices;
mod home;
mod identity;
mod identity_api;
mod llm;
mod ops;
mod phishing;
mod pseudo;
mod vpn;

use askama::Template;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use veilig_core::Lang;

use crate::AppState;
use crate::error::ApiError;
use crate::i18n::Texts;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(home::routes())
        .merge(audit::routes())
        .merge(ops::routes())
        .merge(identity::routes())
        .merge(identity_api::routes())
        .merge(admin::routes())
        .merge(alerts::routes())
        .merge(blocks::routes())
        .merge(phishing::routes())
        .merge(awareness::routes())
        .merge(pseudo::routes())
        .merge(llm::routes())
        .merge(vpn::routes())
        .merge(devices::routes())
        .merge(cloud::routes())
}

pub use ops::ApiDoc;

/// What every page needs: the language, its texts, and where the page is (for the navigation
/// and the language switch).
#[derive(Debug, Clone)]
pub struct PageCtx {
    pub t: Texts,
    pub path: String,
    pub version: &'static str,
    /// The signed-in user's e-mail address, when signed in with both factors.
    pub user: Option<String>,
    pub role: Option<veilig_identity::Role>,
    /// This browser's CSRF token, for the forms.
    pub csrf: String,
}

impl PageCtx {
    pub fn lang(&self) -> &'static str {
        self.t.lang.code()
    }

    /// The links of the language switch: (code, name, is current, href).
    pub fn languages(&self) -> Vec<(&'static str, &'static str, bool, String)> {
        Lang::ALL.iter().map(|l| (l.code(), l.native_name(), *l == self.t.lang, format!("{}?lang={}", self.path, l.code()))).collect()
    }

    /// The name of an audit outcome in the page's language.
    pub fn outcome(&self, outcome: &str) -> &'static str {
        match outcome {
            "success" => self.t.t("outcome.success"),
            "failure" => self.t.t("outcome.failure"),
            "denied" => self.t.t("outcome.denied"),
            _ => "?",
        }
    }

    pub fn is_staff(&self) -> bool {
        self.role.is_some_and(|r| r.is_staff())
    }

    pub fn is_admin(&self) -> bool {
        self.role == Some(veilig_identity::Role::Admin)
    }

    /// The name of a role in the page's language.
    pub fn role_name(&self, role: &str) -> &'static str {
        match role {
            "admin" => self.t.t("role.admin"),
            "security_officer" => self.t.t("role.security_officer"),
            _ => self.t.t("role.employee"),
        }
    }

    /// The name of an alert status in the page's language.
    /// How a block is enforced, in the page's language.
    pub fn enforced(&self, enforced: &str) -> &'static str {
        match enforced {
            "applied" => self.t.t("blocks.enforced_applied"),
            "off" => self.t.t("blocks.enforced_off"),
            "removed" => self.t.t("blocks.enforced_removed"),
            "pending" => self.t.t("blocks.enforced_pending"),
            _ => self.t.t("blocks.enforced_failed"),
        }
    }

    pub fn alert_status(&self, status: &str) -> &'static str {
        match status {
            "acknowledged" => self.t.t("alerts.status_acknowledged"),
            "closed" => self.t.t("alerts.status_closed"),
            _ => self.t.t("alerts.status_open"),
        }
    }

    /// A phishing verdict in the page's language.
    pub fn verdict_name(&self, verdict: &str) -> &'static str {
        match verdict {
            "phishing" => self.t.t("phishing.v_phishing"),
            "suspicious" => self.t.t("phishing.v_suspicious"),
            _ => self.t.t("phishing.v_clean"),
        }
    }

    /// A phishing campaign's status (or the filter `all`) in the page's language.
    pub fn phish_status(&self, status: &str) -> &'static str {
        match status {
            "closed" => self.t.t("phishing.status_closed"),
            "all" => self.t.t("phishing.status_all"),
            _ => self.t.t("phishing.status_open"),
        }
    }

    /// The name of an account status in the page's language.
    pub fn status_name(&self, status: &str) -> &'static str {
        match status {
            "active" => self.t.t("status.active"),
            "invited" => self.t.t("status.invited"),
            _ => self.t.t("status.disabled"),
        }
    }

    /// `aria-current` for a navigation link.
    pub fn current(&self, prefix: &str) -> &'static str {
        let here = if prefix == "/" { self.path == "/" } else { self.path.starts_with(prefix) };
        if here { "page" } else { "false" }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PageCtx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let lang = parts.extensions.get::<Lang>().copied().unwrap_or_default();
        let principal = parts.extensions.get::<crate::auth::Principal>().filter(|p| p.is_full());
        let csrf = parts.extensions.get::<crate::auth::CsrfToken>().map(|c| c.0.clone()).unwrap_or_default();
        Ok(PageCtx {
            t: Texts::new(lang),
            path: parts.uri.path().to_owned(),
            version: veilig_core::VERSION,
            user: principal.map(|p| p.user().email.clone()),
            role: principal.map(|p| p.role()),
            csrf,
        })
    }
}

/// Renders a page; a template error becomes a logged 500 page.
pub fn render<T: Template>(page: &T) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, Html("<!doctype html><title>500</title><p>Internal error / interne fout</p>"))
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    ctx: PageCtx,
    status: u16,
    title_key: &'static str,
    body_key: &'static str,
}

pub fn error_page(ctx: PageCtx, status: StatusCode, title_key: &'static str, body_key: &'static str) -> Response {
    let mut res = render(&ErrorPage { ctx, status: status.as_u16(), title_key, body_key });
    *res.status_mut() = status;
    res
}

/// Unknown addresses: JSON under `/api/`, a page elsewhere.
pub async fn not_found(uri: Uri, ctx: PageCtx) -> Response {
    if uri.path().starts_with("/api/") {
        ApiError::not_found(format!("no API route {}", uri.path())).into_response()
    } else {
        error_page(ctx, StatusCode::NOT_FOUND, "error.not_found_title", "error.not_found_body")
    }
}

/// A known address with the wrong method.
pub async fn method_not_allowed(uri: Uri, ctx: PageCtx) -> Response {
    if uri.path().starts_with("/api/") {
        ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", format!("{} does not accept this method", uri.path()))
            .into_response()
    } else {
        error_page(ctx, StatusCode::METHOD_NOT_ALLOWED, "error.method_title", "error.method_body")
    }
}

/// Formats epoch milliseconds as `2026-11-27 06:10:00 UTC`.
pub fn format_ms(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| t.format(time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC")).ok())
        .unwrap_or_else(|| ms.to_string())
}

/// One column of a stacked bar chart.
pub struct Bar {
    pub x: u32,
    pub label: String,
    /// (y, height, css class) of the stacked parts, the strongest at the bottom.
    pub parts: Vec<(u32, u32, &'static str)>,
    pub total: usize,
}

/// Stacked bars for `counts` (per column: strong, middle, weak), the tallest column 100 units
/// high, columns `step` apart; `label(i)` names column `i`. Returns the bars and the tallest total.
pub fn stacked_bars(counts: &[[usize; 3]], step: u32, label: impl Fn(usize) -> String) -> (Vec<Bar>, usize) {
    let max = counts.iter().map(|c| c.iter().sum::<usize>()).max().unwrap_or(0).max(1);
    let bars = counts
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut y = 110u32;
            let mut parts = Vec::new();
            for (n, class) in c.iter().zip(["bar-high", "bar-medium", "bar-low"]) {
                let height = ((*n as f64 / max as f64) * 100.0).round() as u32;
                if height > 0 {
                    y -= height;
                    parts.push((y, height, class));
                }
            }
            Bar { x: 10 + i as u32 * step, label: label(i), parts, total: c.iter().sum() }
        })
        .collect();
    (bars, max)
}
