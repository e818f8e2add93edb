//! The gateway task: keeps the data plane equal to the database (a device's peer is installed
//! exactly while its owner has an open session), ends sessions on expiry, idleness, disabling
//! and factor resets, and reports handshakes, traffic and denied packets.
//!
//! Changes are applied when they happen ([`Vpn::changed`] wakes the task), not at the next
//! poll; the once-a-second tick only reads statistics and checks lifetimes.

use std::collections::HashMap;
use std::future::Future;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast::error::RecvError;
use veilig_audit::Outcome;
use veilig_core::Event;
use veilig_store::DeviceRecord;
use veilig_vpn_engine::{Key, Rule};

use crate::dataplane::{DataPlane, PeerStat};
use crate::service::{Vpn, VpnError};

/// Denied packets are summarised per device at most this often (seconds).
const DENIED_SUMMARY_SECS: u64 = 10;

/// A peer in the data plane.
#[derive(Debug, Clone)]
struct Installed {
    key: Key,
    address: Ipv4Addr,
    user_id: String,
    user_email: String,
    rules: Arc<[Rule]>,
    /// The last handshake seen, in ms since the epoch.
    handshake_ms: Option<i64>,
    endpoint: Option<String>,
    /// The data plane's byte counters (which start at zero for each install) already added
    /// to the stored totals.
    rx_written: u64,
    tx_written: u64,
}

/// Runs the gateway until `stop` completes; then removes every peer and stops the data plane.
pub async fn run(vpn: Vpn, mut plane: DataPlane, stop: impl Future<Output = ()>) {
    let mut knocks = plane.take_knocks();
    let mut gw = Gateway { vpn: vpn.clone(), plane, installed: HashMap::new(), ticks: 0, knocked: HashMap::new() };
    let mut events = vpn.bus().subscribe();
    vpn.set_running(true);
    gw.sync().await;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => break,
            () = vpn.wait_changed() => gw.sync().await,
            ev = events.recv() => match ev {
                Ok(Event::UserDisabled { user_id }) => gw.end(&user_id, "user_disabled").await,
                Ok(Event::FactorsReset { user_id }) => gw.end(&user_id, "factors_reset").await,
                Ok(Event::DeviceAccessLost { user_id, .. }) => gw.end(&user_id, "device_conditions").await,
                Ok(Event::EndVpnAccess { address, reason }) => match vpn.end_for_alert(&address, &reason).await {
                    Ok(Some(user_id)) => tracing::warn!(%user_id, %reason, "VPN session ended by a monitoring alert"),
                    Ok(None) => {}
                    Err(e) => tracing::error!(error = %e, "cannot end a VPN session for an alert"),
                },
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => break,
            },
            _ = tick.tick() => gw.tick().await,
            Some((msg, from)) = async { match knocks.as_mut() { Some(k) => k.recv().await, None => std::future::pending().await } } => {
                gw.knock(&msg, from).await;
            }
        }
    }
    vpn.set_running(false);
    gw.report_denied().await;
    let keys: Vec<String> = gw.installed.keys().cloned().collect();
    gw.remove_all(&keys).await;
    gw.plane.stop().await;
    tracing::info!("WireGuard gateway stopped");
}

struct Gateway {
    vpn: Vpn,
    plane: DataPlane,
    installed: HashMap<String, Installed>,
    ticks: u64,
    /// Devices that knocked without a session: when we last wrote that down (ms).
    knocked: HashMap<String, i64>,
}

/// A device knocking without a session is written to the audit log at most this often.
const KNOCK_AUDIT_MS: i64 = 600_000;

