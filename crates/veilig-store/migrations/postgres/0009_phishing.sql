-- The phishing desk: reports from the report mailbox, grouped into campaigns, with notes.
CREATE TABLE phish_campaigns (
    id            TEXT PRIMARY KEY,
    title         TEXT    NOT NULL,
    sender        TEXT    NOT NULL,
    verdict       TEXT    NOT NULL,
    override      TEXT,
    status        TEXT    NOT NULL,
    first_ms      BIGINT NOT NULL,
    last_ms       BIGINT NOT NULL,
    closed_by     TEXT,
    closed_ms     BIGINT
);
CREATE INDEX phish_campaigns_last ON phish_campaigns (status, last_ms);

-- What makes reports one campaign: sender, subject pattern, URL, attachment hash.
CREATE TABLE phish_campaign_keys (
    kind          TEXT    NOT NULL,
    value         TEXT    NOT NULL,
    campaign_id   TEXT    NOT NULL REFERENCES phish_campaigns (id) ON DELETE CASCADE,
    PRIMARY KEY (kind, value)
);
CREATE INDEX phish_campaign_keys_campaign ON phish_campaign_keys (campaign_id);

CREATE TABLE phish_reports (
    id            TEXT PRIMARY KEY,
    campaign_id   TEXT    NOT NULL REFERENCES phish_campaigns (id) ON DELETE CASCADE,
    report_key    TEXT    NOT NULL UNIQUE,
    reporter      TEXT    NOT NULL,
    form          TEXT    NOT NULL,
    sender        TEXT    NOT NULL,
    subject       TEXT    NOT NULL,
    verdict       TEXT    NOT NULL,
    score         BIGINT NOT NULL,
    reasons       TEXT    NOT NULL,
    received_ms   BIGINT NOT NULL,
    answered_ms   BIGINT,
    answer_error  TEXT
);
CREATE INDEX phish_reports_campaign ON phish_reports (campaign_id, received_ms);
CREATE INDEX phish_reports_reporter ON phish_reports (reporter);
CREATE INDEX phish_reports_received ON phish_reports (received_ms);

CREATE TABLE phish_notes (
    id            TEXT PRIMARY KEY,
    campaign_id   TEXT    NOT NULL REFERENCES phish_campaigns (id) ON DELETE CASCADE,
    author        TEXT    NOT NULL,
    body          TEXT    NOT NULL,
    created_ms    BIGINT NOT NULL
);
CREATE INDEX phish_notes_campaign ON phish_notes (campaign_id, created_ms);
