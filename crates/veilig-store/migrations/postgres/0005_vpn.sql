-- VPN: devices (public keys and tunnel addresses, never private keys), sessions opened with
-- both factors, access rules per group and session limits per group.
CREATE TABLE vpn_devices (
    id                TEXT PRIMARY KEY,
    user_id           TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name              TEXT    NOT NULL,
    public_key        TEXT    NOT NULL UNIQUE,
    address           TEXT    NOT NULL UNIQUE,
    created_ms        BIGINT NOT NULL,
    last_handshake_ms BIGINT,
    endpoint          TEXT,
    rx_bytes          BIGINT NOT NULL DEFAULT 0,
    tx_bytes          BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX vpn_devices_user ON vpn_devices (user_id);

CREATE TABLE vpn_sessions (
    id               TEXT PRIMARY KEY,
    user_id          TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    opened_ms        BIGINT NOT NULL,
    expires_ms       BIGINT NOT NULL,
    last_activity_ms BIGINT NOT NULL,
    closed_ms        BIGINT,
    close_reason     TEXT,
    ip               TEXT    NOT NULL
);
CREATE INDEX vpn_sessions_user ON vpn_sessions (user_id);
CREATE INDEX vpn_sessions_closed ON vpn_sessions (closed_ms);

CREATE TABLE vpn_rules (
    id          TEXT PRIMARY KEY,
    group_id    TEXT    NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    network     TEXT    NOT NULL,
    protocol    TEXT    NOT NULL,
    port_from   BIGINT,
    port_to     BIGINT,
    description TEXT    NOT NULL,
    created_ms  BIGINT NOT NULL
);
CREATE INDEX vpn_rules_group ON vpn_rules (group_id);

CREATE TABLE vpn_group_limits (
    group_id         TEXT PRIMARY KEY REFERENCES groups (id) ON DELETE CASCADE,
    session_max_secs BIGINT NOT NULL
);
