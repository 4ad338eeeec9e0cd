-- Issue 15: a creator who taps "6–12 months" said a range, not 6. The range is kept as answered
-- (worked_range); a number of months only when one was typed (worked_months, else NULL). Older answers hold
-- a number only: their range is derived from it, and the number is kept, since it cannot be told whether it
-- was typed or a tap's lower bound. The table is rebuilt because SQLite cannot drop a NOT NULL in place.
CREATE TABLE reference_answers_new (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    partner_id          INTEGER NOT NULL REFERENCES partners(id) ON DELETE CASCADE,
    link_hash           TEXT REFERENCES reference_links(token_hash) ON DELETE SET NULL,
    respondent_key      TEXT NOT NULL,
    worked_months       INTEGER CHECK (worked_months IS NULL OR worked_months >= 0),
    worked_range        TEXT NOT NULL CHECK (worked_range IN ('lt3', '3to6', '6to12', '12plus')),
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
-- The bounds are bot/domain/references.py DURATION_BOUNDS (3, 6, 12).
INSERT INTO reference_answers_new
    (id, partner_id, link_hash, respondent_key, worked_months, worked_range, market, consistency,
     consistency_comment, respect, respect_comment, reliability, reliability_comment, growth, growth_comment,
     again, anything_else, locale, started_at, finished_at, too_fast)
SELECT id, partner_id, link_hash, respondent_key, worked_months,
       CASE WHEN worked_months < 3 THEN 'lt3' WHEN worked_months < 6 THEN '3to6'
            WHEN worked_months < 12 THEN '6to12' ELSE '12plus' END,
       market, consistency, consistency_comment, respect, respect_comment, reliability, reliability_comment,
       growth, growth_comment, again, anything_else, locale, started_at, finished_at, too_fast
FROM reference_answers;
DROP TABLE reference_answers;
ALTER TABLE reference_answers_new RENAME TO reference_answers;
CREATE INDEX reference_answers_by_partner ON reference_answers(partner_id, id);