impl Gateway {
    /// A handshake initiation arrived. When it is from a device that is not in the data plane
    /// (its owner has not pressed Connect), remember where it came from: at Connect the
    /// gateway starts the handshake itself, and the first packet flows at once.
    async fn knock(&mut self, msg: &[u8], from: std::net::SocketAddr) {
        let pair = self.vpn.key_pair();
        let Some(key) = veilig_vpn_engine::handshake::initiator_static(pair.private_bytes(), &pair.public, msg) else { return };
        if self.installed.values().any(|i| i.key == key) {
            return;
        }
        let device = match self.vpn.store().vpn_device_by_key(&key.to_base64()).await {
            Ok(Some(d)) => d,
            Ok(None) => return,
            Err(e) => {
                tracing::error!(error = %e, "cannot look up a device");
                return;
            }
        };
        let endpoint = from.to_string();
        if device.endpoint.as_deref() != Some(endpoint.as_str())
            && let Err(e) = self.vpn.store().vpn_device_stats(&device.id, None, Some(endpoint.clone()), 0, 0).await
        {
            tracing::error!(error = %e, "cannot record a device's address");
        }
        let now = self.vpn.now_ms();
        if self.knocked.get(&device.id).is_none_or(|t| now - t >= KNOCK_AUDIT_MS) {
            self.knocked.insert(device.id.clone(), now);
            let _ = self
                .vpn
                .audit_system(
                    "vpn.handshake_refused",
                    &device.user_email,
                    Outcome::Denied,
                    serde_json::json!({"device": device.name, "endpoint": endpoint, "why": "no open VPN session"}),
                )
                .await;
        }
    }

    async fn end(&mut self, user_id: &str, reason: &str) {
        match self.vpn.end_session(None, user_id, reason).await {
            Ok(_) => self.sync().await,
            Err(e) => tracing::error!(error = %e, "cannot end a VPN session"),
        }
    }

    /// Makes the data plane hold exactly the devices whose owners have an open session, with
    /// their current rules.
    async fn sync(&mut self) {
        if let Err(e) = self.try_sync().await {
            tracing::error!(error = %e, "cannot bring the VPN data plane up to date; retrying at the next tick");
        }
    }

    async fn try_sync(&mut self) -> Result<(), VpnError> {
        let wanted: Vec<DeviceRecord> = self.vpn.store().vpn_devices_with_open_session().await?;
        let mut rules_of: HashMap<String, Arc<[Rule]>> = HashMap::new();
        for d in &wanted {
            if !rules_of.contains_key(&d.user_id) {
                let rules: Arc<[Rule]> = self.vpn.rules_for(&d.user_id).await?.into();
                rules_of.insert(d.user_id.clone(), rules);
            }
        }
        let gone: Vec<String> = self.installed.keys().filter(|id| !wanted.iter().any(|d| &&d.id == id)).cloned().collect();
        self.remove_all(&gone).await;
        for d in wanted {
            let (Ok(key), Ok(address)) = (Key::parse(&d.public_key), d.address.parse::<Ipv4Addr>()) else {
                tracing::error!(device = %d.id, "stored device has an unusable key or address; skipped");
                continue;
            };
            let rules = rules_of.get(&d.user_id).cloned().unwrap_or_else(|| Arc::from(Vec::new()));
            match self.installed.get_mut(&d.id) {
                Some(i) if i.key == key && i.address == address => {
                    if i.rules != rules {
                        match self.plane.set_rules(address, rules.clone()).await {
                            Ok(()) => i.rules = rules,
                            Err(e) => tracing::error!(error = %e, "cannot change a device's rules"),
                        }
                    }
                }
                _ => {
                    if let Some(old) = self.installed.remove(&d.id) {
                        let _ = self.plane.uninstall(&old.key, old.address).await;
                    }
                    let endpoint = d.endpoint.as_deref().and_then(|e| e.parse().ok());
                    if let Err(e) = self.plane.install(&key, address, rules.clone(), endpoint).await {
                        tracing::error!(error = %e, device = %d.id, "cannot install a peer");
                        continue;
                    }
                    self.vpn.bus().publish(Event::VpnPeerChanged {
                        device_id: d.id.clone(),
                        user_id: d.user_id.clone(),
                        address: d.address.clone(),
                        installed: true,
                    });
                    let _ = self
                        .vpn
                        .audit_system(
                            "vpn.peer_added",
                            &d.user_email,
                            Outcome::Success,
                            serde_json::json!({"device": d.name, "address": d.address}),
                        )
                        .await;
                    self.installed.insert(
                        d.id.clone(),
                        Installed {
                            key,
                            address,
                            user_id: d.user_id.clone(),
                            user_email: d.user_email.clone(),
                            rules,
                            handshake_ms: d.last_handshake_ms,
                            endpoint: d.endpoint.clone(),
                            rx_written: 0,
                            tx_written: 0,
                        },
                    );
                }
            }
        }
        Ok(())
    }

