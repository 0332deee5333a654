-- Workspace items, their categories and the audit trail of every change.
-- Runs with search_path set to the service schema (default "workspace").
--
-- Audit rows are written by triggers, so no code path (the service, the
-- LowDB importer, an operator in psql) can change a row without leaving one.
-- Who and from where come from transaction-local settings the writer sets:
--   workspace.actor       e.g. the X-User header, "import-lowdb"
--   workspace.source      "api", "import", ... ("sql" when unset)
--   workspace.request_id  the HTTP request id, when there is one

CREATE TABLE workspace_categories (
    name         text        PRIMARY KEY
                             CHECK (name ~ '^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$'),
    display_name text        NOT NULL CHECK (char_length(display_name) BETWEEN 1 AND 200),
    description  text        CHECK (char_length(description) <= 2000),
    color        text        CHECK (color ~ '^#[0-9A-Fa-f]{6}$'),
    icon         text        CHECK (char_length(icon) BETWEEN 1 AND 64),
    sort_order   integer     NOT NULL DEFAULT 100,
    is_active    boolean     NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    created_by   text        NOT NULL DEFAULT 'system',
    updated_by   text        NOT NULL DEFAULT 'system'
);

CREATE TABLE workspace_items (
    id          text        PRIMARY KEY DEFAULT gen_random_uuid()::text
                            CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$'),
    title       text        NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    description text        NOT NULL CHECK (char_length(description) BETWEEN 1 AND 2000),
    -- ON UPDATE CASCADE keeps items attached if an operator renames a category;
    -- RESTRICT is what makes "delete a category in use" a 409, race-free.
    category    text        NOT NULL REFERENCES workspace_categories (name)
                            ON UPDATE CASCADE ON DELETE RESTRICT,
    priority    text        NOT NULL DEFAULT 'medium'
                            CHECK (priority IN ('low', 'medium', 'high', 'critical')),
    status      text        NOT NULL DEFAULT 'new'
                            CHECK (status IN ('new', 'review', 'in-progress', 'completed', 'rejected')),
    tags        text[]      NOT NULL DEFAULT '{}',
    metadata    jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    created_by  text        NOT NULL DEFAULT 'system',
    updated_by  text        NOT NULL DEFAULT 'system'
);
-- The list order is (created_at DESC, id DESC): stable, and served by this index.
CREATE INDEX workspace_items_order_idx ON workspace_items (created_at DESC, id DESC);
CREATE INDEX workspace_items_category_idx ON workspace_items (category);
CREATE INDEX workspace_items_status_idx ON workspace_items (status);
CREATE INDEX workspace_items_priority_idx ON workspace_items (priority);

CREATE TABLE workspace_audit_log (
    id         bigserial   PRIMARY KEY,
    entity     text        NOT NULL CHECK (entity IN ('item', 'category')),
    entity_id  text        NOT NULL,
    action     text        NOT NULL CHECK (action IN ('create', 'update', 'delete')),
    old_data   jsonb,
    new_data   jsonb,
    changed_by text        NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    source     text        NOT NULL,
    request_id text
);
CREATE INDEX workspace_audit_log_entity_idx ON workspace_audit_log (entity, entity_id, id);
CREATE INDEX workspace_audit_log_changed_at_idx ON workspace_audit_log (changed_at);

-- TG_ARGV[0]: the entity name, TG_ARGV[1]: its key column.
-- SET search_path FROM CURRENT pins the schema this migration runs in, so the
-- trigger finds its table whatever search_path the writer has.
CREATE FUNCTION workspace_audit() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    old_row jsonb := CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN to_jsonb(OLD) END;
    new_row jsonb := CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN to_jsonb(NEW) END;
BEGIN
    IF TG_OP = 'UPDATE' AND old_row = new_row THEN
        RETURN NULL;
    END IF;
    INSERT INTO workspace_audit_log
        (entity, entity_id, action, old_data, new_data, changed_by, source, request_id)
    VALUES (
        TG_ARGV[0],
        coalesce(new_row, old_row) ->> TG_ARGV[1],
        CASE TG_OP WHEN 'INSERT' THEN 'create' WHEN 'UPDATE' THEN 'update' ELSE 'delete' END,
        old_row,
        new_row,
        coalesce(nullif(current_setting('workspace.actor', true), ''), session_user),
        coalesce(nullif(current_setting('workspace.source', true), ''), 'sql'),
        nullif(current_setting('workspace.request_id', true), '')
    );
    RETURN NULL;
END;
$$;

CREATE TRIGGER workspace_items_audit
    AFTER INSERT OR UPDATE OR DELETE ON workspace_items
    FOR EACH ROW EXECUTE FUNCTION workspace_audit('item', 'id');
CREATE TRIGGER workspace_categories_audit
    AFTER INSERT OR UPDATE OR DELETE ON workspace_categories
    FOR EACH ROW EXECUTE FUNCTION workspace_audit('category', 'name');

-- Default categories (those of the original workspace, plus "outros" for items
-- without one). Seeded after the triggers so that their creation is audited too.
SELECT set_config('workspace.actor', 'migration', true),
       set_config('workspace.source', 'migration', true);
INSERT INTO workspace_categories
    (name, display_name, description, color, icon, sort_order, created_by, updated_by)
VALUES
    ('documentacao', 'Documentação', 'Documentação, guias e tutoriais', '#3B82F6', 'BookOpen', 1, 'migration', 'migration'),
    ('coleta-dados', 'Coleta de Dados', 'Captura de dados de mercado, ProfitDLL', '#10B981', 'Database', 2, 'migration', 'migration'),
    ('banco-dados', 'Banco de Dados', 'TimescaleDB, esquemas e consultas', '#8B5CF6', 'Server', 3, 'migration', 'migration'),
    ('analise-dados', 'Análise de Dados', 'Estatística, ML e sinais', '#F59E0B', 'BarChart', 4, 'migration', 'migration'),
    ('gestao-riscos', 'Gestão de Riscos', 'Motor de risco, stop loss, tamanho de posição', '#EF4444', 'Shield', 5, 'migration', 'migration'),
    ('dashboard', 'Dashboard', 'Frontend, UI/UX e visualização', '#EC4899', 'Layout', 6, 'migration', 'migration'),
    ('outros', 'Outros', 'Itens sem categoria específica', '#6B7280', 'Folder', 99, 'migration', 'migration');
