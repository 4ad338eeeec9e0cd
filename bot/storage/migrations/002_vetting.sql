-- Partners and the evidence used to vet them (issue: partner vetting).
CREATE TABLE partners (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id       INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name               TEXT NOT NULL,
    name_key           TEXT NOT NULL,                 -- normalised name, to point out duplicates
    kind               TEXT NOT NULL,
    markets            TEXT NOT NULL,
    contact            TEXT,
    links              TEXT NOT NULL DEFAULT '[]',    -- JSON list of validated URLs
    shared_doc         TEXT,
    stage              TEXT NOT NULL DEFAULT 'candidate',
    archived           INTEGER NOT NULL DEFAULT 0,
    talked_failures    INTEGER NOT NULL DEFAULT 0,
    systematic_process INTEGER NOT NULL DEFAULT 0,
    asked_constraints  INTEGER NOT NULL DEFAULT 0,
    created_by         INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE INDEX partners_by_workspace ON partners(workspace_id, archived, name_key);

CREATE TABLE case_studies (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    partner_id INTEGER NOT NULL REFERENCES partners(id) ON DELETE CASCADE,
    market     TEXT NOT NULL CHECK (market IN ('ru', 'us')),
    brand      TEXT NOT NULL,
    outcome    TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),
    months     INTEGER NOT NULL CHECK (months >= 0),
    link       TEXT,
    added_by   INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX case_studies_by_partner ON case_studies(partner_id);

CREATE TABLE testimonials (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    partner_id INTEGER NOT NULL REFERENCES partners(id) ON DELETE CASCADE,
    text       TEXT NOT NULL,
    author     TEXT NOT NULL,
    added_by   INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX testimonials_by_partner ON testimonials(partner_id);

CREATE TABLE community_activities (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    partner_id INTEGER NOT NULL REFERENCES partners(id) ON DELETE CASCADE,
    text       TEXT NOT NULL,
    link       TEXT,
    added_by   INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX community_by_partner ON community_activities(partner_id);

-- Every gut-check run is kept: the card shows the history.
CREATE TABLE gut_checks (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    partner_id           INTEGER NOT NULL REFERENCES partners(id) ON DELETE CASCADE,
    run_by               INTEGER REFERENCES users(id) ON DELETE SET NULL,
    understands_ugc      INTEGER NOT NULL,
    knows_both_markets   INTEGER NOT NULL,
    asked_good_questions INTEGER NOT NULL,
    passed               INTEGER NOT NULL,
    note                 TEXT,
    created_at           TEXT NOT NULL
);
CREATE INDEX gut_checks_by_partner ON gut_checks(partner_id, id);

-- Every scorecard submission is kept; a rater's latest one counts.
CREATE TABLE scorecards (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    partner_id INTEGER NOT NULL REFERENCES partners(id) ON DELETE CASCADE,
    rater_id   INTEGER REFERENCES users(id) ON DELETE SET NULL,
    ratings    TEXT NOT NULL,                          -- JSON {criterion: 1..5}
    total      REAL NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX scorecards_by_partner ON scorecards(partner_id, rater_id, id);

-- Team invites, reusable until they expire or are revoked; only a hash of the token is stored, so a leaked database opens no workspace.
CREATE TABLE invites (
    token_hash   TEXT PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    created_by   INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    revoked_at   TEXT
);
CREATE INDEX invites_by_workspace ON invites(workspace_id);
