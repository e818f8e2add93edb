//! Administration pages: users (invite, disable, reset factors, roles, groups, sessions),
//! groups, and API tokens.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use veilig_identity::Role;
use veilig_store::{GroupRecord, TokenRecord, UserRecord};

use super::identity::{SessionRow, error_text};
use super::{PageCtx, format_ms, render};
use crate::AppState;
use crate::auth::{Admin, AnySession, CsrfForm, Principal};
use crate::middleware::ClientIp;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(users_page).post(invite))
        .route("/admin/users/{id}", get(user_page))
        .route("/admin/users/{id}/action", post(user_action))
        .route("/admin/groups", get(groups_page).post(group_create))
        .route("/admin/groups/delete", post(group_delete))
        .route("/admin/tokens", get(tokens_page).post(token_create))
        .route("/admin/tokens/revoke", post(token_revoke))
}

pub struct UserRow {
    pub user: UserRecord,
    pub groups: Vec<String>,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    ctx: PageCtx,
    users: Vec<UserRow>,
    groups: Vec<GroupRecord>,
    invited: Option<(String, String)>,
    error: Option<String>,
}

async fn users_render(state: &AppState, ctx: PageCtx, invited: Option<(String, String)>, error: Option<String>) -> Response {
    let store = &state.identity.store;
    let (users, groups) = match tokio::try_join!(store.users_list(), store.groups_list()) {
        Ok(v) => v,
        Err(e) => return crate::error::ApiError::from(e).into_response(),
    };
    let mut rows = Vec::new();
    for user in users {
        let groups = store.group_names_of(&user.id).await.unwrap_or_default();
        rows.push(UserRow { user, groups });
    }
    render(&UsersPage { ctx, users: rows, groups, invited, error })
}

async fn users_page(State(state): State<AppState>, _a: Admin, ctx: PageCtx) -> Response {
    users_render(&state, ctx, None, None).await
}

#[derive(Deserialize)]
struct InviteForm {
    email: String,
    #[serde(default)]
    name: String,
    role: String,
    #[serde(default)]
    group: String,
}

async fn invite(
    State(state): State<AppState>,
    Admin(p): Admin,
    ctx: PageCtx,
    axum::Extension(ip): axum::Extension<ClientIp>,
    CsrfForm(f): CsrfForm<InviteForm>,
) -> Response {
    let Some(role) = Role::parse(&f.role) else {
        return (StatusCode::UNPROCESSABLE_ENTITY, "unknown role").into_response();
    };
    let groups: Vec<String> = f.group.split(',').map(str::trim).filter(|g| !g.is_empty()).map(str::to_owned).collect();
    match state.identity.invite(&p.actor(&ip.0.to_string()), &f.email, &f.name, role, &groups).await {
        Ok((user, token)) => {
            let url = state.identity.enrollment_url(&token);
            users_render(&state, ctx, Some((user.email, url)), None).await
        }
        Err(e) => {
            let msg = error_text(&ctx, &e);
            let mut res = users_render(&state, ctx, None, Some(msg)).await;
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            res
        }
    }
}

#[derive(Template)]
#[template(path = "admin/user.html")]
struct UserPage {
    ctx: PageCtx,
    user: UserRecord,
    groups: Vec<String>,
    all_groups: Vec<GroupRecord>,
    factors: usize,
    sessions: Vec<SessionRow>,
    link: Option<String>,
    notice: Option<String>,
    created: String,
}

async fn user_render(state: &AppState, ctx: PageCtx, id: &str, link: Option<String>, notice: Option<String>) -> Response {
    let store = &state.identity.store;
    let user = match store.user_by_id(id).await {
        Ok(Some(u)) => u,
        Ok(None) => return super::error_page(ctx, StatusCode::NOT_FOUND, "error.not_found_title", "error.not_found_body"),
        Err(e) => return crate::error::ApiError::from(e).into_response(),
    };
    let (groups, all_groups, factors, sessions) =
        match tokio::try_join!(store.group_names_of(id), store.groups_list(), store.factors_of(id), store.sessions_of(id)) {
            Ok(v) => v,
            Err(e) => return crate::error::ApiError::from(e).into_response(),
        };
    let created = format_ms(user.created_ms);
    render(&UserPage {
        ctx,
        user,
        groups,
        all_groups,
        factors: factors.iter().filter(|f| f.confirmed).count(),
        sessions: sessions.iter().map(|s| SessionRow::from(s, "")).collect(),
        link,
        notice,
        created,
    })
}

async fn user_page(State(state): State<AppState>, _a: Admin, ctx: PageCtx, Path(id): Path<String>) -> Response {
    user_render(&state, ctx, &id, None, None).await
}

#[derive(Deserialize)]
struct ActionForm {
    action: String,
    #[serde(default)]
    value: String,
}

