-- Round files fetched from remote game servers (SFTP, FTP, FTPS) into the local spool, so a
-- restart transfers only what is new, and the state of each source for `/import status`.

-- One row per remote file that was downloaded completely. A file is fetched again only when
-- its size or modification time differs from what is recorded here.
CREATE TABLE remote_fetches (
    source_id    TEXT        NOT NULL,
    remote_path  TEXT        NOT NULL,
    size         BIGINT      NOT NULL,
    -- Seconds since 1970 as the server reports them; NULL when its listing gives none.
    mtime        BIGINT,
    spool_path   TEXT        NOT NULL,
    fetched_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- NULL while the spooled file still waits for the importer (e.g. the database was away).
    imported_at  TIMESTAMPTZ,
    PRIMARY KEY (source_id, remote_path)
);
CREATE INDEX remote_fetches_pending_idx ON remote_fetches (source_id) WHERE imported_at IS NULL;

-- Last known state of each source, written by its poller (one row per source).
CREATE TABLE remote_sources (
    source_id     TEXT        NOT NULL PRIMARY KEY,
    -- The URL without its password.
    display       TEXT        NOT NULL,
    up            BOOLEAN     NOT NULL,
    -- Since when the source has been up or down.
    since         TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_error    TEXT,
    last_poll_at  TIMESTAMPTZ,
    files_fetched BIGINT      NOT NULL DEFAULT 0,
    bytes_fetched BIGINT      NOT NULL DEFAULT 0
);
