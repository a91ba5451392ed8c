-- The provisioning log keeps one row per tenant of each batch the log
-- queue hands it, not one per entry: scim_log_batches. Its entries column
-- is a JSON array of entries, each an array of its fields in fixed
-- positions: time in microseconds since the epoch, client, user agent,
-- method, path, query, status, scimType, detail, resource type, resource
-- id, events (comma-separated), probe (1 or 0), duration in nanoseconds.
-- newest and oldest bound its entries' times; n, failures (status 400 or
-- more) and probes count them, so that a query skips the batches that
-- cannot match. scim_log's rows move over in batches of up to 1,000 rows
-- of one tenant, in their order.

CREATE TABLE scim_log_batches (
	seq      bigserial PRIMARY KEY,
	tenant   text COLLATE "C" NOT NULL,
	newest   timestamptz NOT NULL,
	oldest   timestamptz NOT NULL,
	n        integer NOT NULL,
	failures integer NOT NULL,
	probes   integer NOT NULL,
	entries  text NOT NULL
);
CREATE INDEX scim_log_batches_tenant_newest ON scim_log_batches (tenant, newest, seq);
CREATE INDEX scim_log_batches_oldest ON scim_log_batches (oldest);

INSERT INTO scim_log_batches (seq, tenant, newest, oldest, n, failures, probes, entries)
SELECT min(seq), tenant, max(at), min(at), count(*), count(*) FILTER (WHERE status >= 400), count(*) FILTER (WHERE probe),
	json_agg(json_build_array((extract(epoch FROM at) * 1000000)::bigint, client, user_agent, method, path, query, status,
		scim_type, detail, resource_type, resource_id, events, CASE WHEN probe THEN 1 ELSE 0 END, duration_ns) ORDER BY seq)::text
FROM scim_log GROUP BY tenant, seq / 1000;
SELECT setval(pg_get_serial_sequence('scim_log_batches', 'seq'), max(seq)) FROM scim_log_batches HAVING count(*) > 0;

DROP TABLE scim_log;
