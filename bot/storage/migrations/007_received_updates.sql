-- Updates are written down as they arrive, before Telegram is told they arrived (the next getUpdates offset),
-- and marked when handled (issue 8). After a crash the unhandled ones are handled from here; one that Telegram
-- sends again is recognised by its update_id. The payload is kept only until the update is handled.
CREATE TABLE received_updates (
    update_id   INTEGER PRIMARY KEY,
    payload     TEXT,
    received_at TEXT NOT NULL,
    handled_at  TEXT
);

INSERT INTO received_updates (update_id, received_at, handled_at)
SELECT update_id, processed_at, processed_at FROM processed_updates;

DROP TABLE processed_updates;

CREATE INDEX received_updates_unhandled ON received_updates (update_id) WHERE handled_at IS NULL;
