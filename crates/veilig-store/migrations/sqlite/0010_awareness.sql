-- Awareness messages to everyone or to groups, with who received and read them.
CREATE TABLE awareness_messages (
    id          TEXT PRIMARY KEY,
    title_nl    TEXT    NOT NULL,
    body_nl     TEXT    NOT NULL,
    title_en    TEXT    NOT NULL,
    body_en     TEXT    NOT NULL,
    audience    TEXT    NOT NULL,
    created_by  TEXT    NOT NULL,
    created_ms  INTEGER NOT NULL
);
CREATE INDEX awareness_messages_created ON awareness_messages (created_ms);

CREATE TABLE awareness_recipients (
    message_id  TEXT    NOT NULL REFERENCES awareness_messages (id) ON DELETE CASCADE,
    user_id     TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    mailed_ms   INTEGER,
    mail_error  TEXT,
    read_ms     INTEGER,
    PRIMARY KEY (message_id, user_id)
);
CREATE INDEX awareness_recipients_user ON awareness_recipients (user_id, read_ms);
