//! Errors as the API shows them: `{"error": {"code": "...", "message": "..."}}` with a stable
//! machine code. Internal details are logged, never sent.

use axum::Json;
use axum::extract::rejection::{FormRejection, JsonRejection, QueryRejection};
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, such as `not_found` or `invalid_json`.
    pub code: String,
    /// A sentence for people.
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into() }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// A request that is well-formed but says something impossible (422 `invalid`).
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// An unexpected failure: logged with its cause, shown without it.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "something went wrong on the server; it has been logged")
    }

    pub fn unavailable(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "service unavailable");
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the database cannot be reached right now; try again shortly")
    }
}

impl From<veilig_store::StoreError> for ApiError {
    fn from(e: veilig_store::StoreError) -> Self {
        if e.is_unavailable() { ApiError::unavailable(e) } else { ApiError::internal(e) }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody { error: ErrorDetail { code: self.code.to_owned(), message: self.message } };
        (self.status, Json(body)).into_response()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::MissingJsonContentType(_) => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json",
            ),
            JsonRejection::JsonSyntaxError(e) => {
                ApiError::bad_request("invalid_json", format!("the body is not valid JSON: {}", e.body_text()))
            }
            JsonRejection::JsonDataError(e) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_fields", e.body_text()),
            JsonRejection::BytesRejection(e) => body_error(e.status()),
            other => ApiError::bad_request("invalid_body", other.body_text()),
        }
    }
}

impl From<FormRejection> for ApiError {
    fn from(r: FormRejection) -> Self {
        match r {
            FormRejection::BytesRejection(e) => body_error(e.status()),
            other => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_form", other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::bad_request("invalid_query", r.body_text())
    }
}

pub(crate) fn body_error(status: StatusCode) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", "the request body is larger than this server accepts")
    } else {
        ApiError::bad_request("invalid_body", "the request body could not be read")
    }
}

/// `Json<T>` whose rejections are [`ApiError`]s in the API's error shape.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Json::<T>::from_request(req, state).await.map(|Json(v)| ApiJson(v)).map_err(ApiError::from)
    }
}

/// `Query<T>` whose rejections are [`ApiError`]s.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> axum::extract::FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state).await.map(|q| ApiQuery(q.0)).map_err(ApiError::from)
    }
}

/// The status and stable code of an identity error: one table for the pages and the API.
pub fn identity_status(e: &veilig_identity::IdentityError) -> (StatusCode, &'static str) {
    use veilig_identity::IdentityError as E;
    match e {
        E::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
        E::BadCredentials => (StatusCode::UNAUTHORIZED, "bad_credentials"),
        E::BadCode => (StatusCode::UNAUTHORIZED, "bad_code"),
        E::Throttled { .. } => (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"),
        E::Busy => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
        E::BadToken => (StatusCode::GONE, "invalid_link"),
        E::NoSession => (StatusCode::UNAUTHORIZED, "unauthenticated"),
        E::SecondFactorRequired => (StatusCode::UNAUTHORIZED, "second_factor_required"),
        E::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
        E::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
        E::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
        E::Store(_) | E::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
    }
}

impl From<veilig_identity::IdentityError> for ApiError {
    fn from(e: veilig_identity::IdentityError) -> Self {
        use veilig_identity::IdentityError as E;
        let (status, code) = identity_status(&e);
        match e {
            E::Store(s) => ApiError::from(s),
            E::Internal(m) => ApiError::internal(m),
            E::Invalid(m) | E::Conflict(m) => ApiError::new(status, code, m),
            E::NotFound(what) => ApiError::new(status, code, format!("{what} not found")),
            other => ApiError::new(status, code, other.to_string()),
        }
    }
}
