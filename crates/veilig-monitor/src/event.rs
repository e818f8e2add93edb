//! What a parsed log line says.

use std::net::IpAddr;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A packet the firewall logged.
    Packet,
    /// A failed sign-in (wrong password, unknown user).
    AuthFailure,
    /// A successful sign-in.
    AuthSuccess,
    /// Bytes a VPN device moved (Veilig's own gateway).
    Traffic,
}

/// What the firewall did with a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Drop,
    Accept,
    Unknown,
}

/// One event. Strings borrow from the line; nothing is allocated for the common case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event<'a> {
    /// Milliseconds since the Unix epoch, from the line's own time stamp.
    pub ts_ms: i64,
    pub kind: Kind,
    pub action: Action,
    pub src: Option<IpAddr>,
    pub dst: Option<IpAddr>,
    pub src_port: Option<u16>,
    pub dst_port: Option<u16>,
    /// `TCP`, `UDP`, `ICMP`, ... as the log says it.
    pub proto: &'a str,
    /// The inbound interface, for packets.
    pub iface: &'a str,
    /// The account, for sign-ins.
    pub user: &'a str,
    /// Which program or device wrote it (`kernel`, `sshd`, `filterlog`).
    pub source: &'a str,
    /// The whole line, for the example an alert shows.
    pub line: &'a str,
    /// Bytes moved, for `Traffic` events.
    pub bytes: u64,
}

impl<'a> Event<'a> {
    pub fn new(ts_ms: i64, kind: Kind, source: &'a str) -> Self {
        Event {
            ts_ms,
            kind,
            action: Action::Unknown,
            src: None,
            dst: None,
            src_port: None,
            dst_port: None,
            proto: "",
            iface: "",
            user: "",
            source,
            line: "",
            bytes: 0,
        }
    }
}
