import pytest

from helpdesk.auth.models import Role
from tests.factories import make_ticket

STAFF_PAGES = ["/agent", "/agent/tickets/HD-1001"]
ADMIN_PAGES = ["/admin", "/admin/audit"]
CUSTOMER_PAGES = ["/portal/cases", "/portal/cases/new"]


@pytest.fixture
def ticket(app):
    return make_ticket()


@pytest.mark.parametrize("path", STAFF_PAGES + ADMIN_PAGES)
def test_anonymous_users_are_sent_to_staff_login(client, ticket, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/login?next=")


@pytest.mark.parametrize("path", CUSTOMER_PAGES)
def test_anonymous_users_are_sent_to_customer_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("path", STAFF_PAGES + ADMIN_PAGES)
def test_customers_never_reach_staff_pages(client, login_as, ticket, path):
    login_as("customer")
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("role", ["agent", "supervisor"])
@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_agents_and_supervisors_never_reach_admin(client, login_as, role, path):
    login_as(role)
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_agents_reach_the_workspace(client, login_as, ticket, path):
    login_as("agent")
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_admins_reach_admin(client, login_as, path):
    login_as("admin")
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("path", CUSTOMER_PAGES)
def test_staff_are_not_customers(client, login_as, path):
    login_as("admin")
    assert client.get(path).status_code == 403


def test_role_ranks():
    assert Role.ADMIN.rank > Role.SUPERVISOR.rank > Role.AGENT.rank
