//! The event stream: capabilities publish what happened (a login, a VPN handshake, a detection)
//! and others subscribe, so no capability reaches into another's tables.

use serde::Serialize;
use tokio::sync::broadcast;

/// Something that happened in one capability that others may act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A record was appended to the audit chain.
    Audited { seq: i64, action: String, actor: String },
    /// The server finished starting.
    ServerStarted { version: String },
    /// The server is shutting down.
    ServerStopping,
    /// Someone signed in with both factors.
    LoginSucceeded { user_id: String, email: String, ip: String },
    /// A sign-in failed (wrong password or code, or throttled).
    LoginFailed { email: String, ip: String, reason: String },
    /// A user was disabled: everything they have open must close now.
    UserDisabled { user_id: String },
    /// A user was erased (right to erasure): every capability removes what it holds about them.
    UserErased { user_id: String, email: String },
    /// A user's second factors were reset: their sessions are gone and they must enrol again.
    FactorsReset { user_id: String },
    /// An enrolment link was made for a user (invitation, resend, factor reset). The URL is a
    /// secret: it is mailed, never logged.
    InvitationIssued { user_id: String, url: String },
    /// A second factor was added to or removed from an account.
    FactorChanged { user_id: String, added: bool, kind: String },
    /// The monitoring engine raised an alert.
    MonitorAlert { id: String, rule: String, severity: String, source: String, user: Option<String>, summary: String },
    /// Monitoring's response blocked an address or network (`until_ms` in epoch milliseconds).
    MonitorBlocked { decision_id: String, network: String, until_ms: i64, reason: String, enforced: String },
    /// Monitoring's response asks the VPN to end the session of the owner of the device whose
    /// tunnel address is `address` (a high-severity alert came from inside the tunnel).
    EndVpnAccess { address: String, reason: String },
    /// A session ended (logout, expiry, an administrator).
    SessionEnded { user_id: String, reason: String },
    /// An employee pressed Connect: their devices' peers go into the data plane.
    VpnSessionOpened { user_id: String, email: String, ip: String },
    /// A VPN session ended (`disconnect`, `expired`, `idle`, `user_disabled`, `factors_reset`,
    /// `ended_by_administrator`, `monitoring_alert`); the peers leave the data plane.
    VpnSessionClosed { user_id: String, email: String, reason: String },
    /// A device's peer was installed in or removed from the data plane.
    VpnPeerChanged { device_id: String, user_id: String, address: String, installed: bool },
    /// A person no longer meets their groups' device conditions for the VPN (a report, a
    /// revoked certificate, a changed policy): their VPN session must end.
    DeviceAccessLost { user_id: String, reason: String },
    /// The security officer answered an employee's report of a cloud service (`approved`,
    /// `rejected` with the alternative in `reply`, or `question`).
    CloudReportAnswered { user_id: String, what: String, status: String, reply: String },
    /// A device completed a WireGuard handshake with the gateway.
    VpnHandshake { device_id: String, user_id: String, endpoint: String },
    /// Bytes a device moved through the tunnel (both ways) since the last such event (about
    /// every ten seconds while it is busy).
    VpnTraffic { device_id: String, email: String, address: String, bytes: u64 },
    /// Packets from a device that no access rule allows (a summary, at most once a minute).
    VpnDenied { device_id: String, user_id: String, email: String, address: String, count: u64, example: String },
}

/// A broadcast channel of [`Event`]s. Slow subscribers lose the oldest events rather than
/// slowing down the publisher; they are told how many they missed.
#[derive(Debug, Clone)]
pub struct EventBus {
    tx: broadcast::Sender<Event>,
}

impl EventBus {
    pub fn new(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity.max(1));
        Self { tx }
    }

    /// Publishes an event; it is fine for nobody to be listening.
    pub fn publish(&self, event: Event) {
        let _ = self.tx.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new(1024)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn subscribers_receive_published_events() {
        let bus = EventBus::new(8);
        let mut rx = bus.subscribe();
        bus.publish(Event::ServerStopping);
        assert_eq!(rx.recv().await.ok(), Some(Event::ServerStopping));
    }
}
