//! `veilig serve`: configuration -> store -> router -> listener, and a graceful stop.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use secrecy::ExposeSecret;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;
use veilig_audit::Entry;
use veilig_core::config::{LogFormat, TlsConfig};
use veilig_core::{Config, Event, EventBus, SharedClock, SystemClock};
use veilig_store::Store;
use veilig_web::AppState;

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log.level).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match config.log.format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Builds the TLS acceptor from the configured PEM files, with a clear error when they do not
/// hold a usable certificate and key.
pub fn tls_acceptor(tls: &TlsConfig) -> Result<TlsAcceptor, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&tls.cert)
        .map_err(|e| format!("cannot read {}: {e}", tls.cert.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{} is not a PEM certificate chain: {e}", tls.cert.display()))?;
    if certs.is_empty() {
        return Err(format!("{} holds no certificate", tls.cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(&tls.key).map_err(|e| format!("{} holds no usable private key: {e}", tls.key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("the certificate and key do not fit together: {e}"))?;
    server.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(server)))
}

pub async fn serve(config: Config) -> ExitCode {
    init_logging(&config);
    let tls = match config.tls.as_ref().map(tls_acceptor).transpose() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("veilig: TLS: {e}");
            return ExitCode::from(2);
        }
    };
    let store = match tokio::time::timeout(
        Duration::from_secs(15),
        Store::connect(config.database.url.expose_secret(), config.database.max_connections),
    )
    .await
    {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            eprintln!("veilig: {e}");
            return ExitCode::from(2);
        }
        Err(_) => {
            eprintln!("veilig: cannot open the database: no answer within 15 seconds");
            return ExitCode::from(2);
        }
    };
    match store.migrate().await {
        Ok(applied) => {
            for m in applied {
                tracing::info!(version = m.version, name = m.name, "migration applied");
            }
        }
        Err(e) => {
            eprintln!("veilig: {e}");
            return ExitCode::from(2);
        }
    }
    let listener = match TcpListener::bind(config.listen).await {
        Ok(l) => l,
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            eprintln!("veilig: cannot listen on {}: the port is already in use", config.listen);
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("veilig: cannot listen on {}: {e}", config.listen);
            return ExitCode::from(2);
        }
    };
    let local = listener.local_addr().unwrap_or(config.listen);

    let clock: SharedClock = Arc::new(SystemClock);
    let bus = EventBus::default();
    let identity = match crate::wiring::identity(&config, &store, clock.clone(), bus.clone()) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("veilig: {e}");
            return ExitCode::from(2);
        }
    };
    let started = Entry::new("system", "platform.started", "veilig").details(serde_json::json!({
        "version": veilig_core::VERSION,
        "database": config.database_kind(),
        "listen": local.to_string(),
        "tls": config.tls.is_some(),
    }));
    if let Err(e) = store.audit(clock.now_ms(), &started).await {
        eprintln!("veilig: cannot write to the audit log: {e}");
        return ExitCode::from(2);
    }
    let grace = config.shutdown_grace;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let setup_link = match identity.setup_needed().await {
        Ok(true) => match identity.issue_setup_token().await {
            Ok(token) => Some(format!("{}/setup/{token}", config.public_url)),
            Err(e) => {
                eprintln!("veilig: cannot make a setup link: {e}");
                return ExitCode::from(2);
            }
        },
        Ok(false) => None,
        Err(e) => {
            eprintln!("veilig: {e}");
            return ExitCode::from(2);
        }
    };
    crate::wiring::spawn_session_sweeper(identity.clone());
    let rules = match crate::replay::load_rules(config.rules_dir.as_deref()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let lists = match crate::replay::load_lists(&config.lists) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("veilig: {e}");
            return ExitCode::from(2);
        }
    };
    let mut engine = veilig_monitor::Engine::new(rules, veilig_monitor::engine::Budget::default()).with_lists(&lists);
    match crate::replay::load_geo(&config.geoip) {
        Ok(Some(geo)) => engine = engine.with_geo(geo),
        Ok(None) => {}
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    }
    let ingest = veilig_ingest::Ingest::with_engine(store.clone(), bus.clone(), clock.clone(), engine);
    veilig_ingest::spawn_own_events(ingest.clone());
    let mut listening = Vec::new();
    if let Some(addr) = config.syslog_udp {
        match veilig_ingest::spawn_udp(addr, ingest.clone()).await {
            Ok(a) => listening.push(format!("syslog UDP {a}")),
            Err(e) => {
                eprintln!("veilig: cannot receive syslog on UDP {addr}: {e}");
                return ExitCode::from(2);
            }
        }
    }
    if let Some(addr) = config.syslog_tcp {
        match veilig_ingest::spawn_tcp(addr, ingest.clone()).await {
            Ok(a) => listening.push(format!("syslog TCP {a}")),
            Err(e) => {
                eprintln!("veilig: cannot receive syslog on TCP {addr}: {e}");
                return ExitCode::from(2);
            }
        }
    }
    if !config.log_files.is_empty() {
        let names: Vec<String> = config.log_files.iter().map(|p| p.display().to_string()).collect();
        listening.push(format!("log files {}", names.join(", ")));
        veilig_ingest::files::spawn_files(config.log_files.clone(), ingest.clone()).await;
    }
    if let (Some(addr), Some(acceptor)) = (config.syslog_tls, tls.clone()) {
        match veilig_ingest::spawn_tls(addr, acceptor, ingest.clone()).await {
            Ok(a) => listening.push(format!("syslog TLS {a}")),
            Err(e) => {
                eprintln!("veilig: cannot receive syslog on TLS {addr}: {e}");
                return ExitCode::from(2);
            }
        }
    }
    match crate::wiring::spawn_mail(&config, &store, &bus) {
        Ok(true) => tracing::info!("mail notices are on"),
        Ok(false) => tracing::info!("no mail server configured: invitation links are shown on the pages"),
        Err(e) => {
            eprintln!("veilig: {e}");
            return ExitCode::from(2);
        }
    }
    veilig_mail::desk::spawn_erasure(&bus, store.clone(), clock.clone());
    match crate::wiring::spawn_phishing_desk(&config, &store, clock.clone()) {
        Ok(true) => tracing::info!("the phishing desk reads its report mailbox"),
        Ok(false) => {}
        Err(e) => {
            eprintln!("veilig: {e}");
            return ExitCode::from(2);
        }
    }
    let vpn = match crate::wiring::vpn(&config, &store, clock.clone(), bus.clone()) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("veilig: {e}");
            return ExitCode::from(2);
        }
    };
    let (stop_gateway, gateway_stopped) = tokio::sync::oneshot::channel::<()>();
    let mut gateway = None;
    if config.vpn.enabled {
        match veilig_vpn::dataplane::DataPlane::open(&config.vpn, vpn.key_pair()).await {
            Ok(plane) => {
                listening.push(format!(
                    "WireGuard UDP port {} (interface {}, {} data plane)",
                    plane.port(),
                    plane.interface(),
                    plane.kind()
                ));
                let stop = async move {
                    let _ = gateway_stopped.await;
                };
                gateway = Some(tokio::spawn(veilig_vpn::gateway::run(vpn.clone(), plane, stop)));
            }
            Err(e) => {
                eprintln!("veilig: VPN: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let responder = match crate::wiring::responder(&config, &store, clock.clone(), bus.clone()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("veilig: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = responder.start().await {
        eprintln!("veilig: response.nftables is on but blocks cannot be enforced on this host: {e}");
        return ExitCode::from(2);
    }
    if responder.enforces_on_host() {
        listening.push("blocks into nftables table inet veilig_block".to_owned());
    }
    responder.spawn();
    responder.spawn_webhooks();
    let devices = match crate::wiring::devices(&config, &store, clock.clone(), bus.clone()).await {
        Ok(d) => d,
        Err(e) => {
            eprintln!("veilig: {e}");
            return ExitCode::from(2);
        }
    };
    let agent_listen = config.devices.agent_listen;
    let state = AppState::new(
        store.clone(),
        clock.clone(),
        config,
        bus.clone(),
        veilig_web::Capabilities {
            identity,
            vpn,
            respond: responder,
            ingest: ingest.clone(),
            devices: devices.clone(),
            register: match veilig_register::Register::new(store.clone(), clock.clone(), bus.clone()) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("veilig: the cloud catalog: {e}");
                    return ExitCode::from(2);
                }
            },
        },
    );
    if let Some(addr) = agent_listen {
        match spawn_agent_endpoint(addr, &devices, state.clone()).await {
            Ok(a) => listening.push(format!("device agents on {a} (mutual TLS)")),
            Err(e) => {
                eprintln!("veilig: device agent endpoint on {addr}: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let app = veilig_web::router(state);
    bus.publish(Event::ServerStarted { version: veilig_core::VERSION.to_owned() });

    tracing::info!(address = %local, tls = tls.is_some(), "listening");
    println!("Veilig {} is running at {scheme}://{local}", veilig_core::VERSION);
    for l in &listening {
        println!("Receiving {l}");
    }
    match setup_link {
        Some(link) => {
            println!("There is no administrator yet. Open this one-time link within 24 hours to create one");
            println!("(a new link is printed at every start until an administrator has signed in):");
            println!("  {link}");
        }
        None => println!("Open that address in a browser and sign in. Stop with Ctrl+C."),
    }

    serve_connections(listener, tls, app, grace).await;

    if let Some(task) = gateway {
        let _ = stop_gateway.send(());
        if tokio::time::timeout(Duration::from_secs(10), task).await.is_err() {
            tracing::error!("the VPN gateway did not stop within 10 seconds");
        }
    }

    bus.publish(Event::ServerStopping);
    let stopped = Entry::new("system", "platform.stopped", "veilig");
    if let Err(e) = store.audit(clock.now_ms(), &stopped).await {
        tracing::error!(error = %e, "could not record the stop in the audit log");
    }
    store.close().await;
    tracing::info!("stopped");
    ExitCode::SUCCESS
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// The device agents' endpoint: TLS with a server certificate from the device CA, and a client
/// certificate from the same CA required on every connection. The certificate's SHA-256 goes
/// with each request; the handler checks it against the inventory (unknown, revoked, expired).
async fn spawn_agent_endpoint(addr: SocketAddr, devices: &veilig_compliance::Devices, state: AppState) -> Result<SocketAddr, String> {
    let url = devices.settings().agent_url.clone().unwrap_or_default();
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(&url);
    let authority = rest.split('/').next().unwrap_or(rest);
    let host = if authority.starts_with('[') {
        authority.trim_start_matches('[').split(']').next().unwrap_or(authority)
    } else {
        authority.split(':').next().unwrap_or(authority)
    };
    let mut names = vec![host.to_owned()];
    if !addr.ip().is_unspecified() && addr.ip().to_string() != host {
        names.push(addr.ip().to_string());
    }
    let (cert_pem, key_pem) = devices.server_identity(&names).map_err(|e| e.to_string())?;
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(cert_pem.as_bytes()).collect::<Result<_, _>>().map_err(|e| e.to_string())?;
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|e| e.to_string())?;
    let mut roots = rustls::RootCertStore::empty();
    for ca in CertificateDer::pem_slice_iter(devices.ca_pem().as_bytes()) {
        roots.add(ca.map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| e.to_string())?;
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs, key)
        .map_err(|e| e.to_string())?;
    let acceptor = TlsAcceptor::from(Arc::new(server));
    let listener = TcpListener::bind(addr).await.map_err(|e| e.to_string())?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let app = veilig_web::agent_router(state);
    let builder = Builder::new(TokioExecutor::new());
    tokio::spawn(async move {
        loop {
            let Ok((stream, peer)) = listener.accept().await else {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            let acceptor = acceptor.clone();
            let builder = builder.clone();
            let app = app.clone();
            tokio::spawn(async move {
                // a connection without a valid device certificate ends in the handshake
                let Ok(Ok(stream)) = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream)).await else { return };
                let Some(sha) = stream.get_ref().1.peer_certificates().and_then(|c| c.first()).map(|c| veilig_compliance::fingerprint(c))
                else {
                    return;
                };
                let svc = app.map_request(move |mut req: Request<Incoming>| {
                    req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                    req.extensions_mut().insert(veilig_web::AgentPeer(sha.clone()));
                    req
                });
                let _ = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(svc)).await;
            });
        }
    });
    Ok(local)
}

/// Accepts connections until a stop signal, then lets the running requests finish (up to
/// `grace`) while accepting no new ones.
async fn serve_connections(listener: TcpListener, tls: Option<TlsAcceptor>, app: axum::Router, grace: Duration) {
    let graceful = GracefulShutdown::new();
    let builder = Builder::new(TokioExecutor::new());
    let signal = shutdown_signal();
    tokio::pin!(signal);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut signal => break,
        };
        let _ = stream.set_nodelay(true);
        let svc = app.clone().map_request(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            req
        });
        let svc = TowerToHyperService::new(svc);
        match &tls {
            None => {
                let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), svc).into_owned();
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                let builder = builder.clone();
                let watcher = graceful.watcher();
                tokio::spawn(async move {
                    let stream = match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream)).await {
                        Ok(Ok(s)) => s,
                        _ => return,
                    };
                    let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), svc).into_owned();
                    let _ = watcher.watch(conn).await;
                });
            }
        }
    }
    tracing::info!("stop requested; finishing running requests");
    drop(listener);
    if tokio::time::timeout(grace, graceful.shutdown()).await.is_err() {
        tracing::warn!("some requests were still running after the grace period");
    }
}
