-- Issue 14 (privacy and access): a group is linked to a partnership from the manager's private chat, never from a
-- list shown inside the group. The wizard in private ends with a `startgroup` link carrying a single-use token;
-- only its SHA-256 is kept. A group already linked to another workspace is not taken over: the request waits
-- here for that workspace's owner to agree or refuse, so a restart loses nothing.
CREATE TABLE group_link_tokens (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash     TEXT NOT NULL UNIQUE,
    workspace_id   INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    partner_id     INTEGER NOT NULL REFERENCES partners(id) ON DELETE CASCADE,
    weekday        INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    hour           INTEGER NOT NULL CHECK (hour BETWEEN 0 AND 23),
    minute         INTEGER NOT NULL CHECK (minute BETWEEN 0 AND 59),
    timezone       TEXT NOT NULL,
    digest_hours   INTEGER NOT NULL,
    shared_doc     TEXT,
    created_by     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,  -- the manager who asked for it
    private_message_id INTEGER,                             -- the wizard's live message, edited once linked
    created_at     TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    used_at        TEXT,
    used_in_chat   INTEGER
);

CREATE TABLE group_relink_requests (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    link_id        INTEGER NOT NULL REFERENCES group_link_tokens(id) ON DELETE CASCADE,
    chat_id        INTEGER NOT NULL,
    chat_title     TEXT,
    from_workspace_id INTEGER NOT NULL,                     -- the workspace the group is linked to now
    requested_by   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at     TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    decided_at     TEXT,
    decision       TEXT                                     -- agreed, refused
);
CREATE INDEX group_relink_requests_by_chat ON group_relink_requests (chat_id, decided_at);
