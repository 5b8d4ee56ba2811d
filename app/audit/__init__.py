"""Audit trail: every change of every register row and every sign-in, recorded by one mechanism."""
