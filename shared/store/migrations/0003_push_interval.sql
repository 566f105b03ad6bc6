-- When /sync_gsheet last queued a binding's whole table for its sheet, so a
-- caller holding the spreadsheet's key cannot make the webhook push the
-- table in a loop (SHEETSYNC_PUSH_MIN_INTERVAL_SECS).
ALTER TABLE sheetsync.bindings ADD COLUMN IF NOT EXISTS last_push_at timestamptz;
