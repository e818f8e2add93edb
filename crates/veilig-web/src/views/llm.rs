//! The AI-chat gateway: an OpenAI-compatible `chat/completions` endpoint that pseudonymises the
//! messages, forwards them to the chat service the administrator configured (`[pseudo]
//! llm_url`), and restores the answer before it reaches the employee — also when the answer is
//! streamed, where a pseudonym split over two pieces is held back until it is whole.
//!
//! Chat tools that let you set a base URL and an API key work with Veilig's URL
//! (`…/api/v1/llm/v1`) and a personal Veilig API token. The service's own key never leaves the
//! server; the messages are not stored; the audit chain records the use with counts only.

use std::io::BufRead;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use secrecy::ExposeSecret;
use serde_json::Value;
use veilig_pseudo::{Lang, Mapping, Pseudonymiser};

use crate::AppState;
use crate::auth::Signed;
use crate::error::ApiError;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/llm/v1/chat/completions", post(completions))
}

/// Pseudonymises every text part of every message, in place; returns how many values.
fn pseudonymise_messages(body: &mut Value, engine: &Pseudonymiser, mapping: &mut Mapping) -> Result<usize, ApiError> {
    let messages = body
        .get_mut("messages")
        .and_then(Value::as_array_mut)
        .ok_or_else(|| ApiError::invalid("the request needs \"messages\": [{\"role\", \"content\"}]"))?;
    let mut count = 0;
    let mut one = |text: &str, mapping: &mut Mapping| -> String {
        let out = engine.pseudonymise(text, mapping);
        count += out.spans.iter().filter(|s| s.replacement.is_some()).count();
        out.text
    };
    for m in messages.iter_mut() {
        match m.get_mut("content") {
            Some(Value::String(s)) => *s = one(s, mapping),
            Some(Value::Array(parts)) => {
                for p in parts.iter_mut() {
                    if p.get("type").and_then(Value::as_str) == Some("text")
                        && let Some(Value::String(s)) = p.get_mut("text")
                    {
                        *s = one(s, mapping);
                    }
                }
            }
            Some(Value::Null) | None => {}
            Some(_) => return Err(ApiError::invalid("a message's content is a string or a list of parts")),
        }
    }
    Ok(count)
}

fn all_text(body: &Value) -> String {
    let mut s = String::new();
    for m in body.get("messages").and_then(Value::as_array).into_iter().flatten() {
        match m.get("content") {
            Some(Value::String(t)) => s.push_str(t),
            Some(Value::Array(parts)) => parts.iter().filter_map(|p| p.get("text").and_then(Value::as_str)).for_each(|t| s.push_str(t)),
            _ => {}
        }
        s.push('\n');
    }
    s
}

fn upstream_error(e: ureq::Error) -> ApiError {
    // never the URL or the key: only what kind of failure
    let what = match e {
        ureq::Error::Timeout(_) => "the chat service did not answer in time",
        ureq::Error::HostNotFound => "the chat service's host was not found",
        ureq::Error::Io(_) | ureq::Error::ConnectionFailed => "the chat service could not be reached",
        _ => "the request to the chat service failed",
    };
    ApiError::new(StatusCode::BAD_GATEWAY, "upstream_failed", what)
}

