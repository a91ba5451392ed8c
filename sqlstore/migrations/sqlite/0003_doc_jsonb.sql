-- PostgreSQL's doc columns become jsonb in this migration; SQLite keeps
-- its TEXT documents, which json_extract reads as they are.
SELECT 1;
