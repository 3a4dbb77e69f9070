"""Marshmallow schemas of the API: they validate requests and document the OpenAPI 3 spec.

Every string that reaches the database goes through ``Text``, which refuses NUL characters and
invalid Unicode (PostgreSQL cannot store either), with the column's maximum length.
"""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from helpdesk.customers.models import Tier
from helpdesk.tickets.models import Channel, MessageKind, Priority, Status
from helpdesk.tickets.queries import QUEUE_VIEWS

MAX_ID = 2**31 - 1  # ids are 32-bit integers in PostgreSQL


class Text(fields.String):
    """A string the database can store: no NUL character, valid Unicode."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ValidationError("Must not contain NUL characters.")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValidationError("Must be valid Unicode text.") from exc
        return text


def Id(**kwargs) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class StrictSchema(Schema):
    class Meta:
        ordered = True


# --- output -----------------------------------------------------------------------------------


class StaffRefSchema(StrictSchema):
    id = fields.Integer()
    name = fields.String()
    email = fields.String()


class QueueRefSchema(StrictSchema):
    id = fields.Integer()
    slug = fields.String()
    name_en = fields.String()
    name_ar = fields.String()


class CustomerRefSchema(StrictSchema):
    id = fields.Integer()
    name = fields.String()
    email = fields.String(allow_none=True)


class _TagSchema(Schema):
    name = fields.String()


class TicketSchema(StrictSchema):
    number = fields.String(metadata={"example": "HD-1001"})
    subject = fields.String()
    status = fields.Enum(Status, by_value=True)
    priority = fields.Enum(Priority, by_value=True)
    channel = fields.Enum(Channel, by_value=True)
    queue = fields.Nested(QueueRefSchema, allow_none=True)
    assignee = fields.Nested(StaffRefSchema, allow_none=True)
    customer = fields.Nested(CustomerRefSchema)
    tags = fields.Pluck(_TagSchema, "name", many=True)
    version = fields.Integer(metadata={"description": "Send it back with an update; a stale one gets 409."})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    first_response_at = fields.DateTime(allow_none=True)
    first_response_due_at = fields.DateTime(allow_none=True)
    next_response_due_at = fields.DateTime(allow_none=True)
    resolution_due_at = fields.DateTime(allow_none=True)
    solved_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)


class TicketPageSchema(StrictSchema):
    items = fields.List(fields.Nested(TicketSchema))
    next_cursor = fields.String(
        allow_none=True, metadata={"description": "Pass as `cursor` for the next page; null on the last."}
    )


class MessageSchema(StrictSchema):
    id = fields.Integer()
    kind = fields.Enum(MessageKind, by_value=True)
    channel = fields.Enum(Channel, by_value=True)
    event = fields.String(allow_none=True)
    author_staff_id = fields.Integer(allow_none=True)
    author_customer_id = fields.Integer(allow_none=True)
    author_name = fields.String(allow_none=True)
    author_email = fields.String(allow_none=True)
    body_text = fields.String()
    created_at = fields.DateTime()


class _EmailSchema(Schema):
    email = fields.String()


class CustomerSchema(StrictSchema):
    id = fields.Integer()
    name = fields.String()
    email = fields.String(allow_none=True, metadata={"description": "The primary address."})
    emails = fields.Pluck(_EmailSchema, "email", many=True)
    phone = fields.String(allow_none=True)
    language = fields.String(allow_none=True)
    tier = fields.Enum(Tier, by_value=True)
    notes = fields.String(allow_none=True)
    created_at = fields.DateTime()


class CustomerPageSchema(StrictSchema):
    items = fields.List(fields.Nested(CustomerSchema))
    next_cursor = fields.String(allow_none=True)


class OrderSchema(StrictSchema):
    id = fields.Integer()
    number = fields.String()
    source = fields.String()
    external_id = fields.String()
    status = fields.String()
    total = fields.Decimal(as_string=True, metadata={"type": "string", "example": "149.00"})
    currency = fields.String()
    items = fields.List(fields.Dict())
    carrier = fields.String(allow_none=True)
    tracking_number = fields.String(allow_none=True)
    ordered_at = fields.DateTime()


class OrderPageSchema(StrictSchema):
    items = fields.List(fields.Nested(OrderSchema))
    next_cursor = fields.String(allow_none=True)


# --- input ------------------------------------------------------------------------------------


class PageArgsSchema(StrictSchema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))
    cursor = Text(
        validate=validate.Length(max=100), metadata={"description": "`next_cursor` of the previous page."}
    )


class TicketListArgsSchema(PageArgsSchema):
    view = fields.String(
        load_default="open",
        validate=validate.OneOf(QUEUE_VIEWS),
        metadata={"description": "The agent queue views; `mine` means assigned to the token's user."},
    )
    queue = Text(validate=validate.Length(min=1, max=60), metadata={"description": "A queue slug."})
    status = fields.Enum(Status, by_value=True)
    priority = fields.Enum(Priority, by_value=True)
    channel = fields.Enum(
        Channel, by_value=True, metadata={"description": "Where the ticket came in (e.g. `whatsapp`)."}
    )
    assignee_id = Id()
    customer_id = Id()


Tags = fields.List(Text(validate=validate.Length(min=1, max=60)), validate=validate.Length(max=20))


class TicketCreateSchema(StrictSchema):
    customer_id = Id(required=True)
    subject = Text(required=True, validate=validate.Length(min=1, max=255))
    body = Text(
        required=True,
        validate=validate.Length(min=1, max=100_000),
        metadata={"description": "The customer's first message."},
    )
    priority = fields.Enum(Priority, by_value=True, load_default=Priority.NORMAL)
    queue = Text(validate=validate.Length(min=1, max=60), metadata={"description": "A queue slug."})
    assignee_id = Id()
    tags = Tags


class TicketUpdateSchema(StrictSchema):
    version = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "The `version` you read; if the ticket changed since, 409."},
    )
    status = fields.Enum(Status, by_value=True)
    priority = fields.Enum(Priority, by_value=True)
    assignee_id = fields.Integer(
        strict=True,
        allow_none=True,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "A staff id, or null to unassign."},
    )
    tags = Tags

    @validates_schema
    def something_to_change(self, data, **kwargs):
        if not set(data) - {"version"}:
            raise ValidationError("Give at least one of status, priority, assignee_id, tags.")


class MessageCreateSchema(StrictSchema):
    body = Text(required=True, validate=validate.Length(min=1, max=100_000))
    version = fields.Integer(
        strict=True,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "Optional: refuse (409) if the ticket changed since you read this version."},
    )


class CustomerListArgsSchema(PageArgsSchema):
    q = Text(validate=validate.Length(min=1, max=100), metadata={"description": "Part of a name or email."})


class CustomerCreateSchema(StrictSchema):
    name = Text(required=True, validate=validate.Length(min=1, max=200))
    email = Text(
        required=True, validate=[validate.Email(), validate.Length(max=254)], metadata={"format": "email"}
    )
    phone = Text(allow_none=True, validate=validate.Length(max=40))
    language = fields.String(allow_none=True, validate=validate.OneOf(["ar", "en"]))
    tier = fields.Enum(Tier, by_value=True, load_default=Tier.STANDARD)
    notes = Text(allow_none=True, validate=validate.Length(max=20_000))


class CustomerUpdateSchema(StrictSchema):
    name = Text(validate=validate.Length(min=1, max=200))
    email = Text(
        validate=[validate.Email(), validate.Length(max=254)],
        metadata={"format": "email", "description": "New primary address."},
    )
    phone = Text(allow_none=True, validate=validate.Length(max=40))
    language = fields.String(allow_none=True, validate=validate.OneOf(["ar", "en"]))
    tier = fields.Enum(Tier, by_value=True)
    notes = Text(allow_none=True, validate=validate.Length(max=20_000))

    @validates_schema
    def something_to_change(self, data, **kwargs):
        if not data:
            raise ValidationError("Give at least one field to change.")


class ArticleSchema(StrictSchema):
    id = fields.Integer()
    slug = fields.String()
    locale = fields.String()
    title = fields.String()
    body_md = fields.String(metadata={"description": "The article in markdown."})
    status = fields.Function(lambda a: a.status.value)
    category = fields.Function(lambda a: a.category.slug if a.category else None, allow_none=True)
    tags = fields.List(fields.String())
    phrasings = fields.List(
        fields.String(), metadata={"description": "Other ways customers ask: questions search finds it by."}
    )
    translation_of = fields.Function(
        lambda a: a.translation_of.slug if a.translation_of else None, allow_none=True
    )
    view_count = fields.Integer()
    updated_at = fields.DateTime()


class ArticlePageSchema(StrictSchema):
    items = fields.List(fields.Nested(ArticleSchema))
    next_cursor = fields.String(allow_none=True)


class ArticleListArgsSchema(PageArgsSchema):
    locale = fields.String(validate=validate.OneOf(["ar", "en"]))
    status = fields.String(validate=validate.OneOf(["published", "draft"]))


class ArticleSearchArgsSchema(StrictSchema):
    q = Text(required=True, validate=validate.Length(min=1, max=500))
    locale = fields.String(validate=validate.OneOf(["ar", "en"]))
    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=50))


class ArticleHitSchema(StrictSchema):
    slug = fields.String()
    title = fields.String()
    locale = fields.String()
    score = fields.Float()
    snippet = fields.String(metadata={"description": "HTML with the matches in `<mark>`; sanitised."})


# --- custom fields and request types ------------------------------------------------------------


class FieldOptionSchema(StrictSchema):
    value = fields.String()
    label_ar = fields.String()
    label_en = fields.String()
    is_active = fields.Boolean(metadata={"description": "False: retired, kept on old tickets only."})


class CustomFieldSchema(StrictSchema):
    id = fields.Integer()
    key = fields.String()
    type = fields.String(
        metadata={
            "enum": [
                "text",
                "long_text",
                "number",
                "decimal",
                "date",
                "yes_no",
                "dropdown",
                "multi_select",
                "order",
            ]
        }
    )
    scope = fields.String(metadata={"enum": ["ticket", "customer"]})
    label_ar = fields.String()
    label_en = fields.String()
    help_ar = fields.String()
    help_en = fields.String()
    required_for_agents = fields.Boolean()
    required_for_customers = fields.Boolean()
    visible_to_customers = fields.Boolean()
    editable_by_customers = fields.Boolean()
    is_active = fields.Boolean()
    options = fields.List(fields.Nested(FieldOptionSchema))


class RequestTypeFieldSchema(StrictSchema):
    key = fields.String()
    is_required = fields.Boolean()
    shown_when_key = fields.String(allow_none=True)
    shown_when_value = fields.String(allow_none=True)


class RequestTypeSchema(StrictSchema):
    id = fields.Integer()
    key = fields.String()
    name_ar = fields.String()
    name_en = fields.String()
    is_active = fields.Boolean()
    fields = fields.List(fields.Nested(RequestTypeFieldSchema))


FIELD_VALUES_HELP = (
    "Values by field key: text as a string, number an integer, decimal a string or number, date "
    "`YYYY-MM-DD`, yes/no a boolean, dropdown an option value, multi-select a list of option values, "
    "order the id of one of the ticket's customer's orders; null (or []) clears a field."
)


class TicketFieldsSchema(StrictSchema):
    request_type = fields.String(allow_none=True, metadata={"description": "The request type's key."})
    values = fields.Dict(
        keys=fields.String(), values=fields.Raw(allow_none=True), metadata={"description": FIELD_VALUES_HELP}
    )


class TicketFieldsUpdateSchema(StrictSchema):
    request_type = Text(
        allow_none=True,
        validate=validate.Length(max=60),
        metadata={"description": "A request type's key, or null for none; leave out to keep it."},
    )
    values = fields.Dict(
        keys=Text(validate=validate.Length(max=60)),
        values=fields.Raw(allow_none=True),
        load_default=dict,
        metadata={"description": FIELD_VALUES_HELP + " Only the keys given change."},
    )
