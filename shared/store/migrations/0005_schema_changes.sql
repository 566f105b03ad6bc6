-- Schema changes of a bound table reach its sheet (docs/schema-changes.md).
--
-- Each binding keeps the table's columns as sheetsync last saw them, by
-- attnum (which a RENAME COLUMN or ALTER COLUMN TYPE keeps). The first
-- statement on the table after an ALTER TABLE (a statement-level trigger),
-- or the relay's next drain, compares them with the catalog and queues one
-- `schema` change for the sheet, in order with the row changes: columns
-- added, dropped, renamed and retyped. Added and retyped columns are then
-- sent for every row (`update` changes carrying the key and those columns),
-- which the writer applies in its usual batches.
--
-- No event trigger: creating one needs a superuser, and the role that
-- migrates is not one (docs/security.md).

ALTER TABLE sheetsync.bindings ADD COLUMN IF NOT EXISTS columns jsonb;

ALTER TABLE sheetsync.outbox DROP CONSTRAINT IF EXISTS outbox_op_check;
ALTER TABLE sheetsync.outbox ADD CONSTRAINT outbox_op_check
    CHECK (op IN ('insert', 'update', 'delete', 'keyset', 'schema'));

-- What changed, for `sheetsync status`.
CREATE TABLE IF NOT EXISTS sheetsync.schema_changes (
    id          bigserial PRIMARY KEY,
    binding     text NOT NULL REFERENCES sheetsync.bindings(name) ON DELETE CASCADE,
    -- the outbox sequence of the `schema` change that carries it
    seq         bigint NOT NULL,
    change      text NOT NULL CHECK (change IN ('added', 'dropped', 'renamed', 'retyped')),
    column_name text NOT NULL,
    -- renamed: the old name; retyped: the old type
    previous    text,
    detected_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS schema_changes_binding ON sheetsync.schema_changes (binding, id);

-- The sheet's header as the webhook last read it: names that are no column
-- of the table (ignored), and columns of the table it lacks (not synced
-- from the sheet). For `sheetsync status`.
CREATE TABLE IF NOT EXISTS sheetsync.sheet_header (
    binding  text PRIMARY KEY REFERENCES sheetsync.bindings(name) ON DELETE CASCADE,
    ignored  text[] NOT NULL,
    missing  text[] NOT NULL,
    seen_at  timestamptz NOT NULL DEFAULT now()
);

-- A table's columns as the binding keeps them: [{"attnum", "name", "type"}]
-- in attnum order, dropped columns left out.
CREATE OR REPLACE FUNCTION sheetsync.table_columns(p_table oid) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
                'attnum', a.attnum,
                'name', a.attname::text,
                'type', format_type(a.atttypid, a.atttypmod)) ORDER BY a.attnum), '[]'::jsonb)
      FROM pg_attribute a
     WHERE a.attrelid = p_table AND a.attnum > 0 AND NOT a.attisdropped
$$;

UPDATE sheetsync.bindings SET columns = sheetsync.table_columns(table_oid) WHERE columns IS NULL;

-- Compares the binding's columns with the catalog; on a difference queues
-- the `schema` change and the added and retyped columns' values, keeps the
-- row state's per-column entries under the new names, and records the new
-- columns. Returns how many columns changed (0 almost always, after one
-- catalog read). Runs as the owner (who owns the bound tables).
CREATE OR REPLACE FUNCTION sheetsync.check_schema(p_binding text) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    b        record;
    now_cols jsonb;
    added    jsonb;
    dropped  jsonb;
    renamed  jsonb;
    retyped  jsonb;
    fill     text[];
    names    jsonb;
    keys     text[];
    s        bigint;
    n        integer;