    /// Removes these devices' peers, reading the data plane's statistics once for all of them.
    async fn remove_all(&mut self, ids: &[String]) {
        if ids.is_empty() {
            return;
        }
        let stats = self.plane.stats().await;
        for id in ids {
            self.remove(id, &stats).await;
        }
    }

    async fn remove(&mut self, id: &str, stats: &[PeerStat]) {
        let Some(i) = self.installed.remove(id) else { return };
        // Keep where the device last spoke from, so a next session can start the handshake
        // from the gateway's side at once.
        if let Some(s) = stats.iter().find(|s| s.public_key == i.key) {
            let (rx, tx) = (delta(s.rx_bytes, i.rx_written), delta(s.tx_bytes, i.tx_written));
            let _ = self.vpn.store().vpn_device_stats(id, None, s.endpoint.map(|e| e.to_string()), rx, tx).await;
        }
        if let Err(e) = self.plane.uninstall(&i.key, i.address).await {
            tracing::error!(error = %e, device = %id, "cannot remove a peer");
        }
        self.vpn.bus().publish(Event::VpnPeerChanged {
            device_id: id.to_owned(),
            user_id: i.user_id.clone(),
            address: i.address.to_string(),
            installed: false,
        });
        let _ = self
            .vpn
            .audit_system(
                "vpn.peer_removed",
                &i.user_email,
                Outcome::Success,
                serde_json::json!({"device_id": id, "address": i.address.to_string()}),
            )
            .await;
    }

