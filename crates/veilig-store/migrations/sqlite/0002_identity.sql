-- Identity: users, groups, second factors, recovery codes, sessions, one-time and API tokens,
-- and brute-force counters.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL,
    status        TEXT NOT NULL,
    password_hash TEXT,
    language      TEXT,
    created_ms    INTEGER NOT NULL,
    updated_ms    INTEGER NOT NULL
);

CREATE TABLE groups (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    created_ms  INTEGER NOT NULL
);

CREATE TABLE user_groups (
    user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, group_id)
);

CREATE TABLE factors (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind           TEXT NOT NULL,
    name           TEXT NOT NULL,
    secret         TEXT NOT NULL,
    confirmed      INTEGER NOT NULL,
    last_step      INTEGER,
    last_used_ms   INTEGER,
    created_ms     INTEGER NOT NULL
);
CREATE INDEX factors_user ON factors (user_id);

CREATE TABLE recovery_codes (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    used_ms    INTEGER,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    stage        TEXT NOT NULL,
    created_ms   INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL,
    expires_ms   INTEGER NOT NULL,
    ip           TEXT NOT NULL,
    user_agent   TEXT NOT NULL,
    pending      TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE tokens (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    hash        TEXT NOT NULL UNIQUE,
    user_id     TEXT REFERENCES users (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    scopes      TEXT NOT NULL,
    created_ms  INTEGER NOT NULL,
    expires_ms  INTEGER,
    used_ms     INTEGER,
    revoked_ms  INTEGER
);
CREATE INDEX tokens_user ON tokens (user_id);

CREATE TABLE login_throttle (
    key              TEXT PRIMARY KEY,
    failures         INTEGER NOT NULL,
    window_start_ms  INTEGER NOT NULL,
    blocked_until_ms INTEGER NOT NULL
);