BEGIN
    SELECT name, table_oid, table_schema, table_name, key_columns, columns INTO b
      FROM sheetsync.bindings WHERE name = p_binding;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    now_cols := sheetsync.table_columns(b.table_oid);
    IF now_cols = b.columns OR now_cols = '[]'::jsonb THEN
        -- unchanged, or the table is gone (the binding then reports that)
        RETURN 0;
    END IF;
    -- Again under the binding's lock: one of two concurrent callers queues.
    SELECT name, table_oid, table_schema, table_name, key_columns, columns INTO b
      FROM sheetsync.bindings WHERE name = p_binding FOR UPDATE;
    now_cols := sheetsync.table_columns(b.table_oid);
    IF now_cols = b.columns THEN
        RETURN 0;
    END IF;
    IF b.columns IS NULL THEN
        UPDATE sheetsync.bindings SET columns = now_cols WHERE name = b.name;
        RETURN 0;
    END IF;

    SELECT coalesce(jsonb_agg(c -> 'name' ORDER BY (c ->> 'attnum')::int), '[]') INTO added
      FROM jsonb_array_elements(now_cols) c
     WHERE NOT EXISTS (SELECT 1 FROM jsonb_array_elements(b.columns) o WHERE o -> 'attnum' = c -> 'attnum');
    SELECT coalesce(jsonb_agg(o -> 'name' ORDER BY (o ->> 'attnum')::int), '[]') INTO dropped
      FROM jsonb_array_elements(b.columns) o
     WHERE NOT EXISTS (SELECT 1 FROM jsonb_array_elements(now_cols) c WHERE o -> 'attnum' = c -> 'attnum');
    SELECT coalesce(jsonb_agg(jsonb_build_object('from', o -> 'name', 'to', c -> 'name')
                              ORDER BY (c ->> 'attnum')::int), '[]') INTO renamed
      FROM jsonb_array_elements(now_cols) c JOIN jsonb_array_elements(b.columns) o
        ON o -> 'attnum' = c -> 'attnum'
     WHERE o -> 'name' <> c -> 'name';
    SELECT coalesce(jsonb_agg(jsonb_build_object('name', c -> 'name', 'from', o -> 'type', 'to', c -> 'type')
                              ORDER BY (c ->> 'attnum')::int), '[]') INTO retyped
      FROM jsonb_array_elements(now_cols) c JOIN jsonb_array_elements(b.columns) o
        ON o -> 'attnum' = c -> 'attnum'
     WHERE o -> 'type' <> c -> 'type';
    n := jsonb_array_length(added) + jsonb_array_length(dropped)
         + jsonb_array_length(renamed) + jsonb_array_length(retyped);

    -- A renamed key column stays the key under its new name.
    SELECT jsonb_object_agg(x ->> 'from', x -> 'to') INTO names FROM jsonb_array_elements(renamed) x;
    keys := ARRAY(SELECT coalesce(names ->> k, k)
                    FROM unnest(b.key_columns) WITH ORDINALITY u(k, o) ORDER BY o);
    UPDATE sheetsync.bindings SET columns = now_cols, key_columns = keys WHERE name = b.name;
    IF n = 0 THEN
        -- attnums moved without a visible change (nothing to tell the sheet)
        RETURN 0;
    END IF;

    s := sheetsync.enqueue(b.name, 'schema', '[]'::jsonb, jsonb_build_object(
        'table', b.table_schema || '.' || b.table_name,
        'added', added, 'dropped', dropped, 'renamed', renamed, 'retyped', retyped,
        'columns', (SELECT jsonb_agg(c -> 'name' ORDER BY (c ->> 'attnum')::int)
                      FROM jsonb_array_elements(now_cols) c)));

    INSERT INTO sheetsync.schema_changes (binding, seq, change, column_name, previous)
    SELECT b.name, s, 'added', x #>> '{}', NULL FROM jsonb_array_elements(added) x
    UNION ALL
    SELECT b.name, s, 'dropped', x #>> '{}', NULL FROM jsonb_array_elements(dropped) x
    UNION ALL
    SELECT b.name, s, 'renamed', x ->> 'to', x ->> 'from' FROM jsonb_array_elements(renamed) x
    UNION ALL
    SELECT b.name, s, 'retyped', x ->> 'name', x ->> 'from' FROM jsonb_array_elements(retyped) x;

    -- The row state's per-column entries follow the columns: a dropped
    -- column's go, a renamed one's take the new name (all at once, so two
    -- columns that swap names swap entries).
    IF jsonb_array_length(dropped) > 0 OR names IS NOT NULL THEN
        UPDATE sheetsync.row_state r
           SET cell_seq = (SELECT coalesce(jsonb_object_agg(coalesce(names ->> e.k, e.k), e.v), '{}'::jsonb)
                             FROM jsonb_each(r.cell_seq) e(k, v)
                            WHERE NOT dropped ? e.k OR names ? e.k),
               cell_changed_at = (SELECT coalesce(jsonb_object_agg(coalesce(names ->> e.k, e.k), e.v), '{}'::jsonb)
                                    FROM jsonb_each(r.cell_changed_at) e(k, v)
                                   WHERE NOT dropped ? e.k OR names ? e.k)
         WHERE r.binding = b.name;
    END IF;

    -- Every row's values of the added and retyped columns, one `update` per
    -- row, after the `schema` change; each cell's sequence is that update's
    -- (a row without a row state gets one holding just those), so an edit
    -- made before the fill lands is checked against it.
    SELECT array_agg(x #>> '{}') INTO fill FROM (
        SELECT x FROM jsonb_array_elements(added) x
        UNION ALL SELECT x -> 'name' FROM jsonb_array_elements(retyped) x) f;
    IF fill IS NOT NULL AND cardinality(keys) > 0 THEN
        EXECUTE format($q$
            WITH r AS (
                SELECT to_jsonb(t) AS j FROM %s t
            ), queued AS (
                INSERT INTO sheetsync.outbox (binding, op, key, row_image, origin)
                SELECT $1, 'update',
                       (SELECT jsonb_agg(r.j -> k ORDER BY o) FROM unnest($2::text[]) WITH ORDINALITY u(k, o)),
                       (SELECT jsonb_object_agg(k, r.j -> k) FROM unnest($2::text[] || $3::text[]) k),
                       'backfill'
                  FROM r
                RETURNING seq, key
            )
            INSERT INTO sheetsync.row_state AS rs (binding, key, cell_seq)
            SELECT $1, q.key,
                   (SELECT jsonb_object_agg(k, to_jsonb(q.seq)) FROM unnest($3::text[]) k)
              FROM queued q
            ON CONFLICT (binding, key) DO UPDATE SET cell_seq = rs.cell_seq || EXCLUDED.cell_seq$q$,
            b.table_oid::regclass) USING b.name, keys, fill;
    END IF;
    PERFORM pg_notify('sheetsync_outbox', b.name);
    RETURN n;
