-- Users, their emails (for filters), groups and memberships, each row
-- scoped by tenant. Text columns that are compared or sorted use the "C"
-- collation: byte order, as the in-memory evaluator sorts, and usable by
-- LIKE 'prefix%' index scans. The *_fold columns hold the value folded in Go
-- (see fold in text.go), never SQL lower().

CREATE TABLE scim_users (
	tenant         text COLLATE "C" NOT NULL,
	id             text COLLATE "C" NOT NULL,
	user_name      text NOT NULL,
	user_name_fold text COLLATE "C" NOT NULL,
	external_id    text COLLATE "C" NOT NULL DEFAULT '',
	manager_fold   text COLLATE "C" NOT NULL DEFAULT '',
	active         boolean NOT NULL,
	created        timestamptz NOT NULL,
	last_modified  timestamptz NOT NULL,
	version        bigint NOT NULL,
	doc            json NOT NULL,
	PRIMARY KEY (tenant, id)
);
CREATE UNIQUE INDEX scim_users_user_name ON scim_users (tenant, user_name_fold);
CREATE INDEX scim_users_external_id ON scim_users (tenant, external_id);
CREATE INDEX scim_users_created ON scim_users (tenant, created, id);

CREATE TABLE scim_user_emails (
	tenant     text COLLATE "C" NOT NULL,
	user_id    text COLLATE "C" NOT NULL,
	seq        integer NOT NULL,
	type_fold  text COLLATE "C" NOT NULL,
	value_fold text COLLATE "C" NOT NULL,
	PRIMARY KEY (tenant, user_id, seq)
);
CREATE INDEX scim_user_emails_value ON scim_user_emails (tenant, value_fold);

CREATE TABLE scim_groups (
	tenant            text COLLATE "C" NOT NULL,
	id                text COLLATE "C" NOT NULL,
	display_name      text NOT NULL,
	display_name_fold text COLLATE "C" NOT NULL,
	external_id       text COLLATE "C" NOT NULL DEFAULT '',
	created           timestamptz NOT NULL,
	last_modified     timestamptz NOT NULL,
	version           bigint NOT NULL,
	member_seq        bigint NOT NULL DEFAULT 0,
	doc               json NOT NULL,
	PRIMARY KEY (tenant, id)
);
CREATE UNIQUE INDEX scim_groups_display_name ON scim_groups (tenant, display_name_fold);
CREATE INDEX scim_groups_external_id ON scim_groups (tenant, external_id);
CREATE INDEX scim_groups_created ON scim_groups (tenant, created, id);

CREATE TABLE scim_group_members (
	tenant      text COLLATE "C" NOT NULL,
	group_id    text COLLATE "C" NOT NULL,
	member_id   text COLLATE "C" NOT NULL,
	member_fold text COLLATE "C" NOT NULL,
	member_type text NOT NULL DEFAULT '',
	display     text NOT NULL DEFAULT '',
	ref         text NOT NULL DEFAULT '',
	seq         bigint NOT NULL,
	PRIMARY KEY (tenant, group_id, member_id)
);
CREATE INDEX scim_group_members_member ON scim_group_members (tenant, member_fold, group_id);
