-- The cloud register: services with their status and the data they process, assessment answers
-- with evidence, evidence documents, and employees' reports of services they use.
CREATE TABLE cloud_services (
    id            TEXT PRIMARY KEY,
    catalog_id    TEXT UNIQUE,
    name          TEXT    NOT NULL,
    name_key      TEXT    NOT NULL UNIQUE,
    vendor        TEXT    NOT NULL,
    website       TEXT    NOT NULL,
    country       TEXT    NOT NULL,
    functions     TEXT    NOT NULL,
    domains       TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    owner         TEXT    NOT NULL,
    alternatives  TEXT    NOT NULL,
    data_personal INTEGER NOT NULL,
    data_special  INTEGER NOT NULL,
    user_groups   TEXT    NOT NULL,
    guidance      TEXT    NOT NULL,
    answers       TEXT    NOT NULL,
    review_due_ms INTEGER,
    created_ms    INTEGER NOT NULL,
    updated_ms    INTEGER NOT NULL
);

CREATE TABLE cloud_evidence (
    id           TEXT PRIMARY KEY,
    service_id   TEXT    NOT NULL REFERENCES cloud_services (id) ON DELETE CASCADE,
    question     TEXT    NOT NULL,
    url          TEXT,
    file_name    TEXT,
    content_type TEXT,
    content      BLOB,
    size         INTEGER NOT NULL,
    sha256       TEXT,
    dated        TEXT    NOT NULL,
    added_by     TEXT    NOT NULL,
    added_ms     INTEGER NOT NULL
);
CREATE INDEX cloud_evidence_service ON cloud_evidence (service_id, question);

CREATE TABLE cloud_reports (
    id          TEXT PRIMARY KEY,
    user_id     TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    what        TEXT    NOT NULL,
    purpose     TEXT    NOT NULL,
    data        TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    reply       TEXT    NOT NULL,
    service_id  TEXT REFERENCES cloud_services (id) ON DELETE SET NULL,
    created_ms  INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL
);
CREATE INDEX cloud_reports_user ON cloud_reports (user_id);
CREATE INDEX cloud_reports_status ON cloud_reports (status);
