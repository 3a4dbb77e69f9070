"""Custom fields and request types: the shop's own vocabulary (order number, courier, reason for return)."""
