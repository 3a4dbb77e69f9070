"""Benchmarks at realistic scale and the side-by-side comparison with django-helpdesk (`make bench`)."""
