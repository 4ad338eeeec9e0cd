"""How the bot talks to Telegram, apart from what it says: updates in (intake), the update middlewares,
the Bot API session and its request middlewares (limits, retries, one live keyboard), the outbound lane for
pushes, signals and log context. Nothing here knows a feature; bot/handlers/ holds the features."""
