"""The fields API: definitions, a ticket's values read and changed, bad values refused (422)."""

from helpdesk.custom_fields.models import FieldType
from tests.api.api_helpers import ApiClient, api_token
from tests.custom_fields.helpers import REASONS, make_field
from tests.factories import make_customer, make_order, make_ticket


def _api(client, **kwargs) -> ApiClient:
    _staff, secret = api_token(**kwargs)
    api = ApiClient(client, secret)
    api.headers["Accept-Language"] = "en"
    return api


def test_fields_are_listed_with_their_options(client):
    make_field("reason", FieldType.DROPDOWN, options=REASONS)
    body = _api(client).get("/api/v1/fields").get_json()
    assert [f["key"] for f in body] == ["reason"]
    assert body[0]["type"] == "dropdown"
    assert [o["value"] for o in body[0]["options"]] == ["damaged", "wrong_size", "late"]


def test_a_ticket_fields_are_read_and_changed(client):
    make_field("reason", FieldType.DROPDOWN, options=REASONS)
    make_field("boxes", FieldType.NUMBER)
    make_field("order_ref", FieldType.ORDER)
    customer = make_customer()
    order = make_order(customer)
    ticket = make_ticket(customer=customer)
    api = _api(client)
    url = f"/api/v1/tickets/{ticket.number}/fields"
    assert api.get(url).get_json() == {
        "request_type": None,
        "values": {"reason": None, "boxes": None, "order_ref": None},
    }
    response = api.patch(url, json={"values": {"reason": "late", "boxes": 2, "order_ref": order.id}})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["values"] == {"reason": "late", "boxes": 2, "order_ref": order.id}


def test_a_wrong_value_is_422_and_changes_nothing(client):
    make_field("reason", FieldType.DROPDOWN, options=REASONS)
    make_field("boxes", FieldType.NUMBER)
    ticket = make_ticket()
    api = _api(client)
    url = f"/api/v1/tickets/{ticket.number}/fields"
    response = api.patch(url, json={"values": {"reason": "late", "boxes": "lots"}})
    assert response.status_code == 422
    assert response.get_json()["message"] == "Boxes: Give a number."
    assert api.get(url).get_json()["values"] == {"reason": None, "boxes": None}
    assert api.patch(url, json={"values": {"nope": 1}}).status_code == 422
    assert api.patch(url, json={"request_type": "nope"}).status_code == 422


def test_a_read_token_cannot_change_fields(client):
    from helpdesk.api.models import TokenScope

    make_field("boxes", FieldType.NUMBER)
    ticket = make_ticket()
    api = _api(client, scope=TokenScope.READ)
    assert (
        api.patch(f"/api/v1/tickets/{ticket.number}/fields", json={"values": {"boxes": 1}}).status_code == 403
    )


def test_the_openapi_document_has_the_fields_routes(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/fields" in spec["paths"]
    assert "patch" in spec["paths"]["/api/v1/tickets/{number}/fields"]
    assert "/api/v1/request-types" in spec["paths"]
