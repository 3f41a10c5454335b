"""LTI 1.3 tool and the embedded group-management UI."""
