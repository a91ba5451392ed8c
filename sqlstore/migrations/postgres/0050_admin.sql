-- The workspace admin's settings (package admin): SCIM tokens by hash,
-- the sync switch, email domains and their verification, and the
-- provisioning log.

CREATE TABLE scim_admin_tokens (
	id        text COLLATE "C" PRIMARY KEY,
	tenant    text COLLATE "C" NOT NULL,
	name      text NOT NULL,
	prefix    text NOT NULL,
	hash      bytea NOT NULL UNIQUE,
	created   timestamptz NOT NULL,
	last_used timestamptz,
	revoked   timestamptz
);
CREATE INDEX scim_admin_tokens_tenant ON scim_admin_tokens (tenant, created, id);

CREATE TABLE scim_admin_sync (
	tenant   text COLLATE "C" PRIMARY KEY,
	disabled boolean NOT NULL
);

CREATE TABLE scim_admin_domains (
	tenant      text COLLATE "C" NOT NULL,
	name        text COLLATE "C" NOT NULL,
	token       text NOT NULL,
	added       timestamptz NOT NULL,
	verified    timestamptz,
	checked     timestamptz,
	check_error text NOT NULL DEFAULT '',
	PRIMARY KEY (tenant, name)
);

CREATE TABLE scim_log (
	seq           bigserial PRIMARY KEY,
	tenant        text COLLATE "C" NOT NULL,
	at            timestamptz NOT NULL,
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
	probe         boolean NOT NULL,
	duration_ns   bigint NOT NULL
);
CREATE INDEX scim_log_tenant_at ON scim_log (tenant, at, seq);
CREATE INDEX scim_log_at ON scim_log (at);
