//! Static files, compiled into the binary.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::AppState;

const FILES: &[(&str, &str, &[u8])] = &[
    ("veilig.css", "text/css; charset=utf-8", include_bytes!("../static/veilig.css")),
    ("favicon.svg", "image/svg+xml", include_bytes!("../static/favicon.svg")),
    ("webauthn.js", "text/javascript; charset=utf-8", include_bytes!("../static/webauthn.js")),
    ("pseudo.js", "text/javascript; charset=utf-8", include_bytes!("../static/pseudo.js")),
    ("cloud.js", "text/javascript; charset=utf-8", include_bytes!("../static/cloud.js")),
    // htmx 2.0.11, Zero-Clause BSD (static/vendor/htmx-LICENSE.txt), unchanged.
    ("htmx.min.js", "text/javascript; charset=utf-8", include_bytes!("../static/vendor/htmx-2.0.11.min.js")),
];

pub fn routes() -> Router<AppState> {
    Router::new().route("/static/{file}", get(serve))
}

async fn serve(Path(file): Path<String>) -> Response {
    match FILES.iter().find(|(name, _, _)| *name == file) {
        Some((_, mime, body)) => {
            let mut res = (*body).into_response();
            let h = res.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
            res
        }
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}
