"""The direction of dependencies, checked on the source: every import counts, including those inside
functions (a deferred import hides a cycle from Python, not from this test)."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

from helpdesk import events, wiring

PACKAGE = Path(__file__).resolve().parents[1] / "helpdesk"
FEATURES = {
    "admin",
    "agents",
    "api",
    "audit",
    "auth",
    "automations",
    "backup",
    "customers",
    "demo",
    "kb",
    "mail",
    "portal",
    "reports",
    "sla",
    "tickets",
}
CHANNELS = {"mail", "api", "portal", "agents", "admin", "reports", "automations"}


@cache
def imports() -> dict[str, set[str]]:
    """Module name → every helpdesk module it imports, anywhere in its body."""
    found: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
        found[module] = {n for n in names if n == "helpdesk" or n.startswith("helpdesk.")}
    return found


def package_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def violations(modules, forbidden) -> list[str]:
    return sorted(
        f"{module} imports {target}"
        for module in modules
        for target in imports()[module]
        if forbidden(module, target)
    )


def modules_of(*packages: str) -> list[str]:
    return [m for m in imports() if package_of(m) in packages]


def test_the_ticket_and_sla_core_imports_no_channel():
    """Mail, webhooks, the portal and the agent pages subscribe to the core's events instead."""
    found = violations(modules_of("tickets", "sla"), lambda _m, target: package_of(target) in CHANNELS)
    assert found == []


def test_only_the_cores_search_modules_import_the_search_package():
    """The index definition (``search_index``) and the query side (``search``) of tickets; never a
    service or a model. SLA has no index at all."""
    allowed = {"helpdesk.tickets.search_index", "helpdesk.tickets.search"}
    found = violations(
        modules_of("tickets", "sla"),
        lambda module, target: package_of(target) == "search" and module not in allowed,
    )
    assert found == []


def test_no_model_module_imports_the_search_package():
    models = [m for m in imports() if m.rsplit(".", 1)[-1] == "models" and package_of(m) != "search"]
    assert violations(models, lambda _m, target: package_of(target) == "search") == []


def test_the_generic_layers_import_no_feature():
    """Features register their indexes and jobs from ``helpdesk.wiring``; the registries don't look."""
    generic = [*modules_of("search", "worker"), "helpdesk.events", "helpdesk.transaction"]
    assert violations(generic, lambda _m, target: package_of(target) in FEATURES) == []


def test_escalation_emails_are_a_mail_subscriber_of_the_breach_events():
    assert "helpdesk.mail.subscribers" in {r.__module__ for _s, r in wiring.RECEIVERS}
    assert not any(package_of(t) == "mail" for t in imports()["helpdesk.sla.breaches"])


def test_no_view_module_imports_another_features_views():
    def is_view(module: str) -> bool:
        name = module.rsplit(".", 1)[-1]
        return name == "views" or name.endswith("_views")

    views = [m for m in imports() if is_view(m)]
    assert violations(views, lambda m, t: is_view(t) and package_of(t) != package_of(m)) == []


def test_every_domain_signal_has_its_receivers_connected_once(app):
    """The wiring list is applied at app creation; a second app does not connect anything twice."""
    from helpdesk import create_app

    create_app(app.config.copy())
    expected = {signal: 0 for signal in (*events.DOMAIN_SIGNALS, events.committing)}
    for signal, _receiver in wiring.RECEIVERS:
        expected[signal] += 1
    assert {signal: len(signal.receivers) for signal in expected} == expected
    # the reply email, the WhatsApp reply, the ticket index, the triggers
    assert expected[events.message_added] == 4
    assert expected[events.committing] == 3  # webhook deliveries, the live-update log, search documents


def test_each_signal_names_its_receivers_in_its_docstring():
    for signal, receiver in wiring.RECEIVERS:
        assert receiver.__name__ in (signal.__doc__ or ""), (signal.name, receiver.__name__)


