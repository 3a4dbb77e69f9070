import json
from decimal import Decimal

from sqlalchemy import func, select

from helpdesk.customers.models import Customer, Order
from helpdesk.customers.orders import import_csv
from helpdesk.extensions import db
from tests.factories import make_customer

HEADER = (
    "source,external_id,number,customer_email,customer_name,status,total,currency,ordered_at,"
    "carrier,tracking_number,items\n"
)
ITEMS = json.dumps([{"sku": "K1", "name": "Kettle", "quantity": 2, "price": 75.25}]).replace('"', '""')


def row(external_id="1001", email="omar@shop.test", total="150.50", **over):
    values = {
        "source": "salla",
        "external_id": external_id,
        "number": f"SO-{external_id}",
        "customer_email": email,
        "customer_name": "Omar",
        "status": "shipped",
        "total": total,
        "currency": "sar",
        "ordered_at": "2026-10-01T10:00:00+03:00",
        "carrier": "SMSA",
        "tracking_number": "TRK1",
        "items": f'"{ITEMS}"',
    }
    values.update(over)
    return ",".join(values.values()) + "\n"


def write(tmp_path, text: str):
    path = tmp_path / "orders.csv"
    path.write_text(text, encoding="utf-8")
    return path


def orders() -> int:
    return db.session.scalar(select(func.count(Order.id)))


def test_import_creates_then_updates_by_source_and_external_id(app, tmp_path):
    existing = make_customer(email="omar@shop.test")
    result = import_csv(HEADER + row() + row("1002", email="new@shop.test"))
    assert (result.created, result.updated, result.errors) == (2, 0, [])
    order = db.session.scalar(select(Order).where(Order.external_id == "1001"))
    assert order.customer_id == existing.id and order.total == Decimal("150.50") and order.currency == "SAR"
    assert order.items[0]["name"] == "Kettle" and order.ordered_at.hour == 7
    assert db.session.scalar(select(Customer).where(Customer.name == "Omar", Customer.id != existing.id))
    result = import_csv(HEADER + row(status="delivered"))
    assert (result.created, result.updated) == (0, 1)
    db.session.expire_all()
    assert db.session.scalar(select(Order.status).where(Order.external_id == "1001")) == "delivered"
    assert orders() == 2


def test_bad_rows_are_reported_with_line_numbers_and_nothing_is_imported(app):
    text = (
        HEADER
        + row()
        + row("2", total="abc")
        + row("3", email="nobody")
        + row("1001")
        + row("4", items='"[1"')
    )
    result = import_csv(text)
    assert [line for line, _ in result.errors] == [3, 4, 5, 6]
    messages = dict(result.errors)
    assert "total" in messages[3] and "email" in messages[4]
    assert "line 2" in messages[5] and "items" in messages[6]
    assert orders() == 0


def test_missing_and_unknown_columns_are_refused(app):
    result = import_csv("number,colour\nSO-1,red\n")
    assert result.errors[0][0] == 1
    assert "external_id" in result.errors[0][1] and "colour" in result.errors[0][1]


def test_dry_run_writes_nothing(app):
    result = import_csv(HEADER + row() + row("2"), dry_run=True)
    assert result.created == 2 and result.ok
    assert orders() == 0
    assert db.session.scalar(select(func.count(Customer.id))) == 0


def test_cli_import_dry_run_and_errors(app, tmp_path):
    runner = app.test_cli_runner()
    good = write(tmp_path, HEADER + row() + row("2"))
    result = runner.invoke(args=["orders", "import", str(good), "--dry-run"])
    assert result.exit_code == 0 and "Would import: 2 new, 0 updated." in result.output
    assert orders() == 0
    result = runner.invoke(args=["orders", "import", str(good)])
    assert result.exit_code == 0 and "Imported: 2 new, 0 updated." in result.output
    assert orders() == 2
    bad = write(tmp_path, HEADER + row("9") + row("10", total="-5"))
    result = runner.invoke(args=["orders", "import", str(bad)])
    assert result.exit_code != 0
    assert "orders.csv:3: total is not a number" in result.output
    assert "nothing was imported" in result.output and "Traceback" not in result.output
    assert orders() == 2


def test_cli_refuses_a_file_that_is_not_utf8(app, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_bytes(HEADER.encode() + "x,\xff\xfe,".encode("latin-1") + b"\xff\n")
    result = app.test_cli_runner().invoke(args=["orders", "import", str(path)])
    assert result.exit_code != 0 and "not UTF-8" in result.output
