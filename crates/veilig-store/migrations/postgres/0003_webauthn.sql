-- Challenges of passwordless sign-ins in progress (no session exists yet). Short-lived.
CREATE TABLE webauthn_challenges (
    id_hash    TEXT PRIMARY KEY,
    state      TEXT    NOT NULL,
    expires_ms BIGINT  NOT NULL
);