    async fn tick(&mut self) {
        self.ticks += 1;
        let now = self.vpn.now_ms();
        self.plane.tick(u64::try_from(now).unwrap_or(0), self.ticks.is_multiple_of(10));
        let stats = self.plane.stats().await;
        self.record_stats(now, &stats).await;
        if let Err(e) = self.check_sessions(now).await {
            tracing::error!(error = %e, "cannot check VPN sessions");
        }
        if self.ticks.is_multiple_of(10) {
            // A safety net: anything a lost wake-up missed is put right within ten seconds.
            self.sync().await;
        }
        if self.ticks.is_multiple_of(DENIED_SUMMARY_SECS) {
            self.report_denied().await;
        }
        if self.ticks % 3600 == 1 {
            let keep_ms = i64::try_from(self.vpn.config().retention.as_millis()).unwrap_or(i64::MAX);
            match self.vpn.store().vpn_sessions_purge(now.saturating_sub(keep_ms)).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(sessions = n, "removed ended VPN sessions past their retention period"),
                Err(e) => tracing::error!(error = %e, "cannot purge old VPN sessions"),
            }
        }
    }

    async fn record_stats(&mut self, now: i64, stats: &[PeerStat]) {
        let by_key: HashMap<Key, &PeerStat> = stats.iter().map(|s| (s.public_key, s)).collect();
        let store_bytes = self.ticks.is_multiple_of(10);
        for (id, i) in &mut self.installed {
            let Some(s) = by_key.get(&i.key) else { continue };
            let handshake_ms = s.since_handshake.map(|d| now - i64::try_from(d.as_millis()).unwrap_or(0));
            let endpoint = s.endpoint.map(|e| e.to_string());
            // A new handshake: later than the one we knew by more than the timer's jitter.
            let new_handshake = match (handshake_ms, i.handshake_ms) {
                (Some(h), Some(old)) => h > old + 1500,
                (Some(_), None) => true,
                _ => false,
            };
            if new_handshake || store_bytes {
                // The data plane counts from the install; the store keeps totals: add only
                // what was not added before.
                let (rx, tx) = (delta(s.rx_bytes, i.rx_written), delta(s.tx_bytes, i.tx_written));
                match self.vpn.store().vpn_device_stats(id, handshake_ms.filter(|_| new_handshake), endpoint.clone(), rx, tx).await {
                    Ok(()) => {
                        i.rx_written = s.rx_bytes.max(i.rx_written);
                        i.tx_written = s.tx_bytes.max(i.tx_written);
                        if rx + tx > 0 {
                            self.vpn.bus().publish(Event::VpnTraffic {
                                device_id: id.clone(),
                                email: i.user_email.clone(),
                                address: i.address.to_string(),
                                bytes: u64::try_from(rx.saturating_add(tx)).unwrap_or(0),
                            });
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "cannot record VPN statistics"),
                }
            }
            if new_handshake {
                let moved = endpoint.is_some() && endpoint != i.endpoint;
                i.handshake_ms = handshake_ms;
                if let Some(h) = handshake_ms {
                    let _ = self.vpn.store().vpn_session_touch(&i.user_id, h).await;
                }
                let shown = endpoint.clone().unwrap_or_default();
                self.vpn.bus().publish(Event::VpnHandshake { device_id: id.clone(), user_id: i.user_id.clone(), endpoint: shown.clone() });
                if moved {
                    // The first handshake from an address goes into the audit chain; the
                    // re-keying every two minutes from the same address does not.
                    let _ = self
                        .vpn
                        .audit_system(
                            "vpn.handshake",
                            &i.user_email,
                            Outcome::Success,
                            serde_json::json!({"device_id": id, "endpoint": shown}),
                        )
                        .await;
                }
                i.endpoint = endpoint;
            }
        }
    }

    async fn check_sessions(&mut self, now: i64) -> Result<(), VpnError> {
        let idle_ms = i64::try_from(self.vpn.config().idle.as_millis()).unwrap_or(i64::MAX);
        for s in self.vpn.sessions_open().await? {
            let reason = if now >= s.expires_ms {
                "expired"
            } else if now.saturating_sub(s.last_activity_ms.max(s.opened_ms)) >= idle_ms {
                "idle"
            } else {
                continue;
            };
            self.vpn.end_session(None, &s.user_id, reason).await?;
        }
        Ok(())
    }

    async fn report_denied(&mut self) {
        for d in self.plane.take_denied().await {
            let owner = self.installed.iter().find(|(_, i)| std::net::IpAddr::V4(i.address) == d.device);
            let (device_id, user_id, email) = match owner {
                Some((id, i)) => (id.clone(), i.user_id.clone(), i.user_email.clone()),
                None => (String::new(), String::new(), d.device.to_string()),
            };
            self.vpn.bus().publish(Event::VpnDenied {
                device_id: device_id.clone(),
                user_id,
                email: email.clone(),
                address: d.device.to_string(),
                count: d.count,
                example: d.example.clone(),
            });
            let _ = self
                .vpn
                .audit_system(
                    "vpn.packets_denied",
                    &email,
                    Outcome::Denied,
                    serde_json::json!({"device_id": device_id, "address": d.device.to_string(), "count": d.count, "example": d.example}),
                )
                .await;
        }
    }
}

/// Bytes counted since `written`, for adding to a stored total.
fn delta(now: u64, written: u64) -> i64 {
    i64::try_from(now.saturating_sub(written)).unwrap_or(i64::MAX)
}
