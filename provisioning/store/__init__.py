"""Set-based primitives over the stored rows (users, groups, memberships): they work inside the
caller's transaction and never commit.  Rules, the LTI domain, imports, batch actions and the
use-case services build on them; they import none of those."""
