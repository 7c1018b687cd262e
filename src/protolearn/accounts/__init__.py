"""Users, roles, passwords, access and refresh tokens, the audit log."""
