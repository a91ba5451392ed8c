-- PostgreSQL's provisioning log entries are compressed with lz4 from this
-- migration on; SQLite stores them as they are.
SELECT 1;
