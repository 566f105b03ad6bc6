-- sheetsync schema: bindings, outbox, per-row sync state, conflicts, rejects,
-- processed webhook events. Applied once, recorded in sheetsync.schema_migrations.

CREATE SCHEMA IF NOT EXISTS sheetsync;

-- A binding pairs one table with one sheet tab.
CREATE TABLE IF NOT EXISTS sheetsync.bindings (
    name            text PRIMARY KEY,
    table_oid       oid NOT NULL UNIQUE,
    table_schema    text NOT NULL,
    table_name      text NOT NULL,
    spreadsheet_id  text NOT NULL,
    sheet           text NOT NULL,
    conflict_policy text NOT NULL DEFAULT 'latest'
                    CHECK (conflict_policy IN ('latest', 'sheet', 'db')),
    -- primary key column names, in key order
    key_columns     text[] NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (spreadsheet_id, sheet)
);

-- Every committed change on its way to the sheet. Keys are JSON arrays of
-- the key columns' values in key order, as to_jsonb renders them.
CREATE TABLE IF NOT EXISTS sheetsync.outbox (
    seq         bigserial PRIMARY KEY,
    binding     text NOT NULL REFERENCES sheetsync.bindings(name) ON DELETE CASCADE,
    op          text NOT NULL CHECK (op IN ('insert', 'update', 'delete', 'keyset')),
    key         jsonb NOT NULL,
    -- insert: the whole row; update: the changed columns and the key
    -- columns; delete: NULL; keyset: {"keys": [...], "first": bool, "last": bool}
    -- (a backfill's full key set, in parts)
    row_image   jsonb,
    -- db: a change made in the database; repair: queued by the webhook so the
    -- sheet converges; backfill: the whole table pushed to the sheet
    origin      text NOT NULL DEFAULT 'db' CHECK (origin IN ('db', 'repair', 'backfill')),
    txid        xid8 NOT NULL DEFAULT pg_current_xact_id(),
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS outbox_binding_seq ON sheetsync.outbox (binding, seq);

-- What sheetsync knows of each row of a bound table.
CREATE TABLE IF NOT EXISTS sheetsync.row_state (
    binding       text NOT NULL REFERENCES sheetsync.bindings(name) ON DELETE CASCADE,
    key           jsonb NOT NULL,
    -- outbox sequence of the row's last change that did not come from the sheet
    last_db_seq   bigint,
    -- per column: when its value last changed, {"col": "2026-11-25T13:35:00.123Z"}
    cell_changed_at jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- the sheet is known to have held this row (it reported the key)
    sheet_held    boolean NOT NULL DEFAULT false,
    -- set when the row was deleted: the outbox sequence of that delete
    tombstone_seq bigint,
    PRIMARY KEY (binding, key)
);

CREATE TABLE IF NOT EXISTS sheetsync.conflicts (
    id           bigserial PRIMARY KEY,
    binding      text NOT NULL,
    key          jsonb NOT NULL,
    column_name  text NOT NULL,
    sheet_value  jsonb,
    db_value     jsonb,
    winner       text NOT NULL CHECK (winner IN ('sheet', 'db')),
    policy       text NOT NULL,
    event_id     text,
    sheet_edited_at timestamptz,
    db_changed_at   timestamptz,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS sheetsync.rejects (
    id           bigserial PRIMARY KEY,
    binding      text NOT NULL,
    event_id     text,
    sheet_row    integer,
    key          jsonb,
    column_name  text,
    value        jsonb,
    reason       text NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);

-- Webhook idempotency: the first answer to each event id.
CREATE TABLE IF NOT EXISTS sheetsync.processed_events (
    event_id     text PRIMARY KEY,
    binding      text NOT NULL,
    response     jsonb NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);

-- Every outbox row goes through here. Writers hold the binding's advisory
-- lock in shared mode until they commit; the relay takes it exclusively for
-- an instant to learn the highest sequence below which every writer has
-- finished, so it never sends a change while an older one of the same binding
-- is still uncommitted, and a sheet's watermark always means "everything up
-- to here".
CREATE OR REPLACE FUNCTION sheetsync.binding_lock_key(binding text) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$ SELECT hashtext('sheetsync.outbox:' || binding) $$;

CREATE OR REPLACE FUNCTION sheetsync.enqueue(
    p_binding text, p_op text, p_key jsonb, p_row jsonb, p_origin text DEFAULT 'db'
) RETURNS bigint
LANGUAGE plpgsql AS $fn$
DECLARE
    s bigint;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(21331, sheetsync.binding_lock_key(p_binding));
    INSERT INTO sheetsync.outbox (binding, op, key, row_image, origin)
    VALUES (p_binding, p_op, p_key, p_row, p_origin) RETURNING seq INTO s;
    RETURN s;
END;
$fn$;

-- The capture trigger: one per bound table, AFTER INSERT/UPDATE/DELETE FOR
-- EACH ROW, with the binding name as its only argument. Writes made under
-- SET LOCAL sheetsync.origin = 'sheet' queue nothing: the webhook records
-- their sync state itself.
CREATE OR REPLACE FUNCTION sheetsync.capture() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    b        sheetsync.bindings%ROWTYPE;
    new_row  jsonb;
    old_row  jsonb;
    new_key  jsonb;
    old_key  jsonb;
    changed  jsonb;
    col      text;
    now_text text := to_jsonb(clock_timestamp())::text;
    times    jsonb;
    s        bigint;
BEGIN
    IF current_setting('sheetsync.origin', true) = 'sheet' THEN
        RETURN NULL;
    END IF;
    SELECT * INTO b FROM sheetsync.bindings WHERE name = TG_ARGV[0];
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;

    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        new_row := to_jsonb(NEW);
        SELECT jsonb_agg(new_row -> k ORDER BY o) INTO new_key
          FROM unnest(b.key_columns) WITH ORDINALITY AS u(k, o);
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        old_row := to_jsonb(OLD);
        SELECT jsonb_agg(old_row -> k ORDER BY o) INTO old_key
          FROM unnest(b.key_columns) WITH ORDINALITY AS u(k, o);
    END IF;

    -- A key change is a delete of the old key and an insert of the new one.
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND new_key IS DISTINCT FROM old_key) THEN
        s := sheetsync.enqueue(b.name, 'delete', old_key, NULL);
        INSERT INTO sheetsync.row_state AS r (binding, key, last_db_seq, tombstone_seq)
        VALUES (b.name, old_key, s, s)
        ON CONFLICT (binding, key) DO UPDATE
            SET last_db_seq = s, tombstone_seq = s, sheet_held = r.sheet_held;
    END IF;

    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND new_key IS DISTINCT FROM old_key) THEN
        s := sheetsync.enqueue(b.name, 'insert', new_key, new_row);
        SELECT jsonb_object_agg(k, now_text::jsonb) INTO times FROM jsonb_object_keys(new_row) AS k;
        INSERT INTO sheetsync.row_state AS r (binding, key, last_db_seq, cell_changed_at, tombstone_seq)
        VALUES (b.name, new_key, s, times, NULL)
        -- A key inserted again is a new row the sheet has not held yet.
        ON CONFLICT (binding, key) DO UPDATE
            SET last_db_seq = s, cell_changed_at = r.cell_changed_at || times,
                tombstone_seq = NULL, sheet_held = false;
    ELSIF TG_OP = 'UPDATE' THEN
        SELECT jsonb_object_agg(k, new_row -> k) INTO changed
          FROM jsonb_object_keys(new_row) AS k
         WHERE (new_row -> k) IS DISTINCT FROM (old_row -> k);
        IF changed IS NULL THEN
            RETURN NULL;
        END IF;
        SELECT jsonb_object_agg(k, now_text::jsonb) INTO times FROM jsonb_object_keys(changed) AS k;
        FOREACH col IN ARRAY b.key_columns LOOP
            changed := changed || jsonb_build_object(col, new_row -> col);
        END LOOP;
        s := sheetsync.enqueue(b.name, 'update', new_key, changed);
        INSERT INTO sheetsync.row_state AS r (binding, key, last_db_seq, cell_changed_at)
        VALUES (b.name, new_key, s, times)
        ON CONFLICT (binding, key) DO UPDATE
            SET last_db_seq = s, cell_changed_at = r.cell_changed_at || times;
    END IF;

    -- The payload names the binding only: never the row (8000-byte limit).
    PERFORM pg_notify('sheetsync_outbox', b.name);
    RETURN NULL;
END;
$fn$;
