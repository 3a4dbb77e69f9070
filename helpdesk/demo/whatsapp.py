"""The demo's WhatsApp channel: the orders queue connected to a demo business number (its secrets
are environment variable names nobody has set, so nothing is sent or accepted), and a few WhatsApp
conversations in it: one still inside the 24-hour window, one past it (the template is offered),
and answered ones, with the delivery statuses Meta would have reported on the agents' replies."""

from __future__ import annotations

from datetime import datetime, timedelta

from helpdesk.auth.models import StaffUser
from helpdesk.customers.models import Customer
from helpdesk.extensions import db
from helpdesk.tickets import service
from helpdesk.tickets.models import Channel, Queue, Status
from helpdesk.whatsapp.accounts import Settings, connect
from helpdesk.whatsapp.models import OutboxStatus, WhatsAppOutbound

NUMBER = Settings(
    phone_number_id="115566778899001",
    token_env="WHATSAPP_TOKEN",
    app_secret_env="WHATSAPP_APP_SECRET",
    verify_token_env="WHATSAPP_VERIFY_TOKEN",
    display_number="+966 9200 12345",
    template_name="case_update",
)

# Each: language, hours since the first message, the customer's messages (minutes after the first),
# the agent's reply (minutes after the first) with what Meta reported, the final status.
CONVERSATIONS = [
    {
        "language": "ar",
        "hours_ago": 3,
        "customer": [
            (0, "السلام عليكم، طلبي ما وصل للحين وصار له أسبوع"),
            (2, "الموقع\nحي النرجس، الرياض\nhttps://maps.google.com/?q=24.8353,46.6511"),
            (150, "تمام، شكرًا لكم"),
        ],
        "reply": (40, "وعليكم السلام، نعتذر عن التأخير. شحنتك عند شركة الشحن وتصلك غدًا بإذن الله.", "read"),
        "status": Status.OPEN,
    },
    {
        "language": "ar",
        "hours_ago": 30,
        "customer": [(0, "أبغى أرجع الفستان، المقاس ما ضبط"), (1, "رسالة صوتية")],
        "reply": (25, "أكيد! أرسل لنا صورة الفاتورة ونرتب لك الاستلام من بيتك.", "delivered"),
        "status": Status.PENDING,
    },
    {
        "language": "en",
        "hours_ago": 5 * 24,
        "customer": [(0, "Hi, can I still change the delivery address of my order?")],
        "reply": (15, "Yes: we have updated the address, and the courier has the new one.", "read"),
        "status": Status.SOLVED,
    },
    {
        "language": "ar",
        "hours_ago": 10 * 24,
        "customer": [(0, "وش طرق الدفع المتاحة عندكم؟ فيه تقسيط؟")],
        "reply": (60, "متاح الدفع بمدى وأبل باي والبطاقات، والتقسيط عبر تابي وتمارا.", "read"),
        "status": Status.CLOSED,
    },
]


def create_whatsapp_demo(
    queue: Queue, customers: list[Customer], agents: list[StaffUser], now: datetime
) -> int:
    """Connect ``queue`` to the demo number and add its conversations (flushes); returns how many."""
    account = connect(queue, NUMBER)
    agent = next((a for a in agents if a in queue.members), agents[0])
    for index, conversation in enumerate(CONVERSATIONS):
        customer = [c for c in customers if c.language == conversation["language"] and c.phone][index * 7]
        start = now - timedelta(hours=conversation["hours_ago"])
        messages = [(start + timedelta(minutes=m), text) for m, text in conversation["customer"]]
        when, first = messages[0]
        ticket = service.open_ticket(
            customer=customer,
            subject=first.splitlines()[0][:80],
            body=first,
            channel=Channel.WHATSAPP,
            queue=queue,
            created_at=when,
        )
        ticket.assignee = agent
        minutes, reply, delivery = conversation["reply"]
        replied_at = start + timedelta(minutes=minutes)
        for at, text in messages[1:]:
            if at <= replied_at:
                _customer_writes(ticket, customer, text, at)
        message = service.add_message(ticket, author=agent, body=reply, created_at=replied_at, notify=False)
        db.session.flush()
        db.session.add(
            WhatsAppOutbound(
                account_id=account.id,
                ticket_id=ticket.id,
                ticket_message_id=message.id,
                to=customer.phone.lstrip("+"),
                kind="text",
                payload={"type": "text", "text": {"body": reply}},
                status=OutboxStatus.SENT,
                attempts=1,
                next_attempt_at=replied_at,
                wamid=f"wamid.demo-{index + 1}",
                delivery=delivery,
                created_at=replied_at,
                sent_at=replied_at,
            )
        )
        for at, text in messages[1:]:
            if at > replied_at:
                _customer_writes(ticket, customer, text, at)
        if conversation["status"] != Status.OPEN:
            done_at = max(at for at, _text in messages) + timedelta(minutes=30)
            service.change_status(ticket, conversation["status"], actor=agent, at=max(done_at, replied_at))
    db.session.flush()
    return len(CONVERSATIONS)


def _customer_writes(ticket, customer: Customer, text: str, at: datetime) -> None:
    service.add_message(ticket, author=customer, body=text, channel=Channel.WHATSAPP, created_at=at)
