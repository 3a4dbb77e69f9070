"""Indexes the dashboard's date-range queries need on the ticket table (it has no tables of its own)."""

from __future__ import annotations

from sqlalchemy import Index

from helpdesk.tickets.models import Ticket

ticket_created_index = Index("ix_tickets_created", Ticket.created_at)
ticket_solved_index = Index("ix_tickets_solved", Ticket.solved_at)
