-- Raw Telegram messages and the signals parsed from them.
-- Runs with search_path set to the service schema (TIMESCALEDB_SCHEMA).
-- The natural key is (channel_id, message_id); the time column ts (the
-- Telegram message date, never changed by a retry or an edit) is part of
-- every unique key so that the tables can become TimescaleDB hypertables.

CREATE TABLE telegram_messages (
    id               bigserial,
    channel_id       bigint      NOT NULL,
    message_id       bigint      NOT NULL,
    ts               timestamptz NOT NULL,
    text             text        NOT NULL,
    channel_name     text,
    edit_date        timestamptz,
    source           text        NOT NULL DEFAULT 'user' CHECK (source IN ('user', 'bot')),
    forwarded_to     jsonb,
    parse_status     text        NOT NULL CHECK (parse_status IN ('signal', 'not_signal', 'invalid')),
    parse_reason     text,
    version          integer     NOT NULL DEFAULT 1,
    signal_deleted_at timestamptz,
    received_at      timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel_id, message_id, ts)
);
CREATE INDEX telegram_messages_ts_idx ON telegram_messages (ts DESC, id DESC);
CREATE INDEX telegram_messages_id_idx ON telegram_messages (id);
CREATE INDEX telegram_messages_forwarded_idx ON telegram_messages (ts DESC)
    WHERE forwarded_to IS NOT NULL;

-- Earlier versions of edited messages, written by a trigger so that no code
-- path can update a message without keeping what it replaced.
CREATE TABLE telegram_message_versions (
    id           bigserial PRIMARY KEY,
    channel_id   bigint      NOT NULL,
    message_id   bigint      NOT NULL,
    ts           timestamptz NOT NULL,
    version      integer     NOT NULL,
    text         text        NOT NULL,
    edit_date    timestamptz,
    parse_status text        NOT NULL,
    parse_reason text,
    replaced_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX telegram_message_versions_key_idx
    ON telegram_message_versions (channel_id, message_id, ts);

CREATE FUNCTION keep_message_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.text IS DISTINCT FROM OLD.text OR NEW.edit_date IS DISTINCT FROM OLD.edit_date THEN
        INSERT INTO telegram_message_versions
            (channel_id, message_id, ts, version, text, edit_date, parse_status, parse_reason)
        VALUES
            (OLD.channel_id, OLD.message_id, OLD.ts, OLD.version, OLD.text, OLD.edit_date,
             OLD.parse_status, OLD.parse_reason);
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER telegram_messages_keep_version
    BEFORE UPDATE ON telegram_messages
    FOR EACH ROW EXECUTE FUNCTION keep_message_version();

CREATE TABLE tp_capital_signals (
    id            bigserial,
    channel_id    bigint      NOT NULL,
    message_id    bigint      NOT NULL,
    ts            timestamptz NOT NULL,
    channel_name  text,
    source        text        NOT NULL DEFAULT 'user',
    asset         text        NOT NULL,
    signal_type   text        NOT NULL,
    side          text        NOT NULL CHECK (side IN ('buy', 'sell')),
    buy_min       numeric(20, 8),
    buy_max       numeric(20, 8),
    target_1      numeric(20, 8),
    target_2      numeric(20, 8),
    target_final  numeric(20, 8),
    targets       numeric(20, 8)[] NOT NULL DEFAULT '{}',
    stop          numeric(20, 8),
    raw_message   text        NOT NULL,
    version       integer     NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel_id, message_id, ts)
);
CREATE INDEX tp_capital_signals_ts_idx ON tp_capital_signals (ts DESC, id DESC);
CREATE INDEX tp_capital_signals_id_idx ON tp_capital_signals (id);
CREATE INDEX tp_capital_signals_asset_idx ON tp_capital_signals (asset, ts DESC);
CREATE INDEX tp_capital_signals_channel_idx ON tp_capital_signals (channel_id, ts DESC);

CREATE TABLE tp_capital_signal_versions (
    id          bigserial PRIMARY KEY,
    signal_id   bigint      NOT NULL,
    channel_id  bigint      NOT NULL,
    message_id  bigint      NOT NULL,
    ts          timestamptz NOT NULL,
    version     integer     NOT NULL,
    data        jsonb       NOT NULL,
    replaced_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tp_capital_signal_versions_key_idx
    ON tp_capital_signal_versions (channel_id, message_id, ts);

CREATE FUNCTION keep_signal_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tp_capital_signal_versions
        (signal_id, channel_id, message_id, ts, version, data)
    VALUES
        (OLD.id, OLD.channel_id, OLD.message_id, OLD.ts, OLD.version, to_jsonb(OLD));
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END;
$$;
CREATE TRIGGER tp_capital_signals_keep_version
    BEFORE UPDATE OR DELETE ON tp_capital_signals
    FOR EACH ROW EXECUTE FUNCTION keep_signal_version();
