-- Least privilege (docs/security.md).
--
-- The role the functions log in as is given what it needs on a bound table by
-- `sheetsync attach --grant-to ROLE` (or `sheetsync grant`), recorded here so
-- `sheetsync detach` revokes it again.
ALTER TABLE sheetsync.bindings ADD COLUMN IF NOT EXISTS grantee text;

-- The capture trigger runs as the owner of its function (the role that
-- migrates), not as whoever changed the table: an application writing to a
-- bound table needs no privilege on the sheetsync schema, so it cannot write
-- the outbox of any binding (and through it a spreadsheet) itself. With a
-- fixed search_path nothing a caller puts first on theirs runs with those
-- rights. A later migration that replaces the function must say SECURITY
-- DEFINER and this SET again (CREATE OR REPLACE resets them; the tests of
-- shared/store/tests/grants.rs fail if it does not).
ALTER FUNCTION sheetsync.capture() SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

-- Creating a trigger needs EXECUTE on its function: only the owner (and roles
-- it grants) may put the capture trigger on a table, so nobody can attach a
-- table of their own to a binding's outbox by hand. Triggers already in place
-- keep firing (EXECUTE is checked when a trigger is made, not when it fires).
REVOKE EXECUTE ON FUNCTION sheetsync.capture() FROM PUBLIC;
