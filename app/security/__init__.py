"""Accounts, roles, permissions, the access policy and the row scope every query and write goes through."""
