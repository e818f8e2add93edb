//! Device compliance's tables: enrolment tokens, enrolled devices with their newest report, and
//! the device conditions per group.

use crate::Result;
use crate::db::{Arg, Row, Store, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentDeviceRecord {
    pub id: String,
    pub user_id: String,
    pub user_email: String,
    pub user_name: String,
    pub hostname: String,
    pub os: String,
    pub cert_serial: String,
    pub cert_sha256: String,
    pub cert_not_after_ms: i64,
    pub enrolled_ms: i64,
    pub revoked_ms: Option<i64>,
    pub last_seq: i64,
    pub last_report_ms: Option<i64>,
    pub last_ip: Option<String>,
    pub verdict: String,
    /// The newest report as the agent sent it (JSON).
    pub report: Option<String>,
}

/// What a group requires of its members' devices.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConditionRecord {
    pub group_id: String,
    pub group_name: String,
    pub portal_compliant: bool,
    pub portal_cert: bool,
    pub vpn_compliant: bool,
    pub vpn_cert: bool,
}

const DEVICE: &str = "SELECT d.id, d.user_id, u.email, u.display_name, d.hostname, d.os, d.cert_serial, d.cert_sha256, \
                      d.cert_not_after_ms, d.enrolled_ms, d.revoked_ms, d.last_seq, d.last_report_ms, d.last_ip, d.verdict, d.report \
                      FROM agent_devices d JOIN users u ON u.id = d.user_id";
const CONDITION: &str = "SELECT c.group_id, g.name, c.portal_compliant, c.portal_cert, c.vpn_compliant, c.vpn_cert \
                         FROM agent_conditions c JOIN groups g ON g.id = c.group_id";

fn device(r: &Row) -> Result<AgentDeviceRecord> {
    Ok(AgentDeviceRecord {
        id: r.text(0)?,
        user_id: r.text(1)?,
        user_email: r.text(2)?,
        user_name: r.text(3)?,
        hostname: r.text(4)?,
        os: r.text(5)?,
        cert_serial: r.text(6)?,
        cert_sha256: r.text(7)?,
        cert_not_after_ms: r.int(8)?,
        enrolled_ms: r.int(9)?,
        revoked_ms: r.opt_int(10)?,
        last_seq: r.int(11)?,
        last_report_ms: r.opt_int(12)?,
        last_ip: r.opt_text(13)?,
        verdict: r.text(14)?,
        report: r.opt_text(15)?,
    })
}

fn condition(r: &Row) -> Result<ConditionRecord> {
    Ok(ConditionRecord {
        group_id: r.text(0)?,
        group_name: r.text(1)?,
        portal_compliant: r.int(2)? != 0,
        portal_cert: r.int(3)? != 0,
        vpn_compliant: r.int(4)? != 0,
        vpn_cert: r.int(5)? != 0,
    })
}

impl Store {
    pub async fn agent_devices_all(&self) -> Result<Vec<AgentDeviceRecord>> {
        self.fetch_all(&format!("{DEVICE} ORDER BY u.email, d.hostname, d.id"), &[]).await?.iter().map(device).collect()
    }

    pub async fn agent_devices_of(&self, user_id: &str) -> Result<Vec<AgentDeviceRecord>> {
        self.fetch_all(&format!("{DEVICE} WHERE d.user_id = $1 ORDER BY d.enrolled_ms, d.id"), &[user_id.into()])
            .await?
            .iter()
            .map(device)
            .collect()
    }

    pub async fn agent_device(&self, id: &str) -> Result<Option<AgentDeviceRecord>> {
        self.fetch_optional(&format!("{DEVICE} WHERE d.id = $1"), &[id.into()]).await?.as_ref().map(device).transpose()
    }

    pub async fn agent_device_by_cert(&self, sha256: &str) -> Result<Option<AgentDeviceRecord>> {
        self.fetch_optional(&format!("{DEVICE} WHERE d.cert_sha256 = $1"), &[sha256.into()]).await?.as_ref().map(device).transpose()
    }

    /// Stores a report unless one with this sequence number or a later one arrived already.
    /// Returns whether it was stored (false: a replay).
    #[allow(clippy::too_many_arguments)]
    pub async fn agent_report_store(
        &self,
        id: &str,
        seq: i64,
        now_ms: i64,
        ip: &str,
        os: &str,
        verdict: &str,
        report: &str,
    ) -> Result<bool> {
        let n = self
            .execute(
                "UPDATE agent_devices SET last_seq = $1, last_report_ms = $2, last_ip = $3, os = $4, verdict = $5, report = $6 \
                 WHERE id = $7 AND last_seq < $1 AND revoked_ms IS NULL",
                &[Arg::Int(seq), Arg::Int(now_ms), ip.into(), os.into(), verdict.into(), report.into(), id.into()],
            )
            .await?;
        Ok(n == 1)
    }

