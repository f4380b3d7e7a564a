-- PostgreSQL's JIT is turned off for the database by its twin migration; SQLite has none.
SELECT 1;
