"""What the case form keeps in the customer's session while the knowledge base tries to answer first.

Shared by the KB pages (which record them), the portal (which opens the case) and the sign-in link
pages (which restore a guest's draft); kept here so that no blueprint imports another's views.
"""

VIEWED_KEY = "kb_viewed_from_case_form"  # article ids opened from the case form, until a case is sent
DRAFT_KEY = "case_draft"  # what the customer typed, so "I still need help" brings it back
