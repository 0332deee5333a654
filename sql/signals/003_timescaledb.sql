-- TimescaleDB where it is installed and preloaded; plain PostgreSQL otherwise.
-- Hypertables partition by the Telegram message date (daily chunks); chunks
-- older than 30 days are compressed, and kept for 5 years.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')
       OR current_setting('shared_preload_libraries', true) NOT LIKE '%timescaledb%' THEN
        RAISE NOTICE 'timescaledb not available: plain PostgreSQL tables kept';
        RETURN;
    END IF;
    CREATE EXTENSION IF NOT EXISTS timescaledb;
    PERFORM create_hypertable('tp_capital_signals', 'ts',
        chunk_time_interval => interval '1 day', migrate_data => true, if_not_exists => true);
    PERFORM create_hypertable('telegram_messages', 'ts',
        chunk_time_interval => interval '1 day', migrate_data => true, if_not_exists => true);
    EXECUTE 'ALTER TABLE tp_capital_signals SET (timescaledb.compress, '
            'timescaledb.compress_segmentby = ''channel_id'', '
            'timescaledb.compress_orderby = ''ts DESC, message_id'')';
    EXECUTE 'ALTER TABLE telegram_messages SET (timescaledb.compress, '
            'timescaledb.compress_segmentby = ''channel_id'', '
            'timescaledb.compress_orderby = ''ts DESC, message_id'')';
    PERFORM add_compression_policy('tp_capital_signals', interval '30 days', if_not_exists => true);
    PERFORM add_compression_policy('telegram_messages', interval '30 days', if_not_exists => true);
    PERFORM add_retention_policy('tp_capital_signals', interval '5 years', if_not_exists => true);
    PERFORM add_retention_policy('telegram_messages', interval '5 years', if_not_exists => true);
END;
$$;
