//! The pseudonymiser's API and page: an employee pseudonymises and restores; the key only
//! opens for them; bad input is refused with 422; the audit chain gets counts, not content.

use crate::TestApp;

const LETTER: &str = "Beste mevrouw Jansen,\n\nUw zoon Daan Jansen (BSN 111222333) woont op Kerkstraat 12a, 1234 AB Zwolle. \
Bel ons op 06-12345678.\n\nMet vriendelijke groet,\nSanne de Wit";

fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        for b in v.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => out.push(b as char),
                b' ' => out.push('+'),
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
    }
    out.into_bytes()
}

#[test]
fn api_pseudonymises_restores_and_keeps_the_key_to_its_user() {
    let app = TestApp::start();
    app.sign_in_admin();
    let (emp, _) = app.employee("medewerker@gemeente.nl", &[]);

    let r = emp.api("POST", "/api/v1/pseudo", Some(serde_json::json!({"text": LETTER, "lang": "nl"})));
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    let text = j["text"].as_str().unwrap();
    for real in ["Jansen", "Daan", "111222333", "Kerkstraat", "1234 AB", "Zwolle", "06-12345678", "Sanne"] {
        assert!(!text.contains(real), "{real} leaked: {text}");
    }
    assert!(text.starts_with("Beste mevrouw Persoon A,"), "{text}");
    let spans = j["spans"].as_array().unwrap();
    let bsn = spans.iter().find(|s| s["label"] == "BSN").unwrap();
    assert_eq!(bsn["replacement"], "[BSN-1]");
    let (s, e) = (bsn["start"].as_u64().unwrap() as usize, bsn["end"].as_u64().unwrap() as usize);
    assert_eq!(LETTER.chars().skip(s).take(e - s).collect::<String>(), "111222333");
    let vault = j["vault"].as_str().unwrap().to_owned();

    // the answer, translated, comes back with the real values
    let answer = text.replace("Beste mevrouw", "Dear Mrs").replace("Uw zoon", "Your son");
    let r = emp.api("POST", "/api/v1/pseudo/restore", Some(serde_json::json!({"text": answer, "vault": vault})));
    assert_eq!(r.status, 200, "{}", r.body);
    let back = r.json();
    assert!(back["text"].as_str().unwrap().starts_with("Dear Mrs Jansen,\n\nYour son Daan Jansen (BSN 111222333)"), "{}", back["text"]);
    assert_eq!(back["unmatched"], serde_json::json!([]));

    // the same key does not open for another user, and a changed key opens for nobody
    let r = app.api("POST", "/api/v1/pseudo/restore", Some(serde_json::json!({"text": answer, "vault": vault})));
    assert_eq!(r.status, 422, "{}", r.body);
    let mut bad = vault.clone();
    bad.replace_range(10..11, if &vault[10..11] == "A" { "B" } else { "A" });
    let r = emp.api("POST", "/api/v1/pseudo/restore", Some(serde_json::json!({"text": answer, "vault": bad})));
    assert_eq!(r.status, 422);
    assert!(r.body.contains("expired") || r.body.contains("verlopen"), "{}", r.body);

    // a second text with the key keeps the pseudonyms
    let r = emp.api("POST", "/api/v1/pseudo", Some(serde_json::json!({"text": "Daan Jansen belde.", "lang": "nl", "vault": vault})));
    assert_eq!(r.json()["text"], "Persoon B belde.");

    // bad input
    for body in [
        serde_json::json!({"text": "x", "lang": "fr"}),
        serde_json::json!({"text": "x", "format": "docx"}),
        serde_json::json!({"text": "x", "vault": "!!!"}),
    ] {
        let r = emp.api("POST", "/api/v1/pseudo", Some(body));
        assert_eq!(r.status, 422, "{}", r.body);
    }
    let r = emp.post_raw("/api/v1/pseudo", "application/json", b"{not json");
    assert!(r.status == 400 || r.status == 403 || r.status == 422, "{} {}", r.status, r.body);
    let anon = app.another_browser().api("POST", "/api/v1/pseudo", Some(serde_json::json!({"text": "x"})));
    assert_eq!(anon.status, 401);

    // the audit chain says it was used and how much, never what
    let audit = app.get("/api/v1/audit?action=pseudo.used").json();
    let records = audit["records"].as_array().unwrap();
    assert!(records.len() >= 2, "{audit}");
    let all = audit.to_string();
    assert!(!all.contains("Jansen") && !all.contains("111222333"), "{all}");
    let first: serde_json::Value = serde_json::from_str(records.last().unwrap()["details"].as_str().unwrap()).unwrap();
    assert_eq!(first["replaced"]["BSN"], 1, "{first}");
    assert_eq!(first["replaced"]["PERSON"], 3, "{first}");
}

