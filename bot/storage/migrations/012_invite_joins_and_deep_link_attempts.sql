-- Issue 14 "Privacy and access".
-- Who came in through which invite link: the owner sees it in /team and is told at once. A row goes with its
-- invite (and its workspace), and with the person on /deletemydata.
CREATE TABLE invite_joins (
    invite_hash TEXT NOT NULL REFERENCES invites(token_hash) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    joined_at   TEXT NOT NULL,
    PRIMARY KEY (invite_hash, user_id)
);
CREATE INDEX invite_joins_by_user ON invite_joins(user_id);

-- Failed deep-link attempts per Telegram user (bot/deep_links.py): one row per person, pruned once it expires
-- (the window is over and no lock-out runs), so the table stays as small as the people guessing right now.
-- No foreign key on purpose: /deletemydata must not lift a lock-out (bot/reports/personal_data.py keeps it).
CREATE TABLE deep_link_attempts (
    user_id      INTEGER PRIMARY KEY,
    window_start TEXT NOT NULL,
    failures     INTEGER NOT NULL,
    locked_until TEXT,
    expires_at   TEXT NOT NULL
);
CREATE INDEX deep_link_attempts_by_expiry ON deep_link_attempts(expires_at);