/// Pseudonymises the messages, asks the chat service, restores its answer (streamed or not).
pub async fn completions(
    State(state): State<AppState>,
    Signed(who): Signed,
    axum::Extension(ip): axum::Extension<crate::middleware::ClientIp>,
    crate::error::ApiJson(body): crate::error::ApiJson<Value>,
) -> Result<Response, ApiError> {
    let Some(llm) = state.config.pseudo.llm.clone() else {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "not_configured", "the AI-chat gateway is not configured ([pseudo] llm_url)"));
    };
    let Some(obj) = body.as_object() else {
        return Err(ApiError::invalid("the request is a JSON object"));
    };
    // only what is pseudonymised or carries no personal data goes out: the messages' roles and
    // text, and the sampling settings; names, tools, files, images and user ids stay here
    const ALLOWED: &[&str] = &[
        "model",
        "messages",
        "stream",
        "temperature",
        "top_p",
        "max_tokens",
        "max_completion_tokens",
        "stop",
        "n",
        "presence_penalty",
        "frequency_penalty",
        "seed",
        "response_format",
        "stream_options",
    ];
    let mut clean = serde_json::Map::new();
    for (k, v) in obj {
        if ALLOWED.contains(&k.as_str()) {
            clean.insert(k.clone(), v.clone());
        }
    }
    if let Some(Value::Array(messages)) = clean.get_mut("messages") {
        for m in messages.iter_mut() {
            let role = m.get("role").cloned().unwrap_or(Value::String("user".into()));
            let content = m.get("content").cloned().unwrap_or(Value::Null);
            if let Value::Array(parts) = &content
                && parts.iter().any(|p| p.get("type").and_then(Value::as_str) != Some("text"))
            {
                return Err(ApiError::invalid("the gateway passes text only: no images, files or audio"));
            }
            *m = serde_json::json!({"role": role, "content": content});
        }
    }
    let body = Value::Object(clean);
    let lang = Lang::detect(&all_text(&body));
    let engine = Pseudonymiser::new().with_terms((*state.pseudo_terms).clone());
    let (mut body, mapping, count) = tokio::task::spawn_blocking(move || {
        let mut body = body;
        let mut mapping = Mapping::new(lang);
        let count = pseudonymise_messages(&mut body, &engine, &mut mapping)?;
        Ok::<_, ApiError>((body, mapping, count))
    })
    .await
    .map_err(|_| ApiError::internal("the pseudonymiser stopped"))??;
    if let Some(model) = &llm.model {
        body["model"] = Value::String(model.clone());
    }
    let stream = body.get("stream").and_then(Value::as_bool).unwrap_or(false);
    let model = body.get("model").and_then(Value::as_str).unwrap_or("").to_owned();
    let entry = veilig_audit::Entry::new(&who.user().email, "pseudo.llm", &model)
        .ip(ip.0.to_string())
        .details(serde_json::json!({"replaced": count, "stream": stream}));
    state.store.audit(state.clock.now_ms(), &entry).await?;

    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(llm.timeout))
        .timeout_connect(Some(Duration::from_secs(10)))
        .max_redirects(0)
        .build()
        .into();
    let url = format!("{}/chat/completions", llm.url);
    let key = llm.api_key.as_ref().map(|k| format!("Bearer {}", k.expose_secret()));
    let send = move || {
        let mut req = agent.post(&url).header("content-type", "application/json");
        if let Some(k) = &key {
            req = req.header("authorization", k);
        }
        if stream {
            req = req.header("accept", "text/event-stream");
        }
        req.send(serde_json::to_vec(&body).unwrap_or_default())
    };

    if !stream {
        let (status, answer) = tokio::task::spawn_blocking(move || {
            let mut r = send().map_err(upstream_error)?;
            let status = r.status().as_u16();
            let v: Value = r
                .body_mut()
                .read_json()
                .map_err(|_| ApiError::new(StatusCode::BAD_GATEWAY, "upstream_failed", "the chat service's answer is not JSON"))?;
            Ok::<_, ApiError>((status, v))
        })
        .await
        .map_err(ApiError::internal)??;
        let mut answer = answer;
        if let Some(choices) = answer.get_mut("choices").and_then(Value::as_array_mut) {
            for c in choices {
                if let Some(Value::String(s)) = c.pointer_mut("/message/content") {
                    *s = veilig_pseudo::restore::restore(s, &mapping).text;
                }
            }
        }
        if status >= 400 {
            // the service's error text can quote the key or its own address: say only the status
            return Err(ApiError::new(StatusCode::BAD_GATEWAY, "upstream_error", format!("the chat service answered {status}")));
        }
        return Ok((StatusCode::OK, Json(answer)).into_response());
    }

    // streamed: server-sent events, restored piece by piece
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(32);
    let first = tokio::task::spawn_blocking(move || send().map_err(upstream_error)).await.map_err(ApiError::internal)??;
    let status = first.status().as_u16();
    if status >= 400 {
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
        return Err(ApiError::new(code, "upstream_error", format!("the chat service answered {status}")));
    }
    tokio::task::spawn_blocking(move || {
        // bounded: 64 MB of answer at most
        let reader = std::io::BufReader::new(std::io::Read::take(first.into_body().into_reader(), 64 << 20));
        let mut pending: Vec<String> = Vec::new();
        let emit =
            |tx: &tokio::sync::mpsc::Sender<Result<Vec<u8>, std::io::Error>>, line: String| tx.blocking_send(Ok(line.into_bytes())).is_ok();
        let mut last_chunk: Option<Value> = None;
        for line in reader.lines() {
            let Ok(line) = line else { break };
            let Some(data) = line.strip_prefix("data:").map(str::trim_start) else {
                if !line.is_empty() && !emit(&tx, format!("{line}\n")) {
                    return;
                }
                continue;
            };
            if data == "[DONE]" {
                flush(&tx, &mut pending, last_chunk.as_ref(), &mapping);
                let _ = emit(&tx, "data: [DONE]\n\n".to_owned());
                return;
            }
            let Ok(mut v) = serde_json::from_str::<Value>(data) else {
                continue;
            };
            if let Some(choices) = v.get_mut("choices").and_then(Value::as_array_mut) {
                for c in choices.iter_mut() {
                    let i = c.get("index").and_then(Value::as_u64).unwrap_or(0) as usize;
                    if i >= 16 {
                        continue;
                    }
                    if pending.len() <= i {
                        pending.resize(i + 1, String::new());
                    }
                    let finished = c.get("finish_reason").is_some_and(|f| !f.is_null());
                    if let Some(Value::String(s)) = c.pointer_mut("/delta/content") {
                        pending[i].push_str(s);
                        let cut = if finished { pending[i].len() } else { veilig_pseudo::restore::safe_len(&pending[i]) };
                        let ready: String = pending[i].drain(..cut).collect();
                        *s = veilig_pseudo::restore::restore(&ready, &mapping).text;
                    } else if finished && !pending[i].is_empty() && c.get("delta").is_none_or(|d| d.is_object() || d.is_null()) {
                        // the last piece carries no text: what was held back goes with it
                        let rest = std::mem::take(&mut pending[i]);
                        c["delta"]["content"] = Value::String(veilig_pseudo::restore::restore(&rest, &mapping).text);
                    }
                }
            }
            last_chunk = Some(v.clone());
            if !emit(&tx, format!("data: {v}\n\n")) {
                return;
            }
        }
        flush(&tx, &mut pending, last_chunk.as_ref(), &mapping);
    });
    let stream = futures_stream(rx);
    let mut res = Response::new(Body::from_stream(stream));
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(res)
}

/// Sends what is still held back (the stream ended mid-token, or without a finish reason).
fn flush(
    tx: &tokio::sync::mpsc::Sender<Result<Vec<u8>, std::io::Error>>,
    pending: &mut [String],
    template: Option<&Value>,
    mapping: &Mapping,
) {
    for (i, p) in pending.iter_mut().enumerate().filter(|(_, p)| !p.is_empty()) {
        let text = veilig_pseudo::restore::restore(p, mapping).text;
        p.clear();
        let mut chunk = template.cloned().unwrap_or_else(|| serde_json::json!({"object": "chat.completion.chunk"}));
        chunk["choices"] = serde_json::json!([{"index": i, "delta": {"content": text}, "finish_reason": null}]);
        let _ = tx.blocking_send(Ok(format!("data: {chunk}\n\n").into_bytes()));
    }
}

fn futures_stream(
    rx: tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>,
) -> impl futures_core::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    struct S(tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>);
    impl futures_core::Stream for S {
        type Item = Result<Vec<u8>, std::io::Error>;
        fn poll_next(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Option<Self::Item>> {
            self.0.poll_recv(cx)
        }
    }
    S(rx)
}
