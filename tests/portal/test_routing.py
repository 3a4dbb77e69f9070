"""A portal case lands in a queue and is linked to the customer's own order when it names one."""

from decimal import Decimal

from helpdesk.customers.models import Order
from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket
from tests.factories import make_customer, make_queue


def make_order(customer, number: str) -> Order:
    order = Order(customer=customer, external_id=number, number=number, status="shipped", total=Decimal("10"))
    db.session.add(order)
    db.session.commit()
    return order


def open_case(client, **fields):
    data = {"subject": "Question", "body": "Please help", **fields}
    response = client.submit("/portal/cases/new", data)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return Ticket.query.order_by(Ticket.id.desc()).first()


def test_case_naming_own_order_in_subject_is_linked_and_goes_to_the_order_queue(client, login, app):
    make_queue("general")
    orders_queue = make_queue("orders")
    app.config["ORDER_QUEUE"] = "orders"
    customer = make_customer()
    order = make_order(customer, "SO-100138")
    login(customer)
    ticket = open_case(client, subject="وين طلبي SO-100138؟")
    assert ticket.order_id == order.id
    assert ticket.queue_id == orders_queue.id


def test_order_number_in_the_description_with_arabic_digits_and_without_prefix(client, login):
    make_queue("general")
    customer = make_customer()
    first, second = make_order(customer, "SO-100138"), make_order(customer, "SO-100139")
    login(customer)
    assert open_case(client, body="رقم الطلب ١٠٠١٣٩ ولم يصل").order_id == second.id
    assert open_case(client, body="my order so100138 is late").order_id == first.id


def test_another_customers_order_number_links_nothing(client, login):
    general = make_queue("general")
    make_order(make_customer(), "SO-555555")
    customer = make_customer()
    login(customer)
    ticket = open_case(client, subject="Order SO-555555")
    assert ticket.order_id is None
    assert ticket.queue_id == general.id


def test_order_field_links_the_order_and_refuses_someone_elses(client, login):
    make_queue("general")
    customer = make_customer()
    order = make_order(customer, "SO-200001")
    make_order(make_customer(), "SO-200002")
    login(customer)
    assert open_case(client, order_number="so-200001").order_id == order.id
    refused = client.submit("/portal/cases/new", {"subject": "x", "body": "y", "order_number": "SO-200002"})
    assert refused.status_code == 400
    assert "لا يوجد بين طلباتك" in refused.get_data(as_text=True)
    assert Ticket.query.count() == 1


def test_chosen_topic_decides_the_queue(client, login, app):
    make_queue("general")
    billing = make_queue("billing", name_ar="المدفوعات")
    app.config["ORDER_QUEUE"] = "general"
    customer = make_customer()
    make_order(customer, "SO-300001")
    login(customer)
    form = client.get("/portal/cases/new").get_data(as_text=True)
    assert "المدفوعات" in form
    ticket = open_case(client, subject="SO-300001 charged twice", topic=str(billing.id))
    assert ticket.queue_id == billing.id


def test_case_without_topic_or_order_goes_to_the_configured_default_queue(client, login, app):
    make_queue("orders")
    general = make_queue("general")
    app.config["DEFAULT_QUEUE"] = "general"
    login(make_customer())
    assert open_case(client).queue_id == general.id


def test_without_configuration_the_first_active_queue_is_used(client, login):
    make_queue("old", is_active=False)
    first = make_queue("orders")
    make_queue("billing")
    login(make_customer())
    assert open_case(client).queue_id == first.id
