-- Device compliance: one-time enrolment tokens (stored as SHA-256), devices enrolled with a
-- certificate from the installation's device CA, each with its newest report only, and the
-- device conditions per group. The policy and the CA live in `settings`.
CREATE TABLE agent_tokens (
    hash       TEXT PRIMARY KEY,
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL,
    used_ms    BIGINT
);
CREATE INDEX agent_tokens_user ON agent_tokens (user_id);

CREATE TABLE agent_devices (
    id                TEXT PRIMARY KEY,
    user_id           TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hostname          TEXT    NOT NULL,
    os                TEXT    NOT NULL,
    cert_serial       TEXT    NOT NULL UNIQUE,
    cert_sha256       TEXT    NOT NULL UNIQUE,
    cert_not_after_ms BIGINT NOT NULL,
    enrolled_ms       BIGINT NOT NULL,
    revoked_ms        BIGINT,
    last_seq          BIGINT  NOT NULL DEFAULT 0,
    last_report_ms    BIGINT,
    last_ip           TEXT,
    verdict           TEXT    NOT NULL DEFAULT 'unknown',
    report            TEXT
);
CREATE INDEX agent_devices_user ON agent_devices (user_id);

CREATE TABLE agent_conditions (
    group_id         TEXT PRIMARY KEY REFERENCES groups (id) ON DELETE CASCADE,
    portal_compliant BIGINT  NOT NULL,
    portal_cert      BIGINT  NOT NULL,
    vpn_compliant    BIGINT  NOT NULL,
    vpn_cert         BIGINT  NOT NULL
);
