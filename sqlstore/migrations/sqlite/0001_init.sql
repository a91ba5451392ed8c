-- The PostgreSQL schema in SQLite's types: times are INTEGER microseconds
-- since the Unix epoch (UTC), booleans INTEGER 0/1, JSON TEXT. TEXT compares
-- with the BINARY collation, byte order, as the in-memory evaluator sorts.
-- The *_fold columns hold the value folded in Go (see fold in text.go):
-- SQLite's lower() folds ASCII only.

CREATE TABLE scim_users (
	tenant         TEXT NOT NULL,
	id             TEXT NOT NULL,
	user_name      TEXT NOT NULL,
	user_name_fold TEXT NOT NULL,
	external_id    TEXT NOT NULL DEFAULT '',
	manager_fold   TEXT NOT NULL DEFAULT '',
	active         INTEGER NOT NULL,
	created        INTEGER NOT NULL,
	last_modified  INTEGER NOT NULL,
	version        INTEGER NOT NULL,
	doc            TEXT NOT NULL,
	PRIMARY KEY (tenant, id)
);
CREATE UNIQUE INDEX scim_users_user_name ON scim_users (tenant, user_name_fold);
CREATE INDEX scim_users_external_id ON scim_users (tenant, external_id);
CREATE INDEX scim_users_created ON scim_users (tenant, created, id);

CREATE TABLE scim_user_emails (
	tenant     TEXT NOT NULL,
	user_id    TEXT NOT NULL,
	seq        INTEGER NOT NULL,
	type_fold  TEXT NOT NULL,
	value_fold TEXT NOT NULL,
	PRIMARY KEY (tenant, user_id, seq)
) WITHOUT ROWID;
CREATE INDEX scim_user_emails_value ON scim_user_emails (tenant, value_fold);

CREATE TABLE scim_groups (
	tenant            TEXT NOT NULL,
	id                TEXT NOT NULL,
	display_name      TEXT NOT NULL,
	display_name_fold TEXT NOT NULL,
	external_id       TEXT NOT NULL DEFAULT '',
	created           INTEGER NOT NULL,
	last_modified     INTEGER NOT NULL,
	version           INTEGER NOT NULL,
	member_seq        INTEGER NOT NULL DEFAULT 0,
	doc               TEXT NOT NULL,
	PRIMARY KEY (tenant, id)
);
CREATE UNIQUE INDEX scim_groups_display_name ON scim_groups (tenant, display_name_fold);
CREATE INDEX scim_groups_external_id ON scim_groups (tenant, external_id);
CREATE INDEX scim_groups_created ON scim_groups (tenant, created, id);

CREATE TABLE scim_group_members (
	tenant      TEXT NOT NULL,
	group_id    TEXT NOT NULL,
	member_id   TEXT NOT NULL,
	member_fold TEXT NOT NULL,
	member_type TEXT NOT NULL DEFAULT '',
	display     TEXT NOT NULL DEFAULT '',
	ref         TEXT NOT NULL DEFAULT '',
	seq         INTEGER NOT NULL,
	PRIMARY KEY (tenant, group_id, member_id)
) WITHOUT ROWID;
CREATE INDEX scim_group_members_member ON scim_group_members (tenant, member_fold, group_id);
