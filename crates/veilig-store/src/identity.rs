//! Identity's tables. Reads go through `Store`, writes through `Tx` so that each change and its
//! audit record commit together.

use crate::Result;
use crate::db::{Arg, Row, Store, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub role: String,
    /// `invited`, `active` or `disabled`.
    pub status: String,
    pub password_hash: Option<String>,
    pub language: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactorRecord {
    pub id: String,
    pub user_id: String,
    /// `totp` or `passkey`.
    pub kind: String,
    pub name: String,
    /// The sealed TOTP secret, or the passkey as JSON.
    pub secret: String,
    pub confirmed: bool,
    pub last_step: Option<i64>,
    pub last_used_ms: Option<i64>,
    pub created_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id_hash: String,
    pub user_id: String,
    /// `enroll`, `password` (second factor pending) or `full`.
    pub stage: String,
    pub created_ms: i64,
    pub last_seen_ms: i64,
    pub expires_ms: i64,
    pub ip: String,
    pub user_agent: String,
    /// Pending state of a ceremony in progress (a WebAuthn challenge), as JSON.
    pub pending: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: String,
    /// `setup`, `enroll` or `api`.
    pub kind: String,
    pub hash: String,
    pub user_id: Option<String>,
    pub name: String,
    pub scopes: String,
    pub created_ms: i64,
    pub expires_ms: Option<i64>,
    pub used_ms: Option<i64>,
    pub revoked_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRecord {
    pub id: String,
    pub name: String,
    pub description: String,
    pub created_ms: i64,
    pub members: i64,
}

const USER_COLS: &str = "id, email, display_name, role, status, password_hash, language, created_ms, updated_ms";
const FACTOR_COLS: &str = "id, user_id, kind, name, secret, confirmed, last_step, last_used_ms, created_ms";
const SESSION_COLS: &str = "id_hash, user_id, stage, created_ms, last_seen_ms, expires_ms, ip, user_agent, pending";
const TOKEN_COLS: &str = "id, kind, hash, user_id, name, scopes, created_ms, expires_ms, used_ms, revoked_ms";

fn user(r: &Row) -> Result<UserRecord> {
    Ok(UserRecord {
        id: r.text(0)?,
        email: r.text(1)?,
        display_name: r.text(2)?,
        role: r.text(3)?,
        status: r.text(4)?,
        password_hash: r.opt_text(5)?,
        language: r.opt_text(6)?,
        created_ms: r.int(7)?,
        updated_ms: r.int(8)?,
    })
}

fn factor(r: &Row) -> Result<FactorRecord> {
    Ok(FactorRecord {
        id: r.text(0)?,
        user_id: r.text(1)?,
        kind: r.text(2)?,
        name: r.text(3)?,
        secret: r.text(4)?,
        confirmed: r.int(5)? != 0,
        last_step: r.opt_int(6)?,
        last_used_ms: r.opt_int(7)?,
        created_ms: r.int(8)?,
    })
}

fn session(r: &Row) -> Result<SessionRecord> {
    Ok(SessionRecord {
        id_hash: r.text(0)?,
        user_id: r.text(1)?,
        stage: r.text(2)?,
        created_ms: r.int(3)?,
        last_seen_ms: r.int(4)?,
        expires_ms: r.int(5)?,
        ip: r.text(6)?,
        user_agent: r.text(7)?,
        pending: r.text(8)?,
    })
}

fn token(r: &Row) -> Result<TokenRecord> {
    Ok(TokenRecord {
        id: r.text(0)?,
        kind: r.text(1)?,
        hash: r.text(2)?,
        user_id: r.opt_text(3)?,
        name: r.text(4)?,
        scopes: r.text(5)?,
        created_ms: r.int(6)?,
        expires_ms: r.opt_int(7)?,
        used_ms: r.opt_int(8)?,
        revoked_ms: r.opt_int(9)?,
    })
}

fn group(r: &Row) -> Result<GroupRecord> {
    Ok(GroupRecord { id: r.text(0)?, name: r.text(1)?, description: r.text(2)?, created_ms: r.int(3)?, members: r.int(4)? })
}

const GROUP_SELECT: &str =
    "SELECT g.id, g.name, g.description, g.created_ms, (SELECT COUNT(*) FROM user_groups ug WHERE ug.group_id = g.id) FROM groups g";

impl Store {
    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>> {
        self.fetch_optional(&format!("SELECT {USER_COLS} FROM users WHERE email = $1"), &[email.into()])
            .await?
            .as_ref()
            .map(user)
            .transpose()
    }

    pub async fn user_by_id(&self, id: &str) -> Result<Option<UserRecord>> {
        self.fetch_optional(&format!("SELECT {USER_COLS} FROM users WHERE id = $1"), &[id.into()]).await?.as_ref().map(user).transpose()
    }

    pub async fn users_list(&self) -> Result<Vec<UserRecord>> {
        self.fetch_all(&format!("SELECT {USER_COLS} FROM users ORDER BY email"), &[]).await?.iter().map(user).collect()
    }

    /// Administrators who can sign in (active, with a confirmed second factor).
    pub async fn active_admins(&self) -> Result<i64> {
        self.fetch_one(
            "SELECT COUNT(*) FROM users u WHERE u.role = 'admin' AND u.status = 'active' AND EXISTS (SELECT 1 FROM factors f WHERE f.user_id = u.id AND f.confirmed = 1)",
            &[],
        )
        .await?
        .int(0)
    }

    pub async fn factors_of(&self, user_id: &str) -> Result<Vec<FactorRecord>> {
        self.fetch_all(&format!("SELECT {FACTOR_COLS} FROM factors WHERE user_id = $1 ORDER BY created_ms, id"), &[user_id.into()])
            .await?
            .iter()
            .map(factor)
            .collect()
    }

    pub async fn factor_by_id(&self, id: &str) -> Result<Option<FactorRecord>> {
        self.fetch_optional(&format!("SELECT {FACTOR_COLS} FROM factors WHERE id = $1"), &[id.into()])
            .await?
            .as_ref()
            .map(factor)
            .transpose()
    }

    pub async fn passkeys_all(&self) -> Result<Vec<FactorRecord>> {
        self.fetch_all(&format!("SELECT {FACTOR_COLS} FROM factors WHERE kind = 'passkey' AND confirmed = 1"), &[])
            .await?
            .iter()
            .map(factor)
            .collect()
    }

    pub async fn unused_recovery_codes(&self, user_id: &str) -> Result<i64> {
        self.fetch_one("SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_ms IS NULL", &[user_id.into()]).await?.int(0)
    }

    pub async fn session_by_hash(&self, id_hash: &str) -> Result<Option<SessionRecord>> {
        self.fetch_optional(&format!("SELECT {SESSION_COLS} FROM sessions WHERE id_hash = $1"), &[id_hash.into()])
            .await?
            .as_ref()
            .map(session)
            .transpose()
    }

    pub async fn sessions_of(&self, user_id: &str) -> Result<Vec<SessionRecord>> {
        self.fetch_all(&format!("SELECT {SESSION_COLS} FROM sessions WHERE user_id = $1 ORDER BY last_seen_ms DESC"), &[user_id.into()])
            .await?
            .iter()
            .map(session)
            .collect()
    }

    /// Marks the session as seen; returns false when it no longer exists.
    pub async fn session_touch(&self, id_hash: &str, now_ms: i64) -> Result<bool> {
        Ok(self.execute("UPDATE sessions SET last_seen_ms = $1 WHERE id_hash = $2", &[Arg::Int(now_ms), id_hash.into()]).await? > 0)
    }

    pub async fn session_set_pending(&self, id_hash: &str, pending: &str) -> Result<()> {
        self.execute("UPDATE sessions SET pending = $1 WHERE id_hash = $2", &[pending.into(), id_hash.into()]).await.map(|_| ())
    }

    /// Removes sessions past their idle or absolute limit; returns how many.
    pub async fn sessions_expire(&self, now_ms: i64, idle_ms: i64) -> Result<u64> {
        self.execute("DELETE FROM sessions WHERE expires_ms <= $1 OR last_seen_ms <= $2", &[Arg::Int(now_ms), Arg::Int(now_ms - idle_ms)])
            .await
    }

    pub async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>> {
        self.fetch_optional(&format!("SELECT {TOKEN_COLS} FROM tokens WHERE hash = $1"), &[hash.into()])
            .await?
            .as_ref()
            .map(token)
            .transpose()
    }

    pub async fn tokens_of_kind(&self, kind: &str) -> Result<Vec<TokenRecord>> {
        self.fetch_all(&format!("SELECT {TOKEN_COLS} FROM tokens WHERE kind = $1 ORDER BY created_ms DESC"), &[kind.into()])
            .await?
            .iter()
            .map(token)
            .collect()
    }

    pub async fn pending_enrollment(&self, user_id: &str, now_ms: i64) -> Result<Option<TokenRecord>> {
        self.fetch_optional(
            &format!("SELECT {TOKEN_COLS} FROM tokens WHERE user_id = $1 AND kind = 'enroll' AND used_ms IS NULL AND revoked_ms IS NULL AND expires_ms > $2 ORDER BY created_ms DESC LIMIT 1"),
            &[user_id.into(), Arg::Int(now_ms)],
        )
        .await?
        .as_ref()
        .map(token)
        .transpose()
    }

    pub async fn groups_list(&self) -> Result<Vec<GroupRecord>> {
        self.fetch_all(&format!("{GROUP_SELECT} ORDER BY g.name"), &[]).await?.iter().map(group).collect()
    }

    pub async fn group_by_name(&self, name: &str) -> Result<Option<GroupRecord>> {
        self.fetch_optional(&format!("{GROUP_SELECT} WHERE g.name = $1"), &[name.into()]).await?.as_ref().map(group).transpose()
    }

    pub async fn group_names_of(&self, user_id: &str) -> Result<Vec<String>> {
        let rows = self
            .fetch_all(
                "SELECT g.name FROM groups g JOIN user_groups ug ON ug.group_id = g.id WHERE ug.user_id = $1 ORDER BY g.name",
                &[user_id.into()],
            )
            .await?;
        rows.iter().map(|r| r.text(0)).collect()
    }

    pub async fn throttle_get(&self, key: &str) -> Result<Option<(i64, i64, i64)>> {
        match self
            .fetch_optional("SELECT failures, window_start_ms, blocked_until_ms FROM login_throttle WHERE key = $1", &[key.into()])
            .await?
        {
            Some(r) => Ok(Some((r.int(0)?, r.int(1)?, r.int(2)?))),
            None => Ok(None),
        }
    }

    pub async fn throttle_put(&self, key: &str, failures: i64, window_start_ms: i64, blocked_until_ms: i64) -> Result<()> {
        self.execute(
            "INSERT INTO login_throttle (key, failures, window_start_ms, blocked_until_ms) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (key) DO UPDATE SET failures = $2, window_start_ms = $3, blocked_until_ms = $4",
            &[key.into(), Arg::Int(failures), Arg::Int(window_start_ms), Arg::Int(blocked_until_ms)],
        )
        .await
        .map(|_| ())
    }

    /// Keeps the state of a passwordless sign-in until `expires_ms`.
    pub async fn challenge_put(&self, id_hash: &str, state: &str, expires_ms: i64, now_ms: i64) -> Result<()> {
        self.execute("DELETE FROM webauthn_challenges WHERE expires_ms <= $1", &[Arg::Int(now_ms)]).await?;
        self.execute(
            "INSERT INTO webauthn_challenges (id_hash, state, expires_ms) VALUES ($1, $2, $3)",
            &[id_hash.into(), state.into(), Arg::Int(expires_ms)],
        )
        .await
        .map(|_| ())
    }

    /// Takes (reads and removes) a challenge's state if it has not expired: each works once.
    pub async fn challenge_take(&self, id_hash: &str, now_ms: i64) -> Result<Option<String>> {
        let mut tx = self.begin().await?;
        let row = tx.fetch_optional("SELECT state, expires_ms FROM webauthn_challenges WHERE id_hash = $1", &[id_hash.into()]).await?;
        tx.execute("DELETE FROM webauthn_challenges WHERE id_hash = $1", &[id_hash.into()]).await?;
        tx.commit().await?;
        match row {
            Some(r) if r.int(1)? > now_ms => Ok(Some(r.text(0)?)),
            _ => Ok(None),
        }
    }

    pub async fn throttle_clear(&self, key: &str) -> Result<()> {
        self.execute("DELETE FROM login_throttle WHERE key = $1", &[key.into()]).await.map(|_| ())
    }
}

impl Tx {
    pub async fn user_by_email(&mut self, email: &str) -> Result<Option<UserRecord>> {
        self.fetch_optional(&format!("SELECT {USER_COLS} FROM users WHERE email = $1"), &[email.into()])
            .await?
            .as_ref()
            .map(user)
            .transpose()
    }

    pub async fn user_insert(&mut self, u: &UserRecord) -> Result<()> {
        self.execute(
            &format!("INSERT INTO users ({USER_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"),
            &[
                (&u.id).into(),
                (&u.email).into(),
                (&u.display_name).into(),
                (&u.role).into(),
                (&u.status).into(),
                u.password_hash.clone().into(),
                u.language.clone().into(),
                Arg::Int(u.created_ms),
                Arg::Int(u.updated_ms),
            ],
        )
        .await
        .map(|_| ())
    }

    /// Sets one column of a user. `column` is one of a fixed set, never user input.
    pub async fn user_set(&mut self, user_id: &str, column: UserColumn, value: Option<String>, now_ms: i64) -> Result<u64> {
        let col = match column {
            UserColumn::PasswordHash => "password_hash",
            UserColumn::Status => "status",
            UserColumn::Role => "role",
            UserColumn::Language => "language",
            UserColumn::DisplayName => "display_name",
        };
        self.execute(
            &format!("UPDATE users SET {col} = $1, updated_ms = $2 WHERE id = $3"),
            &[value.into(), Arg::Int(now_ms), user_id.into()],
        )
        .await
    }

    pub async fn user_delete(&mut self, user_id: &str) -> Result<u64> {
        self.execute("DELETE FROM users WHERE id = $1", &[user_id.into()]).await
    }

    pub async fn factor_insert(&mut self, f: &FactorRecord) -> Result<()> {
        self.execute(
            &format!("INSERT INTO factors ({FACTOR_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"),
            &[
                (&f.id).into(),
                (&f.user_id).into(),
                (&f.kind).into(),
                (&f.name).into(),
                (&f.secret).into(),
                Arg::Int(i64::from(f.confirmed)),
                f.last_step.into(),
                f.last_used_ms.into(),
                Arg::Int(f.created_ms),
            ],
        )
        .await
        .map(|_| ())
    }

    /// Records a TOTP step as used, only when it is newer than the last one: two requests with
    /// the same code cannot both pass.
    pub async fn factor_use_step(&mut self, factor_id: &str, step: i64, now_ms: i64) -> Result<bool> {
        let n = self
            .execute(
                "UPDATE factors SET last_step = $1, last_used_ms = $2, confirmed = 1 WHERE id = $3 AND (last_step IS NULL OR last_step < $1)",
                &[Arg::Int(step), Arg::Int(now_ms), factor_id.into()],
            )
            .await?;
        Ok(n == 1)
    }

    pub async fn factor_update_secret(&mut self, factor_id: &str, secret: &str, now_ms: i64) -> Result<()> {
        self.execute(
            "UPDATE factors SET secret = $1, last_used_ms = $2 WHERE id = $3",
            &[secret.into(), Arg::Int(now_ms), factor_id.into()],
        )
        .await
        .map(|_| ())
    }

    pub async fn factor_rename(&mut self, factor_id: &str, user_id: &str, name: &str) -> Result<u64> {
        self.execute("UPDATE factors SET name = $1 WHERE id = $2 AND user_id = $3", &[name.into(), factor_id.into(), user_id.into()]).await
    }

    pub async fn factor_delete(&mut self, factor_id: &str, user_id: &str) -> Result<u64> {
        self.execute("DELETE FROM factors WHERE id = $1 AND user_id = $2", &[factor_id.into(), user_id.into()]).await
    }

    pub async fn confirmed_factor_count(&mut self, user_id: &str) -> Result<i64> {
        self.fetch_optional("SELECT COUNT(*) FROM factors WHERE user_id = $1 AND confirmed = 1", &[user_id.into()])
            .await?
            .map_or(Ok(0), |r| r.int(0))
    }

    pub async fn factors_delete_all(&mut self, user_id: &str) -> Result<u64> {
        self.execute("DELETE FROM factors WHERE user_id = $1", &[user_id.into()]).await
    }

    pub async fn recovery_replace(&mut self, user_id: &str, hashes: &[String]) -> Result<()> {
        self.execute("DELETE FROM recovery_codes WHERE user_id = $1", &[user_id.into()]).await?;
        for h in hashes {
            self.execute("INSERT INTO recovery_codes (user_id, code_hash, used_ms) VALUES ($1, $2, NULL)", &[user_id.into(), h.into()])
                .await?;
        }
        Ok(())
    }

    /// Uses a recovery code once; false when unknown or used.
    pub async fn recovery_use(&mut self, user_id: &str, hash: &str, now_ms: i64) -> Result<bool> {
        let n = self
            .execute(
                "UPDATE recovery_codes SET used_ms = $1 WHERE user_id = $2 AND code_hash = $3 AND used_ms IS NULL",
                &[Arg::Int(now_ms), user_id.into(), hash.into()],
            )
            .await?;
        Ok(n == 1)
    }

    pub async fn session_insert(&mut self, s: &SessionRecord) -> Result<()> {
        self.execute(
            &format!("INSERT INTO sessions ({SESSION_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"),
            &[
                (&s.id_hash).into(),
                (&s.user_id).into(),
                (&s.stage).into(),
                Arg::Int(s.created_ms),
                Arg::Int(s.last_seen_ms),
                Arg::Int(s.expires_ms),
                (&s.ip).into(),
                (&s.user_agent).into(),
                (&s.pending).into(),
            ],
        )
        .await
        .map(|_| ())
    }

    pub async fn session_delete(&mut self, id_hash: &str) -> Result<u64> {
        self.execute("DELETE FROM sessions WHERE id_hash = $1", &[id_hash.into()]).await
    }

    pub async fn sessions_delete_user(&mut self, user_id: &str) -> Result<u64> {
        self.execute("DELETE FROM sessions WHERE user_id = $1", &[user_id.into()]).await
    }

    pub async fn token_insert(&mut self, t: &TokenRecord) -> Result<()> {
        self.execute(
            &format!("INSERT INTO tokens ({TOKEN_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"),
            &[
                (&t.id).into(),
                (&t.kind).into(),
                (&t.hash).into(),
                t.user_id.clone().into(),
                (&t.name).into(),
                (&t.scopes).into(),
                Arg::Int(t.created_ms),
                t.expires_ms.into(),
                t.used_ms.into(),
                t.revoked_ms.into(),
            ],
        )
        .await
        .map(|_| ())
    }

    /// Uses a one-time token; false when it was used, revoked or expired meanwhile.
    pub async fn token_use(&mut self, token_id: &str, now_ms: i64) -> Result<bool> {
        let n = self
            .execute(
                "UPDATE tokens SET used_ms = $1 WHERE id = $2 AND used_ms IS NULL AND revoked_ms IS NULL AND (expires_ms IS NULL OR expires_ms > $1)",
                &[Arg::Int(now_ms), token_id.into()],
            )
            .await?;
        Ok(n == 1)
    }

    /// Revokes every unused token of `kind` (for one user, or for none: setup tokens).
    pub async fn tokens_revoke(&mut self, kind: &str, user_id: Option<&str>, now_ms: i64) -> Result<u64> {
        match user_id {
            Some(u) => {
                self.execute(
                    "UPDATE tokens SET revoked_ms = $1 WHERE kind = $2 AND user_id = $3 AND used_ms IS NULL AND revoked_ms IS NULL",
                    &[Arg::Int(now_ms), kind.into(), u.into()],
                )
                .await
            }
            None => {
                self.execute(
                    "UPDATE tokens SET revoked_ms = $1 WHERE kind = $2 AND used_ms IS NULL AND revoked_ms IS NULL",
                    &[Arg::Int(now_ms), kind.into()],
                )
                .await
            }
        }
    }

    pub async fn token_revoke(&mut self, token_id: &str, now_ms: i64) -> Result<u64> {
        self.execute("UPDATE tokens SET revoked_ms = $1 WHERE id = $2 AND revoked_ms IS NULL", &[Arg::Int(now_ms), token_id.into()]).await
    }

    pub async fn group_insert(&mut self, id: &str, name: &str, description: &str, now_ms: i64) -> Result<()> {
        self.execute(
            "INSERT INTO groups (id, name, description, created_ms) VALUES ($1, $2, $3, $4)",
            &[id.into(), name.into(), description.into(), Arg::Int(now_ms)],
        )
        .await
        .map(|_| ())
    }

    pub async fn group_delete(&mut self, name: &str) -> Result<u64> {
        self.execute("DELETE FROM groups WHERE name = $1", &[name.into()]).await
    }

    pub async fn group_id(&mut self, name: &str) -> Result<Option<String>> {
        self.fetch_optional("SELECT id FROM groups WHERE name = $1", &[name.into()]).await?.map(|r| r.text(0)).transpose()
    }

    pub async fn membership_add(&mut self, user_id: &str, group_id: &str) -> Result<()> {
        self.execute(
            "INSERT INTO user_groups (user_id, group_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[user_id.into(), group_id.into()],
        )
        .await
        .map(|_| ())
    }

    pub async fn membership_remove(&mut self, user_id: &str, group_id: &str) -> Result<u64> {
        self.execute("DELETE FROM user_groups WHERE user_id = $1 AND group_id = $2", &[user_id.into(), group_id.into()]).await
    }
}

/// The user columns that can be changed one at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserColumn {
    PasswordHash,
    Status,
    Role,
    Language,
    DisplayName,
}
