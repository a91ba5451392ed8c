-- Members are identified by their folded value, as the Group schema's
-- members.value is case-insensitive (and as memstore identifies them): a
-- group holds "ABC" or "abc", not both. Of members that fold alike, the
-- one added first stays. SQLite cannot change a primary key in place, so
-- the table is rebuilt.
CREATE TABLE scim_group_members_0002 (
	tenant      TEXT NOT NULL,
	group_id    TEXT NOT NULL,
	member_id   TEXT NOT NULL,
	member_fold TEXT NOT NULL,
	member_type TEXT NOT NULL DEFAULT '',
	display     TEXT NOT NULL DEFAULT '',
	ref         TEXT NOT NULL DEFAULT '',
	seq         INTEGER NOT NULL,
	PRIMARY KEY (tenant, group_id, member_fold)
) WITHOUT ROWID;
INSERT OR IGNORE INTO scim_group_members_0002
	SELECT tenant, group_id, member_id, member_fold, member_type, display, ref, seq
	FROM scim_group_members ORDER BY tenant, group_id, seq, member_id;
DROP TABLE scim_group_members;
ALTER TABLE scim_group_members_0002 RENAME TO scim_group_members;
CREATE INDEX scim_group_members_member ON scim_group_members (tenant, member_fold, group_id);