END;
$fn$;
REVOKE EXECUTE ON FUNCTION sheetsync.check_schema(text) FROM PUBLIC;

-- Before each statement on a bound table (any role, any origin): a schema
-- change is queued before the statement's first row change, so the sheet
-- gets its new header before values under the new names.
CREATE OR REPLACE FUNCTION sheetsync.schema_trigger() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    PERFORM sheetsync.check_schema(TG_ARGV[0]);
    RETURN NULL;
END;
$fn$;
REVOKE EXECUTE ON FUNCTION sheetsync.schema_trigger() FROM PUBLIC;

-- Bound tables attached before this migration get the statement trigger.
DO $do$
DECLARE
    b record;
BEGIN
    FOR b IN SELECT name, table_oid FROM sheetsync.bindings
              WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = table_oid) LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS sheetsync_schema ON %s', b.table_oid::regclass);
        EXECUTE format('CREATE TRIGGER sheetsync_schema BEFORE INSERT OR UPDATE OR DELETE ON %s
                            FOR EACH STATEMENT EXECUTE FUNCTION sheetsync.schema_trigger(%L)',
                       b.table_oid::regclass, b.name);
    END LOOP;
    -- The functions' roles already granted: the relay runs the check, the
    -- webhook records the header it read.
    FOR b IN SELECT DISTINCT grantee FROM sheetsync.bindings
              WHERE grantee IS NOT NULL
                AND EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = grantee) LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION sheetsync.check_schema(text) TO %I', b.grantee);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE ON sheetsync.sheet_header TO %I', b.grantee);
        EXECUTE format('GRANT SELECT ON sheetsync.schema_changes TO %I', b.grantee);
    END LOOP;
END;
$do$;
