"""Accounts and access: users and their passwords, roles and what each may do, API keys, the audit log of
who changed what, and the bootstrap admin made from the settings."""
