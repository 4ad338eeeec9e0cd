"""SQLite persistence: connection, migrations, repositories and the FSM storage."""
