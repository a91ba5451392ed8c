-- The workspace admin's settings (package admin): SCIM tokens by hash,
-- the sync switch, email domains and their verification, and the
-- provisioning log. Times are microseconds since the epoch.

CREATE TABLE scim_admin_tokens (
	id        text PRIMARY KEY,
	tenant    text NOT NULL,
	name      text NOT NULL,
	prefix    text NOT NULL,
	hash      blob NOT NULL UNIQUE,
	created   integer NOT NULL,
	last_used integer,
	revoked   integer
);
CREATE INDEX scim_admin_tokens_tenant ON scim_admin_tokens (tenant, created, id);

CREATE TABLE scim_admin_sync (
	tenant   text PRIMARY KEY,
	disabled integer NOT NULL
);

CREATE TABLE scim_admin_domains (
	tenant      text NOT NULL,
	name        text NOT NULL,
	token       text NOT NULL,
	added       integer NOT NULL,
	verified    integer,
	checked     integer,
	check_error text NOT NULL DEFAULT '',
	PRIMARY KEY (tenant, name)
);

CREATE TABLE scim_log (
	seq           integer PRIMARY KEY AUTOINCREMENT,
	tenant        text NOT NULL,
	at            integer NOT NULL,
	client        text NOT NULL,
	user_agent    text NOT NULL,
	method        text NOT NULL,
	path          text NOT NULL,
	query         text NOT NULL,
	status        integer NOT NULL,
	scim_type     text NOT NULL,
	detail        text NOT NULL,
	resource_type text NOT NULL,
	resource_id   text NOT NULL,
	events        text NOT NULL,
	probe         integer NOT NULL,
	duration_ns   integer NOT NULL
);
CREATE INDEX scim_log_tenant_at ON scim_log (tenant, at, seq);
CREATE INDEX scim_log_at ON scim_log (at);
