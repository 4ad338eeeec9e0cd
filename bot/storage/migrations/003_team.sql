-- Team workspaces: the name a teammate goes by in /team (Telegram names are not sent with every lookup).
ALTER TABLE users ADD COLUMN display_name TEXT;
