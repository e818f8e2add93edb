//! The VPN's tables: devices, sessions, access rules and per-group session limits.

use crate::Result;
use crate::db::{Arg, Row, Store, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRecord {
    pub id: String,
    pub user_id: String,
    pub user_email: String,
    pub name: String,
    pub public_key: String,
    pub address: String,
    pub created_ms: i64,
    pub last_handshake_ms: Option<i64>,
    pub endpoint: Option<String>,
    pub rx_bytes: i64,
    pub tx_bytes: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VpnSessionRecord {
    pub id: String,
    pub user_id: String,
    pub user_email: String,
    pub opened_ms: i64,
    pub expires_ms: i64,
    pub last_activity_ms: i64,
    pub closed_ms: Option<i64>,
    pub close_reason: Option<String>,
    pub ip: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRecord {
    pub id: String,
    pub group_id: String,
    pub group_name: String,
    pub network: String,
    pub protocol: String,
    pub port_from: Option<i64>,
    pub port_to: Option<i64>,
    pub description: String,
    pub created_ms: i64,
}

const DEVICE: &str = "SELECT d.id, d.user_id, u.email, d.name, d.public_key, d.address, d.created_ms, d.last_handshake_ms, d.endpoint, \
                      d.rx_bytes, d.tx_bytes FROM vpn_devices d JOIN users u ON u.id = d.user_id";
const SESSION: &str = "SELECT s.id, s.user_id, u.email, s.opened_ms, s.expires_ms, s.last_activity_ms, s.closed_ms, s.close_reason, s.ip \
                       FROM vpn_sessions s JOIN users u ON u.id = s.user_id";
const RULE: &str = "SELECT r.id, r.group_id, g.name, r.network, r.protocol, r.port_from, r.port_to, r.description, r.created_ms \
                    FROM vpn_rules r JOIN groups g ON g.id = r.group_id";

fn device(r: &Row) -> Result<DeviceRecord> {
    Ok(DeviceRecord {
        id: r.text(0)?,
        user_id: r.text(1)?,
        user_email: r.text(2)?,
        name: r.text(3)?,
        public_key: r.text(4)?,
        address: r.text(5)?,
        created_ms: r.int(6)?,
        last_handshake_ms: r.opt_int(7)?,
        endpoint: r.opt_text(8)?,
        rx_bytes: r.int(9)?,
        tx_bytes: r.int(10)?,
    })
}

fn session(r: &Row) -> Result<VpnSessionRecord> {
    Ok(VpnSessionRecord {
        id: r.text(0)?,
        user_id: r.text(1)?,
        user_email: r.text(2)?,
        opened_ms: r.int(3)?,
        expires_ms: r.int(4)?,
        last_activity_ms: r.int(5)?,
        closed_ms: r.opt_int(6)?,
        close_reason: r.opt_text(7)?,
        ip: r.text(8)?,
    })
}

fn rule(r: &Row) -> Result<RuleRecord> {
    Ok(RuleRecord {
        id: r.text(0)?,
        group_id: r.text(1)?,
        group_name: r.text(2)?,
        network: r.text(3)?,
        protocol: r.text(4)?,
        port_from: r.opt_int(5)?,
        port_to: r.opt_int(6)?,
        description: r.text(7)?,
        created_ms: r.int(8)?,
    })
}

impl Store {
    pub async fn vpn_devices_all(&self) -> Result<Vec<DeviceRecord>> {
        self.fetch_all(&format!("{DEVICE} ORDER BY u.email, d.name"), &[]).await?.iter().map(device).collect()
    }

    pub async fn vpn_devices_of(&self, user_id: &str) -> Result<Vec<DeviceRecord>> {
        self.fetch_all(&format!("{DEVICE} WHERE d.user_id = $1 ORDER BY d.created_ms, d.id"), &[user_id.into()])
            .await?
            .iter()
            .map(device)
            .collect()
    }

    pub async fn vpn_device(&self, id: &str) -> Result<Option<DeviceRecord>> {
        self.fetch_optional(&format!("{DEVICE} WHERE d.id = $1"), &[id.into()]).await?.as_ref().map(device).transpose()
    }

    pub async fn vpn_device_by_key(&self, public_key: &str) -> Result<Option<DeviceRecord>> {
        self.fetch_optional(&format!("{DEVICE} WHERE d.public_key = $1"), &[public_key.into()]).await?.as_ref().map(device).transpose()
    }

    /// The devices whose owners have an open session: what the data plane should hold.
    pub async fn vpn_devices_with_open_session(&self) -> Result<Vec<DeviceRecord>> {
        self.fetch_all(
            &format!("{DEVICE} WHERE d.user_id IN (SELECT user_id FROM vpn_sessions WHERE closed_ms IS NULL) ORDER BY d.id"),
            &[],
        )
        .await?
        .iter()
        .map(device)
        .collect()
    }

    /// Records what the data plane reports about a device: a newer handshake, the address it
    /// came from, and the bytes moved since the last report (added to the totals).
    pub async fn vpn_device_stats(
        &self,
        id: &str,
        handshake_ms: Option<i64>,
        endpoint: Option<String>,
        rx_delta: i64,
        tx_delta: i64,
    ) -> Result<()> {
        self.execute(
            "UPDATE vpn_devices SET last_handshake_ms = COALESCE($1, last_handshake_ms), endpoint = COALESCE($2, endpoint), \
             rx_bytes = rx_bytes + $3, tx_bytes = tx_bytes + $4 WHERE id = $5",
            &[Arg::OptInt(handshake_ms), Arg::OptText(endpoint), Arg::Int(rx_delta), Arg::Int(tx_delta), id.into()],
        )
        .await
        .map(|_| ())
    }

    pub async fn vpn_sessions_open(&self) -> Result<Vec<VpnSessionRecord>> {
        self.fetch_all(&format!("{SESSION} WHERE s.closed_ms IS NULL ORDER BY s.opened_ms"), &[]).await?.iter().map(session).collect()
    }

    pub async fn vpn_session_open_of(&self, user_id: &str) -> Result<Option<VpnSessionRecord>> {
        self.fetch_optional(&format!("{SESSION} WHERE s.closed_ms IS NULL AND s.user_id = $1"), &[user_id.into()])
            .await?
            .as_ref()
            .map(session)
            .transpose()
    }

    pub async fn vpn_sessions_recent(&self, limit: u32) -> Result<Vec<VpnSessionRecord>> {
        self.fetch_all(&format!("{SESSION} ORDER BY s.opened_ms DESC, s.id LIMIT $1"), &[Arg::Int(i64::from(limit))])
            .await?
            .iter()
            .map(session)
            .collect()
    }

    pub async fn vpn_sessions_of(&self, user_id: &str, limit: u32) -> Result<Vec<VpnSessionRecord>> {
        self.fetch_all(
            &format!("{SESSION} WHERE s.user_id = $1 ORDER BY s.opened_ms DESC, s.id LIMIT $2"),
            &[user_id.into(), Arg::Int(i64::from(limit))],
        )
        .await?
        .iter()
        .map(session)
        .collect()
    }

    pub async fn vpn_session_touch(&self, user_id: &str, at_ms: i64) -> Result<()> {
        self.execute(
            "UPDATE vpn_sessions SET last_activity_ms = $1 WHERE user_id = $2 AND closed_ms IS NULL AND last_activity_ms < $1",
            &[Arg::Int(at_ms), user_id.into()],
        )
        .await
        .map(|_| ())
    }

    /// Deletes ended sessions older than `before_ms` (the retention period). Returns how many.
    pub async fn vpn_sessions_purge(&self, before_ms: i64) -> Result<u64> {
        self.execute("DELETE FROM vpn_sessions WHERE closed_ms IS NOT NULL AND closed_ms < $1", &[Arg::Int(before_ms)]).await
    }

    pub async fn vpn_rules_all(&self) -> Result<Vec<RuleRecord>> {
        self.fetch_all(&format!("{RULE} ORDER BY g.name, r.network, r.protocol, r.port_from"), &[]).await?.iter().map(rule).collect()
    }

    /// The rules of every group `user_id` is in.
    pub async fn vpn_rules_for_user(&self, user_id: &str) -> Result<Vec<RuleRecord>> {
        self.fetch_all(
            &format!("{RULE} WHERE r.group_id IN (SELECT group_id FROM user_groups WHERE user_id = $1) ORDER BY r.id"),
            &[user_id.into()],
        )
        .await?
        .iter()
        .map(rule)
        .collect()
    }

    /// Per-group session limits as (group name, seconds).
    pub async fn vpn_group_limits(&self) -> Result<Vec<(String, i64)>> {
        self.fetch_all("SELECT g.name, l.session_max_secs FROM vpn_group_limits l JOIN groups g ON g.id = l.group_id ORDER BY g.name", &[])
            .await?
            .iter()
            .map(|r| Ok((r.text(0)?, r.int(1)?)))
            .collect()
    }

    /// The shortest session limit among the user's groups, if any has one.
    pub async fn vpn_session_limit_for(&self, user_id: &str) -> Result<Option<i64>> {
        self.fetch_one(
            "SELECT MIN(l.session_max_secs) FROM vpn_group_limits l JOIN user_groups ug ON ug.group_id = l.group_id WHERE ug.user_id = $1",
            &[user_id.into()],
        )
        .await?
        .opt_int(0)
    }
}

impl Tx {
    pub async fn vpn_addresses(&mut self) -> Result<Vec<String>> {
        self.fetch_all("SELECT address FROM vpn_devices", &[]).await?.iter().map(|r| r.text(0)).collect()
    }

    pub async fn vpn_key_exists(&mut self, public_key: &str) -> Result<bool> {
        Ok(self.fetch_optional("SELECT 1 FROM vpn_devices WHERE public_key = $1", &[public_key.into()]).await?.is_some())
    }

    pub async fn vpn_devices_count_of(&mut self, user_id: &str) -> Result<i64> {
        match self.fetch_optional("SELECT COUNT(*) FROM vpn_devices WHERE user_id = $1", &[user_id.into()]).await? {
            Some(row) => row.int(0),
            None => Ok(0),
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn vpn_device_insert(
        &mut self,
        id: &str,
        user_id: &str,
        name: &str,
        public_key: &str,
        address: &str,
        now_ms: i64,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO vpn_devices (id, user_id, name, public_key, address, created_ms) VALUES ($1, $2, $3, $4, $5, $6)",
            &[id.into(), user_id.into(), name.into(), public_key.into(), address.into(), Arg::Int(now_ms)],
        )
        .await
        .map(|_| ())
    }

    pub async fn vpn_device_delete(&mut self, id: &str) -> Result<u64> {
        self.execute("DELETE FROM vpn_devices WHERE id = $1", &[id.into()]).await
    }

    pub async fn vpn_session_insert(&mut self, id: &str, user_id: &str, now_ms: i64, expires_ms: i64, ip: &str) -> Result<()> {
        self.execute(
            "INSERT INTO vpn_sessions (id, user_id, opened_ms, expires_ms, last_activity_ms, ip) VALUES ($1, $2, $3, $4, $3, $5)",
            &[id.into(), user_id.into(), Arg::Int(now_ms), Arg::Int(expires_ms), ip.into()],
        )
        .await
        .map(|_| ())
    }

    /// Ends the user's open session, if any; returns its id.
    pub async fn vpn_session_close_user(&mut self, user_id: &str, reason: &str, now_ms: i64) -> Result<Option<String>> {
        let open = self
            .fetch_optional("SELECT id FROM vpn_sessions WHERE user_id = $1 AND closed_ms IS NULL", &[user_id.into()])
            .await?
            .map(|r| r.text(0))
            .transpose()?;
        if let Some(id) = &open {
            self.execute(
                "UPDATE vpn_sessions SET closed_ms = $1, close_reason = $2 WHERE id = $3",
                &[Arg::Int(now_ms), reason.into(), id.into()],
            )
            .await?;
        }
        Ok(open)
    }

    pub async fn vpn_rules_of_group(&mut self, group_id: &str) -> Result<Vec<RuleRecord>> {
        self.fetch_all(&format!("{RULE} WHERE r.group_id = $1"), &[group_id.into()]).await?.iter().map(rule).collect()
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn vpn_rule_insert(
        &mut self,
        id: &str,
        group_id: &str,
        network: &str,
        protocol: &str,
        ports: Option<(i64, i64)>,
        description: &str,
        now_ms: i64,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO vpn_rules (id, group_id, network, protocol, port_from, port_to, description, created_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                id.into(),
                group_id.into(),
                network.into(),
                protocol.into(),
                Arg::OptInt(ports.map(|p| p.0)),
                Arg::OptInt(ports.map(|p| p.1)),
                description.into(),
                Arg::Int(now_ms),
            ],
        )
        .await
        .map(|_| ())
    }

    pub async fn vpn_rule(&mut self, id: &str) -> Result<Option<RuleRecord>> {
        self.fetch_optional(&format!("{RULE} WHERE r.id = $1"), &[id.into()]).await?.as_ref().map(rule).transpose()
    }

    pub async fn vpn_rule_delete(&mut self, id: &str) -> Result<u64> {
        self.execute("DELETE FROM vpn_rules WHERE id = $1", &[id.into()]).await
    }

    /// Sets (or, with `None`, removes) a group's session limit.
    pub async fn vpn_group_limit_set(&mut self, group_id: &str, secs: Option<i64>) -> Result<()> {
        self.execute("DELETE FROM vpn_group_limits WHERE group_id = $1", &[group_id.into()]).await?;
        if let Some(secs) = secs {
            self.execute("INSERT INTO vpn_group_limits (group_id, session_max_secs) VALUES ($1, $2)", &[group_id.into(), Arg::Int(secs)])
                .await?;
        }
        Ok(())
    }
}
