-- The weekly async check-in in a partnership's group chat (issue 6): schedules, rounds, answers, people.
CREATE TABLE checkin_schedules (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id        INTEGER NOT NULL UNIQUE,                 -- the group; follows a supergroup migration
    workspace_id   INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    partner_id     INTEGER NOT NULL REFERENCES partners(id) ON DELETE CASCADE,
    weekday        INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),   -- Monday = 0
    hour           INTEGER NOT NULL CHECK (hour BETWEEN 0 AND 23),
    minute         INTEGER NOT NULL CHECK (minute BETWEEN 0 AND 59),
    timezone       TEXT NOT NULL,                           -- IANA name
    digest_hours   INTEGER NOT NULL DEFAULT 24,
    shared_doc     TEXT,
    active         INTEGER NOT NULL DEFAULT 1,
    next_prompt_at TEXT,                                    -- UTC ISO of the next prompt while active
    created_by     INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX checkin_schedules_due ON checkin_schedules(active, next_prompt_at);
CREATE INDEX checkin_schedules_by_partner ON checkin_schedules(workspace_id, partner_id);

-- One row per prompt, written before it is sent: a round is never sent twice.
CREATE TABLE checkin_rounds (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    schedule_id         INTEGER NOT NULL REFERENCES checkin_schedules(id) ON DELETE CASCADE,
    partner_id          INTEGER NOT NULL REFERENCES partners(id) ON DELETE CASCADE,
    occurrence          TEXT NOT NULL,                      -- UTC ISO of the scheduled moment
    token               TEXT NOT NULL UNIQUE,               -- /start ci_<token> answers it in private
    digest_hours        INTEGER NOT NULL,
    status              TEXT NOT NULL DEFAULT 'sending'
                        CHECK (status IN ('sending', 'open', 'failed', 'closed')),
    prompt_message_id   INTEGER,
    reminder_message_id INTEGER,
    sent_at             TEXT,                               -- the "sent" mark
    reminder_at         TEXT,
    reminder_sent_at    TEXT,                               -- claimed before sending: one reminder at most
    digest_at           TEXT,
    closed_at           TEXT,
    created_at          TEXT NOT NULL,
    UNIQUE (schedule_id, occurrence)
);
CREATE INDEX checkin_rounds_by_status ON checkin_rounds(status, digest_at);
CREATE INDEX checkin_rounds_by_partner ON checkin_rounds(partner_id, status, id);

-- Answers per member and round; an edit or a new answer before the digest replaces the old one.
CREATE TABLE checkin_answers (
    round_id    INTEGER NOT NULL REFERENCES checkin_rounds(id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL,
    name        TEXT NOT NULL,
    message_id  INTEGER,                                    -- the reply in the group; NULL if answered in private
    shipped     TEXT,
    next_steps  TEXT,
    blockers    TEXT,
    needs_call  INTEGER NOT NULL DEFAULT 0,
    answered_at TEXT NOT NULL,                              -- the first answer: the delay counts from the prompt
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (round_id, user_id)
);
CREATE INDEX checkin_answers_by_message ON checkin_answers(message_id);

-- People the bot has seen in a group (privacy mode hides the rest), and who is away until when.
CREATE TABLE checkin_people (
    chat_id    INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    name       TEXT NOT NULL,
    away_from  TEXT,
    away_until TEXT,
    first_seen TEXT NOT NULL,
    PRIMARY KEY (chat_id, user_id)
);

-- Who was expected in a closed round and what they did: the communication-health record.
CREATE TABLE checkin_round_members (
    round_id      INTEGER NOT NULL REFERENCES checkin_rounds(id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL,
    name          TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('answered', 'missing', 'away')),
    partner_side  INTEGER NOT NULL,                         -- 1 when not a member of the workspace
    delay_seconds INTEGER,
    PRIMARY KEY (round_id, user_id)
);
