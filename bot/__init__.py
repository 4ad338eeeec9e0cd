"""Most / Мост: a bilingual Telegram bot for cross-market UGC partnerships."""
