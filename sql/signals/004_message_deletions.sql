-- A channel message deleted in Telegram: the raw row is kept and records when.
ALTER TABLE telegram_messages ADD COLUMN IF NOT EXISTS deleted_at timestamptz;
