-- Campaigns on the 1 → 3 → 5 ladder, what happened in them, and their debriefs (issue: pilots and debriefs).
CREATE TABLE campaigns (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    partner_id          INTEGER NOT NULL REFERENCES partners(id) ON DELETE CASCADE,
    rung                INTEGER NOT NULL CHECK (rung BETWEEN 1 AND 3),
    creators            INTEGER NOT NULL,
    bigger_confirmed    INTEGER NOT NULL DEFAULT 0,      -- "yes, a bigger pilot" was said explicitly
    deliverable         TEXT NOT NULL,
    start_date          TEXT NOT NULL,                   -- ISO date
    days                INTEGER NOT NULL,
    due_date            TEXT NOT NULL,                   -- ISO date: the debrief reminder's day
    metrics             TEXT NOT NULL,
    metrics_agreed      INTEGER NOT NULL,
    payment_terms       TEXT NOT NULL,
    revision_limit      INTEGER NOT NULL,
    creators_market     TEXT NOT NULL CHECK (creators_market IN ('ru', 'us', 'both')),
    checklist           TEXT NOT NULL DEFAULT '[]',      -- JSON list of checklist items confirmed
    charter_success     TEXT NOT NULL,
    charter_failure     TEXT NOT NULL,
    charter_renegotiate TEXT NOT NULL,
    warnings            TEXT NOT NULL DEFAULT '[]',      -- JSON list of scope warnings at saving time
    manager_id          INTEGER REFERENCES users(id) ON DELETE SET NULL,
    status              TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'debriefed')),
    reminder_sent_at    TEXT,                            -- set once; the reminder is never sent twice
    created_at          TEXT NOT NULL
);
CREATE INDEX campaigns_by_partner ON campaigns(partner_id, id);
CREATE INDEX campaigns_due ON campaigns(status, reminder_sent_at, due_date);

CREATE TABLE campaign_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    note        TEXT,
    source      TEXT NOT NULL DEFAULT 'manager',         -- manager, or checkin for the weekly rhythm
    logged_by   INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX campaign_events_by_campaign ON campaign_events(campaign_id, id);

CREATE TABLE debriefs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id     INTEGER NOT NULL UNIQUE REFERENCES campaigns(id) ON DELETE CASCADE,
    what_worked     TEXT NOT NULL,
    what_didnt      TEXT NOT NULL,
    problem         TEXT NOT NULL,
    quality         INTEGER NOT NULL CHECK (quality BETWEEN 1 AND 5),
    recommendation  TEXT NOT NULL,
    reasons         TEXT NOT NULL,                       -- JSON list of the recommendation's reasons
    decision        TEXT NOT NULL,
    override_reason TEXT,                                -- why the decision differs from the recommendation
    decided_by      INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at      TEXT NOT NULL
);
