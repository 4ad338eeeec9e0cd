-- Issue 13: an update is stored as Telegram sent it (raw JSON), handled in one unit of work with its handled
-- mark, and one that cannot be parsed or keeps failing is set aside after a bounded number of attempts instead
-- of blocking every update behind it. Set-aside updates keep their payload and reason for an operator.
ALTER TABLE received_updates ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE received_updates ADD COLUMN last_error TEXT;
ALTER TABLE received_updates ADD COLUMN set_aside_at TEXT;
ALTER TABLE received_updates ADD COLUMN set_aside_reason TEXT;

DROP INDEX received_updates_unhandled;
CREATE INDEX received_updates_pending ON received_updates (update_id)
    WHERE handled_at IS NULL AND set_aside_at IS NULL;
CREATE INDEX received_updates_set_aside ON received_updates (set_aside_at) WHERE set_aside_at IS NOT NULL;
