"""The REST API (``/api/v1``), its per-staff tokens and the outbound webhooks."""
