-- Monitoring's response: blocks (decisions), the allow-list, webhooks, and the alert workflow.
CREATE TABLE decisions (
    id          TEXT PRIMARY KEY,
    network     TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    alert_id    TEXT,
    origin      TEXT    NOT NULL,
    level       INTEGER NOT NULL,
    created_ms  INTEGER NOT NULL,
    until_ms    INTEGER NOT NULL,
    revoked_ms  INTEGER,
    revoked_by  TEXT,
    enforced    TEXT    NOT NULL
);
CREATE INDEX decisions_network ON decisions (network, created_ms);
CREATE INDEX decisions_until ON decisions (until_ms);

CREATE TABLE allowlist (
    id          TEXT PRIMARY KEY,
    network     TEXT    NOT NULL UNIQUE,
    note        TEXT    NOT NULL,
    created_by  TEXT    NOT NULL,
    created_ms  INTEGER NOT NULL
);

CREATE TABLE webhooks (
    id           TEXT PRIMARY KEY,
    kind         TEXT    NOT NULL,
    url_sealed   TEXT    NOT NULL,
    url_hint     TEXT    NOT NULL,
    min_severity TEXT    NOT NULL,
    created_by   TEXT    NOT NULL,
    created_ms   INTEGER NOT NULL,
    last_ms      INTEGER,
    last_status  TEXT
);

ALTER TABLE alerts ADD COLUMN assignee TEXT;
CREATE INDEX alerts_status ON alerts (status, created_ms);

CREATE TABLE alert_comments (
    id          TEXT PRIMARY KEY,
    alert_id    TEXT    NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    author      TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    created_ms  INTEGER NOT NULL
);
CREATE INDEX alert_comments_alert ON alert_comments (alert_id, created_ms);
