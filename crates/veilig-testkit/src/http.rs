//! A small blocking HTTP client for tests: never turns a status into an error, keeps cookies.

use std::time::Duration;

pub use ureq::Agent;

pub fn agent() -> Agent {
    Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(30))).max_redirects(0).build().into()
}

/// A response reduced to what tests look at.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

fn reply(res: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
    let mut res = res.unwrap_or_else(|e| panic!("request failed: {e}"));
    let status = res.status().as_u16();
    let headers = res.headers().iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned())).collect();
    let body = res.body_mut().with_config().limit(64 << 20).read_to_string().unwrap_or_default();
    Reply { status, headers, body }
}

pub fn get(agent: &Agent, url: &str) -> Reply {
    reply(agent.get(url).call())
}

pub fn get_with(agent: &Agent, url: &str, headers: &[(&str, &str)]) -> Reply {
    let mut req = agent.get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    reply(req.call())
}

pub fn post_json(agent: &Agent, url: &str, body: &serde_json::Value) -> Reply {
    reply(agent.post(url).send_json(body))
}

/// A request with any method, JSON body (or none) and extra headers.
pub fn send(agent: &Agent, method: &str, url: &str, headers: &[(&str, &str)], body: Option<&serde_json::Value>) -> Reply {
    let mut req = ureq::http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = match body {
        Some(b) => {
            let req = req
                .header("content-type", "application/json")
                .body(serde_json::to_vec(b).unwrap_or_default())
                .unwrap_or_else(|e| panic!("request: {e}"));
            agent.run(req)
        }
        None => {
            let req = req.body(()).unwrap_or_else(|e| panic!("request: {e}"));
            agent.run(req)
        }
    };
    reply(res)
}

/// Sends a URL-encoded form.
pub fn post_form(agent: &Agent, url: &str, fields: &[(&str, &str)]) -> Reply {
    reply(agent.post(url).send_form(fields.iter().copied()))
}

/// Sends `body` as is, with the given content type.
pub fn post_raw(agent: &Agent, url: &str, content_type: &str, body: &[u8]) -> Reply {
    reply(agent.post(url).header("content-type", content_type).send(body))
}

/// Sends raw bytes (`message/rfc822`) with extra headers.
pub fn send_bytes(agent: &Agent, method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut req = ureq::http::Request::builder().method(method).uri(url).header("content-type", "message/rfc822");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(body.to_vec()).unwrap_or_else(|e| panic!("request: {e}"));
    reply(agent.run(req))
}
