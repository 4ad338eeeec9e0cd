-- Issue 13 (pushes survive crashes): at-least-once for the check-in's prompt, reminder and digest.
--
-- A round's digest is written here, part by part, in the same transaction that closes the round; each part is
-- marked when its request is about to leave (attempted_at) and when Telegram confirmed it (sent_at). A restart
-- sends every part not confirmed, in order, so a round is never closed with its digest lost, and a part the
-- database knows was delivered is never sent again. A part Telegram refused for good (the chat is gone, a bad
-- request) is given up and kept with the reason. The text is dropped once delivered: the answers stay in
-- checkin_answers, the group has the message.
CREATE TABLE checkin_digest_parts (
    round_id     INTEGER NOT NULL REFERENCES checkin_rounds(id) ON DELETE CASCADE,
    part_no      INTEGER NOT NULL,                          -- 0, 1, … in the order they are posted
    text         TEXT,                                      -- HTML as sent; NULL once delivered
    attempted_at TEXT,                                      -- the request was about to leave (fate unknown from here)
    sent_at      TEXT,                                      -- Telegram confirmed it
    message_id   INTEGER,
    given_up_at  TEXT,
    given_up_why TEXT,
    PRIMARY KEY (round_id, part_no)
);
CREATE INDEX checkin_digest_parts_pending ON checkin_digest_parts (round_id, part_no)
    WHERE sent_at IS NULL AND given_up_at IS NULL;

-- The reminder: reminder_sent_at now marks its request about to leave; reminder_settled_at marks it done (delivered,
-- not needed because everyone answered, or refused for good). One claimed but not settled is sent again. Reminders
-- of older rounds were claimed before sending and are taken as settled.
ALTER TABLE checkin_rounds ADD COLUMN reminder_settled_at TEXT;
UPDATE checkin_rounds SET reminder_settled_at = reminder_sent_at WHERE reminder_sent_at IS NOT NULL;
