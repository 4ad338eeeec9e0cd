-- Issue 14: reference answers anonymous for real. respondent_key and opened_by_key become keyed hashes
-- (HMAC-SHA256 with a secret kept in a key file beside the database, never in it: bot/storage/respondents.py);
-- the moments a creator causes (a link opened, an answer started and finished) are kept to the day.
-- Existing rows are rewritten by a Python step at start-up (it needs the key file), which records here that it
-- ran, and the key's fingerprint, so a database restored with another key file is noticed and logged.
CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
