-- Device compliance: one-time enrolment tokens (stored as SHA-256), devices enrolled with a
-- certificate from the installation's device CA, each with its newest report only, and the
-- device conditions per group. The policy and the CA live in `settings`.
CREATE TABLE agent_tokens (
    hash       TEXT PRIMARY KEY,
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    used_ms    INTEGER
);
CREATE INDEX agent_tokens_user ON agent_tokens (user_id);

CREATE TABLE agent_devices (
    id                TEXT PRIMARY KEY,
    user_id           TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hostname          TEXT    NOT NULL,
    os                TEXT    NOT NULL,
    cert_serial       TEXT    NOT NULL UNIQUE,
    cert_sha256       TEXT    NOT NULL UNIQUE,
    cert_not_after_ms INTEGER NOT NULL,
    enrolled_ms       INTEGER NOT NULL,
    revoked_ms        INTEGER,
    last_seq          INTEGER NOT NULL DEFAULT 0,
    last_report_ms    INTEGER,
    last_ip           TEXT,
    verdict           TEXT    NOT NULL DEFAULT 'unknown',
    report            TEXT
);
CREATE INDEX agent_devices_user ON agent_devices (user_id);

CREATE TABLE agent_conditions (
    group_id         TEXT PRIMARY KEY REFERENCES groups (id) ON DELETE CASCADE,
    portal_compliant INTEGER NOT NULL,
    portal_cert      INTEGER NOT NULL,
    vpn_compliant    INTEGER NOT NULL,
    vpn_cert         INTEGER NOT NULL
);