# Who may end a transaction, and why. Everything else (every service) flushes and leaves the commit
# to its caller: a view, command or job, through ``unit_of_work()``.
TRANSACTION_OWNERS = {
    "helpdesk.transaction": "the unit of work itself",
    "helpdesk.refusals": "rolls back a refused page request",
    "helpdesk.api.blueprints": "rolls back a refused API request",
    "helpdesk.cli": "commands",
    "helpdesk.mail.commands": "commands",
    "helpdesk.blobs.commands.copy_command": "copies one file per transaction, so an interrupted copy resumes",
    "helpdesk.customers.webhook": "a signed machine endpoint (a view)",
    "helpdesk.mail.inbound": "the ingest job: raw bytes are committed before they are parsed",
    "helpdesk.mail.ledger": "the ingest job's raw-mail ledger",
    "helpdesk.mail.imap": "a mailbox poll commits what it fetched before deleting it on the server",
    "helpdesk.mail.listener": "the SMTP listener, an ingest entry point",
    "helpdesk.mail.outbox": "the sending job: one transaction per email",
    "helpdesk.api.webhooks": "the delivery job: one transaction per attempt",
    "helpdesk.worker.jobtable": "claims of the job tables (SKIP LOCKED, compare-and-set)",
    "helpdesk.worker.runner": "rolls back a failed job",
    "helpdesk.search.indexer": "the index writer job",
    "helpdesk.demo.loader": "the demo data command, in batches",
    "helpdesk.sla.service.recompute_all_open": "may touch every ticket: one transaction per batch",
    "helpdesk.api.automations.invalid_rule": "rolls back a refused API request",
    "helpdesk.api.custom_fields.invalid_value": "rolls back a refused API request (a wrong field value)",
    "helpdesk.automations.runs.run_automations": "the automations pass: one transaction per batch",
    "helpdesk.integrations.sync._keep_new_tokens": "a shop's refresh token is single-use: kept at once",
    "helpdesk.whatsapp.outbound.send_due": "the WhatsApp sending job: one transaction per send",
}


def _transaction_ends() -> set[str]:
    """``module.function`` of every ``session.commit()`` / ``session.rollback()`` (outermost function)."""
    found = set()
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        places = [(module, tree)]
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                places += [(f"{module}.{f.name}", f) for f in node.body if isinstance(f, ast.FunctionDef)]
            elif isinstance(node, ast.FunctionDef):
                places.append((f"{module}.{node.name}", node))
        for place, scope in places:
            nodes = ast.walk(scope) if scope is not tree else _outside_functions(tree)
            for node in nodes:
                call = node.func if isinstance(node, ast.Call) else None
                if (
                    isinstance(call, ast.Attribute)
                    and call.attr in ("commit", "rollback")
                    and ast.unparse(call.value).endswith("session")
                ):
                    found.add(place)
    return found


def _outside_functions(tree: ast.Module):
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef | ast.ClassDef):
            yield from ast.walk(node)


def test_services_never_end_a_transaction():
    def allowed(place: str) -> bool:
        module_name = place.rsplit(".", 1)[-1]
        return (
            any(place == owner or place.startswith(owner + ".") for owner in TRANSACTION_OWNERS)
            or module_name in ("views",)
            or module_name.endswith("_views")
            or ".views." in place
            or "_views." in place
        )

    ends = _transaction_ends()
    assert "helpdesk.transaction.unit_of_work" in ends  # the scan sees commits at all
    assert sorted(p for p in ends if not allowed(p)) == []


def test_automations_subscribe_to_the_core_and_reach_it_only_through_its_services():
    """Triggers are receivers in the wiring list; rules change tickets through ``tickets.service``
    (and its assignment, macros modules), never by importing a channel's pages."""
    assert {r.__module__ for _s, r in wiring.RECEIVERS} >= {"helpdesk.automations.triggers"}
    pages = {"portal", "agents", "admin", "reports"}
    assert violations(modules_of("automations"), lambda _m, target: package_of(target) in pages) == []