async fn user_action(
    State(state): State<AppState>,
    Admin(p): Admin,
    AnySession(s): AnySession,
    ctx: PageCtx,
    axum::Extension(ip): axum::Extension<ClientIp>,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<ActionForm>,
) -> Response {
    let actor = p.actor(&ip.0.to_string());
    let id_ref = id.as_str();
    let result: Result<Option<String>, veilig_identity::IdentityError> = match f.action.as_str() {
        "disable" => state.identity.disable_user(&actor, id_ref).await.map(|_| None),
        "enable" => state.identity.enable_user(&actor, id_ref).await.map(|_| None),
        "reset" => state.identity.reset_factors(&actor, id_ref).await.map(|(_, t)| Some(state.identity.enrollment_url(&t))),
        "resend" => state.identity.resend_invitation(&actor, id_ref).await.map(|(_, t)| Some(state.identity.enrollment_url(&t))),
        "role" => match Role::parse(&f.value) {
            Some(role) => state.identity.set_role(&actor, id_ref, role).await.map(|_| None),
            None => Err(veilig_identity::IdentityError::Invalid("unknown role".to_owned())),
        },
        "join" => state.identity.set_membership(&actor, id_ref, &f.value, true).await.map(|_| None),
        "leave" => state.identity.set_membership(&actor, id_ref, &f.value, false).await.map(|_| None),
        "end_session" => state.identity.end_session(&s, &f.value).await.map(|_| None),
        "unlock" => match state.identity.user(id_ref).await {
            Ok(u) => state.identity.unlock(&actor, &u.email).await.map(|_| None),
            Err(e) => Err(e),
        },
        _ => Err(veilig_identity::IdentityError::Invalid("unknown action".to_owned())),
    };
    match result {
        Ok(link) => {
            let notice = ctx.t.t("admin.done").to_owned();
            user_render(&state, ctx, &id, link, Some(notice)).await
        }
        Err(e) => {
            let msg = error_text(&ctx, &e);
            user_render(&state, ctx, &id, None, Some(msg)).await
        }
    }
}

#[derive(Template)]
#[template(path = "admin/groups.html")]
struct GroupsPage {
    ctx: PageCtx,
    groups: Vec<GroupRecord>,
    error: Option<String>,
}

async fn groups_render(state: &AppState, ctx: PageCtx, error: Option<String>) -> Response {
    match state.identity.store.groups_list().await {
        Ok(groups) => render(&GroupsPage { ctx, groups, error }),
        Err(e) => crate::error::ApiError::from(e).into_response(),
    }
}

async fn groups_page(State(state): State<AppState>, _a: Admin, ctx: PageCtx) -> Response {
    groups_render(&state, ctx, None).await
}

#[derive(Deserialize)]
struct GroupForm {
    name: String,
    #[serde(default)]
    description: String,
}

async fn group_create(
    State(state): State<AppState>,
    Admin(p): Admin,
    ctx: PageCtx,
    axum::Extension(ip): axum::Extension<ClientIp>,
    CsrfForm(f): CsrfForm<GroupForm>,
) -> Response {
    match state.identity.create_group(&p.actor(&ip.0.to_string()), &f.name, &f.description).await {
        Ok(()) => Redirect::to("/admin/groups").into_response(),
        Err(e) => {
            let msg = error_text(&ctx, &e);
            groups_render(&state, ctx, Some(msg)).await
        }
    }
}

async fn group_delete(
    State(state): State<AppState>,
    Admin(p): Admin,
    ctx: PageCtx,
    axum::Extension(ip): axum::Extension<ClientIp>,
    CsrfForm(f): CsrfForm<GroupForm>,
) -> Response {
    match state.identity.delete_group(&p.actor(&ip.0.to_string()), &f.name).await {
        Ok(()) => Redirect::to("/admin/groups").into_response(),
        Err(e) => {
            let msg = error_text(&ctx, &e);
            groups_render(&state, ctx, Some(msg)).await
        }
    }
}

pub struct TokenRow {
    pub t: TokenRecord,
    pub created: String,
    pub expires: String,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "admin/tokens.html")]
struct TokensPage {
    ctx: PageCtx,
    tokens: Vec<TokenRow>,
    created: Option<String>,
    error: Option<String>,
}

async fn tokens_render(state: &AppState, ctx: PageCtx, created: Option<String>, error: Option<String>) -> Response {
    let now = state.clock.now_ms();
    match state.identity.store.tokens_of_kind("api").await {
        Ok(tokens) => {
            let tokens = tokens
                .into_iter()
                .map(|t| TokenRow {
                    created: format_ms(t.created_ms),
                    expires: t.expires_ms.map(format_ms).unwrap_or_default(),
                    active: t.revoked_ms.is_none() && t.expires_ms.is_none_or(|e| e > now),
                    t,
                })
                .collect();
            render(&TokensPage { ctx, tokens, created, error })
        }
        Err(e) => crate::error::ApiError::from(e).into_response(),
    }
}

async fn tokens_page(State(state): State<AppState>, _a: Admin, ctx: PageCtx) -> Response {
    tokens_render(&state, ctx, None, None).await
}

#[derive(Deserialize)]
struct TokenForm {
    name: String,
    scope: String,
    days: i64,
}

async fn token_create(State(state): State<AppState>, Admin(p): Admin, ctx: PageCtx, CsrfForm(f): CsrfForm<TokenForm>) -> Response {
    let Principal::Session(s) = p else {
        return (StatusCode::FORBIDDEN, "tokens are made from a browser session").into_response();
    };
    match state.identity.create_api_token(&s, &f.name, std::slice::from_ref(&f.scope), Some(f.days)).await {
        Ok((token, _)) => tokens_render(&state, ctx, Some(token), None).await,
        Err(e) => {
            let msg = error_text(&ctx, &e);
            tokens_render(&state, ctx, None, Some(msg)).await
        }
    }
}

#[derive(Deserialize)]
struct RevokeForm {
    id: String,
}

async fn token_revoke(State(state): State<AppState>, Admin(p): Admin, ctx: PageCtx, CsrfForm(f): CsrfForm<RevokeForm>) -> Response {
    let Principal::Session(s) = p else {
        return (StatusCode::FORBIDDEN, "tokens are revoked from a browser session").into_response();
    };
    match state.identity.revoke_api_token(&s, &f.id).await {
        Ok(()) => Redirect::to("/admin/tokens").into_response(),
        Err(e) => {
            let msg = error_text(&ctx, &e);
            tokens_render(&state, ctx, None, Some(msg)).await
        }
    }
}
