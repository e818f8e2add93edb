-- Alerts from the monitoring engine.
CREATE TABLE alerts (
    id            TEXT PRIMARY KEY,
    rule          TEXT    NOT NULL,
    severity      TEXT    NOT NULL,
    source        TEXT    NOT NULL,
    username      TEXT,
    first_seen_ms INTEGER NOT NULL,
    last_seen_ms  INTEGER NOT NULL,
    count         INTEGER NOT NULL,
    summary       TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    created_ms    INTEGER NOT NULL
);
CREATE INDEX alerts_created ON alerts (created_ms);
CREATE INDEX alerts_source ON alerts (source);
