-- References (issue 5): single-use links a manager sends to creators, and the creators' answers.
-- Only a hash of each token is stored, so a leaked database opens no questionnaire. `id` is a short,
-- stable number for the revoke buttons (callback data is 64 bytes; a TEXT key's rowid may change on VACUUM).
CREATE TABLE reference_links (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash    TEXT NOT NULL UNIQUE,
    partner_id    INTEGER NOT NULL REFERENCES partners(id) ON DELETE CASCADE,
    created_by    INTEGER REFERENCES users(id) ON DELETE SET NULL,   -- the manager, notified on answer
    label         TEXT,                                              -- e.g. the creator's name, team-only
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    revoked_at    TEXT,
    opened_at     TEXT,
    opened_by_key TEXT,          -- respondent key of the first person who opened it: one link, one creator
    answered_at   TEXT
);
CREATE INDEX reference_links_by_partner ON reference_links(partner_id, id);

-- No Telegram id here: respondent_key = sha256("<partner id>:<telegram user id>") only lets the bot refuse a
-- second answer from the same account about the same partner.
CREATE TABLE reference_answers (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    partner_id          INTEGER NOT NULL REFERENCES partners(id) ON DELETE CASCADE,
    link_hash           TEXT REFERENCES reference_links(token_hash) ON DELETE SET NULL,
    respondent_key      TEXT NOT NULL,
    worked_months       INTEGER NOT NULL CHECK (worked_months >= 0),
    market              TEXT NOT NULL CHECK (market IN ('ru', 'us', 'both')),
    consistency         INTEGER NOT NULL CHECK (consistency BETWEEN 1 AND 5),
    consistency_comment TEXT,
    respect             INTEGER NOT NULL CHECK (respect BETWEEN 1 AND 5),
    respect_comment     TEXT,
    reliability         INTEGER NOT NULL CHECK (reliability BETWEEN 1 AND 5),
    reliability_comment TEXT,
    growth              INTEGER NOT NULL CHECK (growth BETWEEN 1 AND 5),
    growth_comment      TEXT,
    again               TEXT NOT NULL CHECK (again IN ('yes', 'maybe', 'no')),
    anything_else       TEXT,
    locale              TEXT NOT NULL,
    started_at          TEXT NOT NULL,
    finished_at         TEXT NOT NULL,
    too_fast            INTEGER NOT NULL DEFAULT 0,
    UNIQUE (partner_id, respondent_key)
);
CREATE INDEX reference_answers_by_partner ON reference_answers(partner_id, id);
