//! What every request passes through.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use veilig_core::Lang;

use crate::AppState;

/// No inline scripts or styles, nothing from elsewhere, never framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    h.insert("permissions-policy", HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"));
    if state.config.tls.is_some() {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

pub async fn metrics(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    // The route pattern, not the path, so ids in paths do not multiply the series.
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "unmatched".to_owned());
    let res = next.run(req).await;
    let status = res.status();
    state.metrics.observe(method.as_str(), &route, status.as_u16(), started.elapsed());
    if status.is_server_error() {
        tracing::warn!(%method, %route, status = status.as_u16(), "request failed");
    } else {
        tracing::debug!(%method, %route, status = status.as_u16(), ms = started.elapsed().as_millis() as u64, "request");
    }
    res
}

/// The address of the client, after the trusted reverse proxies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// Whether the client reached Veilig over TLS (directly or, as a trusted proxy says, at the
/// proxy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Secure(pub bool);

pub async fn client_ip(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let (ip, proxied_secure) = resolve_client(peer, req.headers(), &state.config.behind_proxy);
    let secure = state.config.tls.is_some() || proxied_secure;
    req.extensions_mut().insert(ClientIp(ip));
    req.extensions_mut().insert(Secure(secure));
    next.run(req).await
}

/// Walks `X-Forwarded-For` from the right, skipping trusted proxies, to the first address that
/// is not one: that is the client. Headers from an untrusted peer are ignored.
pub fn resolve_client(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[ipnet::IpNet]) -> (IpAddr, bool) {
    let unknown = IpAddr::from([0, 0, 0, 0]);
    let Some(peer) = peer else { return (unknown, false) };
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return (peer, false);
    }
    let mut client = peer;
    let forwarded = headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>().join(",");
    for hop in forwarded.rsplit(',').map(str::trim).filter(|h| !h.is_empty()) {
        match hop.parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !is_trusted(&ip) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    let secure = headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
    (client, secure)
}

pub const LANG_COOKIE: &str = "veilig_lang";

/// Chooses the language: `?lang=` (remembered in a cookie), the cookie, `Accept-Language`, the
/// configured default.
pub async fn language(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let from_query = req.uri().query().and_then(|q| q.split('&').find_map(|pair| pair.strip_prefix("lang=")).and_then(Lang::parse));
    let from_cookie = cookie(req.headers(), LANG_COOKIE).and_then(|v| Lang::parse(&v));
    let from_header = req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).and_then(Lang::from_accept_language);
    let lang = from_query.or(from_cookie).or(from_header).unwrap_or(state.config.language);
    req.extensions_mut().insert(lang);
    let secure = req.extensions().get::<Secure>().is_some_and(|s| s.0);
    let mut res = next.run(req).await;
    if let Some(chosen) = from_query.filter(|q| Some(*q) != from_cookie) {
        let cookie = format!(
            "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly{}",
            chosen.code(),
            if secure { "; Secure" } else { "" }
        );
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

/// The value of cookie `name`, if the request carries it.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &str, proto: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_str(xff).unwrap());
        h.insert("x-forwarded-proto", HeaderValue::from_str(proto).unwrap());
        h
    }

    #[test]
    fn forwarded_headers_count_only_from_trusted_proxies() {
        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let proxy: IpAddr = "10.1.2.3".parse().unwrap();
        let stranger: IpAddr = "198.51.100.7".parse().unwrap();
        let h = headers("203.0.113.9, 10.0.0.5", "https");
        assert_eq!(resolve_client(Some(proxy), &h, &trusted), ("203.0.113.9".parse().unwrap(), true));
        // A client can put anything in the header; from an untrusted peer it is ignored.
        assert_eq!(resolve_client(Some(stranger), &h, &trusted), (stranger, false));
        // A spoofed left-most entry does not win over the real client the proxy appended.
        let spoofed = headers("1.1.1.1, 203.0.113.9", "http");
        assert_eq!(resolve_client(Some(proxy), &spoofed, &trusted), ("203.0.113.9".parse().unwrap(), false));
        let garbage = headers("not-an-ip", "https");
        assert_eq!(resolve_client(Some(proxy), &garbage, &trusted).0, proxy);
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; veilig_lang=en; b=2"));
        assert_eq!(cookie(&h, LANG_COOKIE).as_deref(), Some("en"));
        assert_eq!(cookie(&h, "missing"), None);
    }
}
