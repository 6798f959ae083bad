-- What the importer last made of each file path, so a restarted watcher skips files it has
-- seen (same path, size and modification time) without opening them, and a rejected file is
-- not tried again until its content changes. One row per path (import_log keeps the history).
-- outcome: imported | already_imported | empty | rejected.
CREATE TABLE import_file_state (
    source_path     TEXT        NOT NULL PRIMARY KEY,
    file_size       BIGINT      NOT NULL,
    -- Nanoseconds since 1970 (exact, so equality means "not touched since").
    file_mtime_ns   BIGINT      NOT NULL,
    content_sha256  TEXT,
    outcome         TEXT        NOT NULL,
    recorded_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- log_outcome looks up earlier entries of a path; with years of files that was a full scan.
CREATE INDEX import_log_source_path_idx ON import_log (source_path);