#[test]
fn page_shows_replacements_lets_the_employee_undo_one_and_restores() {
    let app = TestApp::start();
    app.sign_in_admin();
    let (emp, _) = app.employee("medewerker@gemeente.nl", &[]);
    let page = emp.get("/pseudo");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Pseudonimiseren"), "{}", page.body);
    crate::assert_security_headers(&page);

    let csrf = emp.csrf.borrow().clone();
    let r = emp.post_raw("/pseudo", "application/x-www-form-urlencoded", &form(&[("csrf", &csrf), ("text", LETTER), ("lang", "nl")]));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Beste mevrouw Persoon A,"), "{}", r.body);
    assert!(r.body.contains("<mark class=\"pii pii-bsn\""), "the review marks the BSN");
    assert!(r.body.contains("value=\"Zwolle\""), "an undo button per value");
    let vault = r.body.split("name=\"vault\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    assert!(!vault.is_empty());

    // undo: Zwolle stays, the rest keeps its pseudonyms
    let r = emp.post_raw(
        "/pseudo",
        "application/x-www-form-urlencoded",
        &form(&[("csrf", &csrf), ("text", LETTER), ("lang", "nl"), ("vault", &vault), ("undo", "Zwolle")]),
    );
    assert_eq!(r.status, 200);
    let result = r.body.split("id=\"pseudo-result\"").nth(1).unwrap().split("</textarea>").next().unwrap();
    assert!(result.contains("[POSTCODE-1] Zwolle"), "{result}");
    assert!(result.contains("Persoon A"));

    // restore the answer on the same page
    let r = emp.post_raw(
        "/pseudo/restore",
        "application/x-www-form-urlencoded",
        &form(&[("csrf", &csrf), ("vault", &vault), ("answer", "Dear Mrs Person A, call [PHONE-1]. [IBAN-3]")]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Dear Mrs Jansen, call 06-12345678."), "{}", r.body);
    assert!(r.body.contains("<code>[IBAN-3]</code>"), "unmatched tokens are listed");

    // without the CSRF field the form is refused
    let r = emp.post_raw("/pseudo", "application/x-www-form-urlencoded", &form(&[("text", LETTER)]));
    assert_eq!(r.status, 403);
}

/// A stand-in for the outside chat service (the real one is an outside service): it records what
/// it was sent and answers with the user's last message echoed back, whole or streamed in
/// 3-character pieces, so pseudonyms arrive cut in two.
struct Upstream {
    port: u16,
    seen: std::sync::Arc<std::sync::Mutex<Vec<(String, serde_json::Value)>>>,
}

fn upstream() -> Upstream {
    use axum::routing::post;
    let seen: std::sync::Arc<std::sync::Mutex<Vec<(String, serde_json::Value)>>> = Default::default();
    let (tx, rx) = std::sync::mpsc::channel();
    let s2 = seen.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let app = axum::Router::new().route(
                "/v1/chat/completions",
                post(move |headers: axum::http::HeaderMap, body: axum::Json<serde_json::Value>| {
                    let seen = s2.clone();
                    async move {
                        let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                        seen.lock().unwrap().push((auth, body.0.clone()));
                        let last = body.0["messages"].as_array().unwrap().last().unwrap()["content"].as_str().unwrap().to_owned();
                        let answer = format!("Echo: {last}");
                        if body.0["stream"] == true {
                            let chars: Vec<char> = answer.chars().collect();
                            let mut sse = String::new();
                            for piece in chars.chunks(3) {
                                let p: String = piece.iter().collect();
                                let chunk = serde_json::json!({"id": "x", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": p}, "finish_reason": null}]});
                                sse.push_str(&format!("data: {chunk}\n\n"));
                            }
                            let end = serde_json::json!({"id": "x", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]});
                            sse.push_str(&format!("data: {end}\n\ndata: [DONE]\n\n"));
                            ([(axum::http::header::CONTENT_TYPE, "text/event-stream")], sse).into_response()
                        } else {
                            axum::Json(serde_json::json!({"id": "x", "object": "chat.completion", "model": body.0["model"],
                                "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}]}))
                            .into_response()
                        }
                    }
                }),
            );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap().port()).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    Upstream { port: rx.recv().unwrap(), seen }
}

use axum::response::IntoResponse;

#[test]
fn the_ai_chat_gateway_sends_pseudonyms_and_returns_real_names() {
    let up = upstream();
    let url = format!("http://127.0.0.1:{}/v1", up.port);
    let app = TestApp::with_config(Default::default(), |c| {
        c.pseudo.llm = Some(veilig_core::config::LlmConfig {
            url: url.clone(),
            api_key: Some(secrecy::SecretString::from("sk-upstream-secret".to_owned())),
            model: Some("klein-model".into()),
            timeout: std::time::Duration::from_secs(10),
        });
    });
    app.sign_in_admin();
    let (emp, _) = app.employee("medewerker@gemeente.nl", &[]);
    let question = "Vertaal naar het Engels: Beste mevrouw Jansen, uw zoon Daan Jansen (BSN 111222333) kan bellen met 06-12345678.";
    let req = serde_json::json!({"model": "wat-dan-ook", "user": "jansen@example.nl", "messages": [{"role": "system", "content": "Je bent een vertaler."}, {"role": "user", "name": "Fatima_Jansen", "content": question}]});
    let r = emp.api("POST", "/api/v1/llm/v1/chat/completions", Some(req.clone()));
    assert_eq!(r.status, 200, "{}", r.body);
    let answer = r.json()["choices"][0]["message"]["content"].as_str().unwrap().to_owned();
    assert_eq!(answer, format!("Echo: {question}"));
    {
        let seen = up.seen.lock().unwrap();
        let (auth, sent) = &seen[0];
        assert_eq!(auth, "Bearer sk-upstream-secret", "the service's key is added by the gateway");
        assert_eq!(sent["model"], "klein-model", "the administrator's model wins");
        let text = sent.to_string();
        for real in ["Jansen", "Daan", "111222333", "06-12345678"] {
            assert!(!text.contains(real), "{real} reached the chat service: {text}");
        }
        assert!(
            sent.get("user").is_none() && sent["messages"][1].get("name").is_none(),
            "fields that are not pseudonymised stay here: {text}"
        );
        assert!(text.contains("Persoon A") && text.contains("[BSN-1]"), "{text}");
    }

    // streamed in pieces of 3 characters: every pseudonym is cut somewhere and still restored
    let mut streamed = req.clone();
    streamed["stream"] = serde_json::json!(true);
    let r = emp.api("POST", "/api/v1/llm/v1/chat/completions", Some(streamed));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.headers.iter().any(|(k, v)| k == "content-type" && v.starts_with("text/event-stream")));
    let mut text = String::new();
    for line in r.body.lines().filter_map(|l| l.strip_prefix("data: ")) {
        if line == "[DONE]" {
            break;
        }
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        text.push_str(v["choices"][0]["delta"]["content"].as_str().unwrap_or(""));
    }
    assert_eq!(text, format!("Echo: {question}"));
    assert!(r.body.trim_end().ends_with("data: [DONE]"));

    // bad requests and the audit record
    assert_eq!(emp.api("POST", "/api/v1/llm/v1/chat/completions", Some(serde_json::json!({"model": "x"}))).status, 422);
    assert_eq!(emp.api("POST", "/api/v1/llm/v1/chat/completions", Some(serde_json::json!({"messages": [{"content": 5}]}))).status, 422);
    let image = serde_json::json!({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}]});
    assert_eq!(emp.api("POST", "/api/v1/llm/v1/chat/completions", Some(image)).status, 422, "text only");
    assert_eq!(app.another_browser().api("POST", "/api/v1/llm/v1/chat/completions", Some(req)).status, 401);
    let audit = app.get("/api/v1/audit?action=pseudo.llm").json();
    assert_eq!(audit["records"].as_array().unwrap().len(), 2, "{audit}");
    assert!(!audit.to_string().contains("Jansen"));
}

#[test]
fn the_gateway_says_when_it_is_not_configured_or_the_service_is_down() {
    let app = TestApp::start();
    app.sign_in_admin();
    let req = serde_json::json!({"messages": [{"role": "user", "content": "Hallo"}]});
    let r = app.api("POST", "/api/v1/llm/v1/chat/completions", Some(req.clone()));
    assert_eq!(r.status, 404);
    assert!(r.body.contains("not configured"), "{}", r.body);

    // a service that is not there: 502 with a message that names neither the URL nor the key
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let app = TestApp::with_config(Default::default(), |c| {
        c.pseudo.llm = Some(veilig_core::config::LlmConfig {
            url: format!("http://127.0.0.1:{dead}/v1"),
            api_key: Some(secrecy::SecretString::from("sk-upstream-secret".to_owned())),
            model: None,
            timeout: std::time::Duration::from_secs(5),
        });
    });
    app.sign_in_admin();
    let r = app.api("POST", "/api/v1/llm/v1/chat/completions", Some(req));
    assert_eq!(r.status, 502, "{}", r.body);
    assert!(!r.body.contains("sk-upstream") && !r.body.contains(&dead.to_string()), "{}", r.body);
}

#[test]
fn an_uploaded_document_comes_back_as_a_document() {
    use base64::Engine as _;
    let app = TestApp::start();
    app.sign_in_admin();
    let (emp, _) = app.employee("medewerker@gemeente.nl", &[]);
    let csrf = emp.csrf.borrow().clone();
    let body = r#"<w:document xmlns:w="x"><w:body><w:p><w:r><w:t>Beste mevrouw </w:t></w:r><w:r><w:rPr><w:i/></w:rPr><w:t>Bakker</w:t></w:r><w:r><w:t>, uw IBAN is NL91ABNA0417164300.</w:t></w:r></w:p></w:body></w:document>"#;
    let docx = veilig_pseudo::office::build(&[("word/document.xml", body.as_bytes())]);
    let b64 = base64::engine::general_purpose::STANDARD.encode(&docx);
    let r = emp.post_raw(
        "/pseudo",
        "application/x-www-form-urlencoded",
        &form(&[("csrf", &csrf), ("text", ""), ("lang", "nl"), ("file_name", "brief aan cliënt.docx"), ("file_b64", &b64)]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let href = r.body.split("id=\"pseudo-document\"").nth(1).unwrap().split("href=\"data:application/octet-stream;base64,").nth(1).unwrap();
    let doc = base64::engine::general_purpose::STANDARD.decode(href.split('"').next().unwrap()).unwrap();
    assert_eq!(veilig_pseudo::office::text(&doc).unwrap(), "Beste mevrouw Persoon A, uw IBAN is [IBAN-1].\n");
    assert!(r.body.contains("download=\"brief aan cliënt-pseudo.docx\""), "the file name keeps its stem");
    assert!(r.body.contains("<mark class=\"pii pii-iban\""), "the review shows the document's text");
    // an unreadable upload is a clear message, not an error page
    let r = emp.post_raw(
        "/pseudo",
        "application/x-www-form-urlencoded",
        &form(&[
            ("csrf", &csrf),
            ("file_name", "kapot.docx"),
            ("file_b64", &base64::engine::general_purpose::STANDARD.encode(b"PK\x03\x04 stuk")),
        ]),
    );
    assert_eq!(r.status, 200);
    assert!(r.body.contains("Dit bestand kan Veilig niet lezen"), "{}", r.body);
}

#[test]
fn the_organisations_term_list_is_always_hidden() {
    let app = TestApp::with_config(Default::default(), |c| {
        c.pseudo.terms_csv = Some("value,label\nProject Zeemeeuw,\nStichting De Vogelkooi,\nKlaas Vaak,PERSON\n".into());
    });
    app.sign_in_admin();
    let (emp, _) = app.employee("medewerker@gemeente.nl", &[]);
    let r = emp.api("POST", "/api/v1/pseudo", Some(serde_json::json!({"text": "Over project zeemeeuw: bel Klaas Vaak van Stichting De Vogelkooi. \"Kwartel\" en Mees;Merel ook.", "lang": "nl", "terms": ["\"Kwartel\"", "Mees;Merel"]})));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json()["text"],
        "Over [TERM-1]: bel Persoon A van [TERM-2]. [TERM-3] en [TERM-4] ook.",
        "the employee's terms are taken as they are, quotes and semicolons too"
    );
}
