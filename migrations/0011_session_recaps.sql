-- Session recaps posted by the bot: one row per server and session day, so a recap is posted
-- exactly once, also across restarts. The row is written (claimed) before the post and gets
-- the channel and message once Discord accepted it; a failed post removes the claim again.
CREATE TABLE posted_recaps (
    server_id     TEXT        NOT NULL,
    session_date  DATE        NOT NULL,
    channel_id    BIGINT,
    message_id    BIGINT,
    claimed_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (server_id, session_date)
);

-- The recap job asks every minute for each server's latest round, and /session for a
-- server's rounds of a day: both by server, then time.
CREATE INDEX IF NOT EXISTS rounds_server_ended_idx ON rounds (server_id, ended_at);
