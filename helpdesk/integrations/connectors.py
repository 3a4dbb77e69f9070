"""The platform modules by name, for the code that treats Salla and Zid alike (inbox, sync, views)."""

from __future__ import annotations

from types import ModuleType

from helpdesk.integrations import salla, zid
from helpdesk.integrations.models import Platform

CONNECTORS: dict[Platform, ModuleType] = {Platform.SALLA: salla, Platform.ZID: zid}


def connector(platform: Platform | str) -> ModuleType:
    return CONNECTORS[Platform(platform)]
