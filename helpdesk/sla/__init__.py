"""SLA: business calendars, policies, due times, breach checks and escalations."""
