-- People, workspaces and chats: who uses the bot, in which language, in which team.
CREATE TABLE users (
    id                   INTEGER PRIMARY KEY,          -- Telegram user id
    locale               TEXT,                         -- chosen with /language; NULL follows Telegram
    telegram_language    TEXT,                         -- last language_code Telegram reported
    current_workspace_id INTEGER REFERENCES workspaces(id) ON DELETE SET NULL,
    first_seen           TEXT NOT NULL,
    last_seen            TEXT NOT NULL
);

CREATE TABLE workspaces (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE memberships (
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role         TEXT NOT NULL CHECK (role IN ('owner', 'member')),
    joined_at    TEXT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX memberships_by_user ON memberships(user_id);

CREATE TABLE chats (
    id         INTEGER PRIMARY KEY,                    -- Telegram chat id (groups the bot is in)
    type       TEXT NOT NULL,
    title      TEXT,
    locale     TEXT,                                   -- the group's language; NULL until known
    active     INTEGER NOT NULL DEFAULT 1,             -- 0 once the bot was removed or blocked
    added_at   TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- aiogram FSM: one row per conversation key, so a conversation survives kill -9.
CREATE TABLE fsm_states (
    key        TEXT PRIMARY KEY,
    state      TEXT,
    data       TEXT NOT NULL DEFAULT '{}',
    updated_at TEXT NOT NULL
);

-- Updates already handled, so one that Telegram re-delivers after a crash is not applied twice.
CREATE TABLE processed_updates (
    update_id    INTEGER PRIMARY KEY,
    processed_at TEXT NOT NULL
);
