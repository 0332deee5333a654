-- Channel and bot registries (soft delete: deleted_at).

CREATE TABLE telegram_channels (
    id          bigserial PRIMARY KEY,
    channel_id  bigint,
    username    text,
    label       text        NOT NULL,
    description text,
    is_active   boolean     NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz,
    CHECK (channel_id IS NOT NULL OR username IS NOT NULL)
);
CREATE UNIQUE INDEX telegram_channels_channel_id_key
    ON telegram_channels (channel_id) WHERE deleted_at IS NULL AND channel_id IS NOT NULL;
CREATE UNIQUE INDEX telegram_channels_username_key
    ON telegram_channels (lower(username)) WHERE deleted_at IS NULL AND username IS NOT NULL;

CREATE TABLE telegram_bots (
    id          bigserial PRIMARY KEY,
    username    text        NOT NULL,
    token       text        NOT NULL,
    bot_type    text        NOT NULL DEFAULT 'ingestion',
    description text,
    is_active   boolean     NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz
);
CREATE UNIQUE INDEX telegram_bots_username_key
    ON telegram_bots (lower(username)) WHERE deleted_at IS NULL;
