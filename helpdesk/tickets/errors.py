"""Domain errors raised by the ticket services; views turn them into messages."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain was broken; ``message`` is shown to the user as it is."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class IllegalTransition(DomainError):
    pass


class StaleTicket(DomainError):
    pass


class NotAllowed(DomainError):
    pass
