-- Least privilege (docs/security.md).
--
-- The role the functions log in as is given what it needs on a bound table by
-- `sheetsync attach --grant-to ROLE` (or `sheetsync grant`), recorded here so
-- `sheetsync detach` revokes it again.
ALTER TABLE sheetsync.bindings ADD COLUMN IF NOT EXISTS grantee text;

-- The capture trigger runs as the owner of this function (the role that
-- migrates), not as whoever changed the table: an application writing to a
-- bound table needs no privilege on the sheetsync schema, so it cannot write
-- the outbox of another binding (and through it another spreadsheet). The
-- function answers only for the table its binding names, and with a fixed
-- search_path nothing a caller puts first on theirs is run with its rights.
CREATE OR REPLACE FUNCTION sheetsync.capture() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
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
    -- Only the bound table's own trigger queues for its binding: a trigger
    -- someone put on another table naming this binding queues nothing.
    SELECT * INTO b FROM sheetsync.bindings WHERE name = TG_ARGV[0] AND table_oid = TG_RELID;
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
