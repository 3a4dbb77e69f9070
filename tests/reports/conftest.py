"""The hand-worked week of tickets, shared by the dashboard's test files."""

from tests.reports.test_dashboard import week  # noqa: F401