    pub async fn agent_conditions(&self) -> Result<Vec<ConditionRecord>> {
        self.fetch_all(&format!("{CONDITION} ORDER BY g.name"), &[]).await?.iter().map(condition).collect()
    }

    /// The conditions of every group `user_id` is in.
    pub async fn agent_conditions_for_user(&self, user_id: &str) -> Result<Vec<ConditionRecord>> {
        self.fetch_all(
            &format!("{CONDITION} WHERE c.group_id IN (SELECT group_id FROM user_groups WHERE user_id = $1) ORDER BY g.name"),
            &[user_id.into()],
        )
        .await?
        .iter()
        .map(condition)
        .collect()
    }

    /// Removes used or expired enrolment tokens older than `before_ms`.
    pub async fn agent_tokens_purge(&self, before_ms: i64) -> Result<u64> {
        self.execute("DELETE FROM agent_tokens WHERE expires_ms < $1", &[Arg::Int(before_ms)]).await
    }
}

impl Tx {
    pub async fn agent_token_insert(&mut self, hash: &str, user_id: &str, now_ms: i64, expires_ms: i64) -> Result<()> {
        self.execute(
            "INSERT INTO agent_tokens (hash, user_id, created_ms, expires_ms) VALUES ($1, $2, $3, $4)",
            &[hash.into(), user_id.into(), Arg::Int(now_ms), Arg::Int(expires_ms)],
        )
        .await
        .map(|_| ())
    }

    /// Marks an unused, unexpired token used; returns its user, or `None` when it is not valid.
    pub async fn agent_token_take(&mut self, hash: &str, now_ms: i64) -> Result<Option<String>> {
        let user = self
            .fetch_optional(
                "SELECT t.user_id FROM agent_tokens t JOIN users u ON u.id = t.user_id \
                 WHERE t.hash = $1 AND t.used_ms IS NULL AND t.expires_ms > $2 AND u.status = 'active'",
                &[hash.into(), Arg::Int(now_ms)],
            )
            .await?
            .map(|r| r.text(0))
            .transpose()?;
        if user.is_some() {
            self.execute("UPDATE agent_tokens SET used_ms = $1 WHERE hash = $2", &[Arg::Int(now_ms), hash.into()]).await?;
        }
        Ok(user)
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn agent_device_insert(
        &mut self,
        id: &str,
        user_id: &str,
        hostname: &str,
        serial: &str,
        sha256: &str,
        not_after_ms: i64,
        now_ms: i64,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO agent_devices (id, user_id, hostname, os, cert_serial, cert_sha256, cert_not_after_ms, enrolled_ms) \
             VALUES ($1, $2, $3, '', $4, $5, $6, $7)",
            &[id.into(), user_id.into(), hostname.into(), serial.into(), sha256.into(), Arg::Int(not_after_ms), Arg::Int(now_ms)],
        )
        .await
        .map(|_| ())
    }

    pub async fn agent_device_revoke(&mut self, id: &str, now_ms: i64) -> Result<u64> {
        self.execute("UPDATE agent_devices SET revoked_ms = $1 WHERE id = $2 AND revoked_ms IS NULL", &[Arg::Int(now_ms), id.into()]).await
    }

    pub async fn agent_device_delete(&mut self, id: &str) -> Result<u64> {
        self.execute("DELETE FROM agent_devices WHERE id = $1", &[id.into()]).await
    }

    pub async fn agent_device_count_of(&mut self, user_id: &str) -> Result<i64> {
        self.fetch_optional("SELECT COUNT(*) FROM agent_devices WHERE user_id = $1 AND revoked_ms IS NULL", &[user_id.into()])
            .await?
            .map(|r| r.int(0))
            .transpose()
            .map(Option::unwrap_or_default)
    }

    /// Sets a group's conditions; all false removes the row.
    pub async fn agent_conditions_set(&mut self, c: &ConditionRecord) -> Result<()> {
        self.execute("DELETE FROM agent_conditions WHERE group_id = $1", &[c.group_id.as_str().into()]).await?;
        if c.portal_compliant || c.portal_cert || c.vpn_compliant || c.vpn_cert {
            let b = |v: bool| Arg::Int(i64::from(v));
            self.execute(
                "INSERT INTO agent_conditions (group_id, portal_compliant, portal_cert, vpn_compliant, vpn_cert) VALUES ($1, $2, $3, $4, $5)",
                &[c.group_id.as_str().into(), b(c.portal_compliant), b(c.portal_cert), b(c.vpn_compliant), b(c.vpn_cert)],
            )
            .await?;
        }
        Ok(())
    }
}
