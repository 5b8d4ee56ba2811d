"""Accounts, roles, permissions and (later) row scope."""
