-- Per-cell freshness and rows the sheet inserted (docs/contract.md, "Sync
-- rules"): what each cell of a row last showed the sheet, and when a row
-- the database keyed was typed into the sheet.

-- Per column: the outbox sequence at which the sheet is sent the table's
-- current value of the cell (the capture trigger's change, or a value the
-- webhook queued), {"col": 1290}. A column without an entry holds a value
-- the sheet itself wrote (or one written before this migration whose change
-- the sheet had received). A cell whose sequence is above an event's
-- watermark holds a value the sheet had not shown when the script read it.
ALTER TABLE sheetsync.row_state
    ADD COLUMN IF NOT EXISTS cell_seq jsonb NOT NULL DEFAULT '{}'::jsonb;

-- Rows inserted from a keyless sheet row (the database assigned the key and
-- the script writes it back): when the person typed the row (the insert's
-- `edited_at`). NULL for every other row. The sheet held such a row from
-- that moment, whether or not it has reported the key yet.
ALTER TABLE sheetsync.row_state
    ADD COLUMN IF NOT EXISTS sheet_inserted_at timestamptz;

-- Rows changed before this migration: which columns their last change
-- touched is not known, so every column with a recorded change time takes
-- the row's last sequence. At worst this records a conflict that was not
-- one, until the sheet's watermark passes that sequence.
UPDATE sheetsync.row_state
   SET cell_seq = (SELECT coalesce(jsonb_object_agg(k, to_jsonb(last_db_seq)), '{}'::jsonb)
                     FROM jsonb_object_keys(cell_changed_at) AS k)
 WHERE last_db_seq IS NOT NULL AND tombstone_seq IS NULL;

-- The capture trigger, now also keeping `cell_seq` (and forgetting a
-- deleted key's `sheet_inserted_at` when the key is inserted again).
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
    seqs     jsonb;
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
        SELECT jsonb_object_agg(k, now_text::jsonb), jsonb_object_agg(k, to_jsonb(s))
          INTO times, seqs FROM jsonb_object_keys(new_row) AS k;
        INSERT INTO sheetsync.row_state AS r
            (binding, key, last_db_seq, cell_changed_at, cell_seq, tombstone_seq)
        VALUES (b.name, new_key, s, times, seqs, NULL)
        -- A key inserted again is a new row the sheet has not held yet.
        ON CONFLICT (binding, key) DO UPDATE
            SET last_db_seq = s, cell_changed_at = r.cell_changed_at || times,
                cell_seq = r.cell_seq || seqs,
                tombstone_seq = NULL, sheet_held = false, sheet_inserted_at = NULL;
    ELSIF TG_OP = 'UPDATE' THEN
        SELECT jsonb_object_agg(k, new_row -> k) INTO changed
          FROM jsonb_object_keys(new_row) AS k
         WHERE (new_row -> k) IS DISTINCT FROM (old_row -> k);
        IF changed IS NULL THEN
            RETURN NULL;
        END IF;
        FOREACH col IN ARRAY b.key_columns LOOP
            changed := changed || jsonb_build_object(col, new_row -> col);
        END LOOP;
        s := sheetsync.enqueue(b.name, 'update', new_key, changed);
        SELECT jsonb_object_agg(k, now_text::jsonb), jsonb_object_agg(k, to_jsonb(s))
          INTO times, seqs
          FROM jsonb_object_keys(changed) AS k
         WHERE (new_row -> k) IS DISTINCT FROM (old_row -> k);
        INSERT INTO sheetsync.row_state AS r (binding, key, last_db_seq, cell_changed_at, cell_seq)
        VALUES (b.name, new_key, s, times, seqs)
        ON CONFLICT (binding, key) DO UPDATE
            SET last_db_seq = s, cell_changed_at = r.cell_changed_at || times,
                cell_seq = r.cell_seq || seqs;
    END IF;

    -- The payload names the binding only: never the row (8000-byte limit).
    PERFORM pg_notify('sheetsync_outbox', b.name);
    RETURN NULL;
END;
$fn$;
