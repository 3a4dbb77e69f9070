"""Automation rules: triggers that run on ticket events and time-based automations run by the worker."""
