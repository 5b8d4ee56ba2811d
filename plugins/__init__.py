"""Plugins: one package each, loaded by app/plugins.py from the config list PLUGINS (see docs/plugins.md)."""
