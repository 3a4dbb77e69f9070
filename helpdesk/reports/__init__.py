"""Supervisor dashboard: SLA compliance, response times, backlog, agents, CSAT, deflection, volume."""
