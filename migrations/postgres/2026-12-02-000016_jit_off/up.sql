-- JIT off for every session of this database, set on the database rather than by each connection:
-- a session `SET` would stay on a pooled server connection behind pgbouncer in transaction mode and
-- follow it to other clients. The planner's cost of a list query with a LIMIT over a large table
-- is far above `jit_above_cost`, so PostgreSQL spent half a second compiling each execution of a
-- query that runs in a quarter of a millisecond (docs/benchmarks.md, "Fixes the harness found").
-- It needs the database's owner; a role that is not keeps the server's setting, and
-- docs/deploy.md says to set it on the role instead (`ALTER ROLE ... SET jit = off`).
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET jit = off', current_database());
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'jit is left as the server sets it: ALTER DATABASE needs the owner';
END
$$;
