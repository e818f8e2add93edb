-- Where each followed log file was left: its inode and the offset after the last whole line.
CREATE TABLE ingest_files (
    path        TEXT PRIMARY KEY,
    inode       TEXT    NOT NULL,
    byte_offset INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL
);
