"""The signals api: ingest, parse, store and serve Telegram messages and signals."""
