-- Members are identified by their folded value, as the Group schema's
-- members.value is case-insensitive (and as memstore identifies them): a
-- group holds "ABC" or "abc", not both. Of members that fold alike, the
-- one added first stays.
DELETE FROM scim_group_members a USING scim_group_members b
WHERE a.tenant = b.tenant AND a.group_id = b.group_id AND a.member_fold = b.member_fold
	AND (a.seq, a.member_id) > (b.seq, b.member_id);
ALTER TABLE scim_group_members DROP CONSTRAINT scim_group_members_pkey;
ALTER TABLE scim_group_members ADD PRIMARY KEY (tenant, group_id, member_fold);
