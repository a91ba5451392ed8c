CREATE TABLE scim_oauth_clients (
	id           text PRIMARY KEY,
	tenant       text NOT NULL,
	name         text NOT NULL,
	disabled     integer NOT NULL,
	fed_issuer   text,
	fed_jwks_url text,
	fed_subject  text,
	fed_audience text,
	created      integer NOT NULL
);
CREATE INDEX scim_oauth_clients_tenant ON scim_oauth_clients (tenant, created, id);
CREATE TABLE scim_oauth_secrets (
	client_id text NOT NULL REFERENCES scim_oauth_clients (id) ON DELETE CASCADE,
	id        text NOT NULL,
	hash      blob NOT NULL,
	created   integer NOT NULL,
	expires   integer NOT NULL,
	revoked   integer,
	PRIMARY KEY (client_id, id)
);
