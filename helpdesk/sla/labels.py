"""The SLA metrics in words, for pages, emails and ticket events."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from helpdesk.sla.models import SlaMetric

METRIC_LABELS = {
    SlaMetric.FIRST_RESPONSE: _l("first response"),
    SlaMetric.NEXT_RESPONSE: _l("next response"),
    SlaMetric.RESOLUTION: _l("resolution"),
}
