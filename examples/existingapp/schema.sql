-- The app's own schema, as it was before SCIM: workspaces with their
-- verified email domains, accounts, teams, team members (foreign keys to
-- both), and login sessions. The one table SCIM added is scim_tokens: the
-- hash of each workspace's provisioning token.
CREATE TABLE IF NOT EXISTS workspaces (
	id   text PRIMARY KEY,
	name text NOT NULL
);
CREATE TABLE IF NOT EXISTS workspace_domains (
	workspace_id text NOT NULL REFERENCES workspaces (id),
	domain       text NOT NULL,
	PRIMARY KEY (workspace_id, domain)
);
CREATE TABLE IF NOT EXISTS accounts (
	id           text PRIMARY KEY,
	workspace_id text NOT NULL REFERENCES workspaces (id),
	email        text NOT NULL,
	display_name text NOT NULL DEFAULT '' CHECK (length(display_name) <= 200),
	active       boolean NOT NULL DEFAULT true,
	scim_id      text UNIQUE
);
CREATE TABLE IF NOT EXISTS teams (
	id           text PRIMARY KEY,
	workspace_id text NOT NULL REFERENCES workspaces (id),
	name         text NOT NULL,
	scim_id      text UNIQUE
);
CREATE TABLE IF NOT EXISTS team_members (
	team_id    text NOT NULL REFERENCES teams (id),
	account_id text NOT NULL REFERENCES accounts (id),
	PRIMARY KEY (team_id, account_id)
);
CREATE TABLE IF NOT EXISTS sessions (
	token      text PRIMARY KEY,
	account_id text NOT NULL REFERENCES accounts (id)
);
CREATE TABLE IF NOT EXISTS scim_tokens (
	hash         text PRIMARY KEY,
	workspace_id text NOT NULL REFERENCES workspaces (id)
);
