"""Backups of an embedded (SQLite) instance: ``helpdesk backup DIR`` and ``helpdesk restore DIR``."""
