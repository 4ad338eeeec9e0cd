-- When the bot actually asked Telegram to post a round's prompt (issue 8: crash during a fan-out). A round still
-- 'sending' without it was only queued when the process died, so it is sent after the restart; one with it was
-- in flight, and may or may not have reached the group, so it is not sent a second time.
ALTER TABLE checkin_rounds ADD COLUMN attempted_at TEXT;
