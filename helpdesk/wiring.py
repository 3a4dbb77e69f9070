"""How the features are plugged into the domain: the one list, applied when the app is created.

The ticket and SLA services publish domain events (``helpdesk.events``) and know nothing of the
channels; the generic registries (search indexes, worker jobs) know nothing of the features. This
module connects them. A new channel or subscriber is one more line here, never an edit of
``helpdesk/tickets``.
"""

from __future__ import annotations

import importlib

from helpdesk import events
from helpdesk.api import webhooks
from helpdesk.automations import triggers
from helpdesk.custom_fields import subscribers as custom_fields
from helpdesk.live import feed as live
from helpdesk.mail import subscribers as mail
from helpdesk.search import pg as search_documents
from helpdesk.tickets import search_index as ticket_index
from helpdesk.whatsapp import outbound as whatsapp

# Modules that register search indexes or worker jobs when imported.
REGISTERING_MODULES = (
    "helpdesk.kb.search_index",  # the "articles" index
    "helpdesk.tickets.search_index",  # the "tickets" index
    "helpdesk.api.webhooks",  # job: deliver webhooks
    "helpdesk.mail.imap",  # job: poll mailboxes
    "helpdesk.mail.inbound",  # job: process stored mail
    "helpdesk.mail.outbox",  # job: send the outbox
    "helpdesk.search.indexer",  # job: apply index jobs
    "helpdesk.sla.breaches",  # job: SLA warnings and breaches
    "helpdesk.tickets.jobs",  # jobs: auto-close, presence housekeeping
    "helpdesk.automations.runs",  # job: time-based automations
    "helpdesk.integrations.inbox",  # job: map the shop platforms' webhooks
    "helpdesk.integrations.jobs",  # job: refresh shop tokens before they expire
    "helpdesk.integrations.panel",  # the customer panel shows the platforms' orders apart, once
    "helpdesk.integrations.placeholders",  # macro placeholders: the shop order's payment and shipment
    "helpdesk.custom_fields.placeholders",  # macro placeholders: each ticket field's value
    "helpdesk.whatsapp.inbound",  # job: file the WhatsApp ledger into tickets
    "helpdesk.whatsapp.outbound",  # job: send the WhatsApp outbox
    "helpdesk.companies.service",  # flush hook: a new address on a company's domain joins it
    "helpdesk.live.jobs",  # job: prune the live-update log
)

# (signal, receiver): receivers run in the publisher's transaction and only record work.
RECEIVERS = (
    (events.message_added, mail.email_staff_reply),
    (events.message_added, whatsapp.send_staff_reply),
    (events.sla_warning, mail.email_sla_warning),
    (events.sla_breached, mail.email_sla_breach),
    (events.message_added, ticket_index.reindex_ticket),
    (events.tickets_merged, ticket_index.reindex_ticket),
    # An email ticket gets its request type first, so the "created" triggers can use it.
    (events.ticket_opened, custom_fields.type_email_ticket),
    (events.ticket_opened, triggers.on_ticket_opened),
    (events.message_added, triggers.on_message_added),
    (events.ticket_changed, triggers.on_ticket_changed),
    (events.committing, webhooks.write_deliveries),
    (events.committing, live.record),  # live updates, pushed after the commit
    (events.committing, search_documents.write_documents),  # on PostgreSQL, in the transaction
)


def connect_features() -> None:
    """Register the indexes and jobs and connect every receiver (idempotent: connecting twice keeps
    one connection)."""
    for name in REGISTERING_MODULES:
        importlib.import_module(name)
    for signal, receiver in RECEIVERS:
        signal.connect(receiver, weak=False)
