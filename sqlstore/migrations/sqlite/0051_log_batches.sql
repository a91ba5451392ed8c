-- The provisioning log keeps one row per tenant of each batch the log
-- queue hands it, not one per entry: scim_log_batches. Its entries column
-- is a JSON array of entries, each an array of its fields in fixed
-- positions: time in microseconds since the epoch, client, user agent,
-- method, path, query, status, scimType, detail, resource type, resource
-- id, events (comma-separated), probe (1 or 0), duration in nanoseconds.
-- newest and oldest bound its entries' times; n, failures (status 400 or
-- more) and probes count them, so that a query skips the batches that
-- cannot match. seq is the rowid without AUTOINCREMENT: a new row's is
-- still above every row's left, which is all the order needs. scim_log's
-- rows move over in batches of up to 1,000 rows of one tenant, in their
-- order.

CREATE TABLE scim_log_batches (
	seq      integer PRIMARY KEY,
	tenant   text NOT NULL,
	newest   integer NOT NULL,
	oldest   integer NOT NULL,
	n        integer NOT NULL,
	failures integer NOT NULL,
	probes   integer NOT NULL,
	entries  text NOT NULL
);
CREATE INDEX scim_log_batches_tenant_newest ON scim_log_batches (tenant, newest, seq);
CREATE INDEX scim_log_batches_oldest ON scim_log_batches (oldest);

INSERT INTO scim_log_batches (seq, tenant, newest, oldest, n, failures, probes, entries)
SELECT min(seq), tenant, max(at), min(at), count(*), sum(status >= 400), sum(probe <> 0),
	json_group_array(json_array(at, client, user_agent, method, path, query, status, scim_type, detail, resource_type,
		resource_id, events, CASE WHEN probe <> 0 THEN 1 ELSE 0 END, duration_ns) ORDER BY seq)
FROM scim_log GROUP BY tenant, seq / 1000;

DROP TABLE scim_log;
