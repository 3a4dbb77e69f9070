import subprocess
import sys

import pytest
from werkzeug.security import generate_password_hash

from helpdesk.auth.passwords import METHOD, hash_password, needs_rehash, verify_password
from helpdesk.config import load_config
from helpdesk.extensions import db
from tests.factories import PASSWORD, make_customer, make_staff


@pytest.fixture(autouse=True)
def deployed_parameters(app):
    """The rest of the suite hashes with a cheaper scrypt; here the parameters are a deployment's."""
    app.config.pop("PASSWORD_HASH_METHOD")


def test_a_deployment_cannot_lower_the_parameters_from_its_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("HELPDESK_PASSWORD_HASH_METHOD", "scrypt:16:1:1")
    monkeypatch.setenv("PASSWORD_HASH_METHOD", "scrypt:16:1:1")
    assert "PASSWORD_HASH_METHOD" not in load_config({"INSTANCE_PATH": str(tmp_path)})


def test_new_hashes_use_todays_parameters_and_verify():
    stored = hash_password("s3cret")
    assert stored.startswith("scrypt:8192:8:10$")
    assert verify_password(stored, "s3cret")
    assert not verify_password(stored, "S3cret")
    assert not needs_rehash(stored)


def test_an_older_hash_still_signs_in_and_is_upgraded(client):
    old = generate_password_hash(PASSWORD, method="scrypt:32768:8:1")
    agent = make_staff()
    agent.password_hash = old
    db.session.commit()
    assert client.submit("/staff/login", {"email": agent.email, "password": PASSWORD}).status_code == 302
    db.session.refresh(agent)
    assert agent.password_hash.startswith(f"{METHOD}$")
    assert agent.check_password(PASSWORD)


def test_a_failed_sign_in_leaves_an_older_hash_alone(client):
    old = generate_password_hash(PASSWORD, method="pbkdf2:sha256:600000")
    customer = make_customer(password_hash=old)
    email = customer.emails[0].email
    assert client.submit("/login", {"email": email, "password": "wrong"}).status_code == 401
    db.session.refresh(customer)
    assert customer.password_hash == old
    assert client.submit("/login", {"email": email, "password": PASSWORD}).status_code == 302
    db.session.refresh(customer)
    assert not needs_rehash(customer.password_hash)


def _peak_kib_of_hashing(method: str) -> int:
    """How much a process's peak resident memory grows while hashing one password. (VmHWM, not
    ru_maxrss: Linux carries the parent's peak into ru_maxrss across exec.)"""
    probe = (
        "from pathlib import Path\n"
        "from werkzeug.security import generate_password_hash\n"
        "def peak():\n"
        "    lines = Path('/proc/self/status').read_text().splitlines()\n"
        "    return int(next(x for x in lines if x.startswith('VmHWM')).split()[1])\n"
        "before = peak()\n"
        f"generate_password_hash('x', method={method!r})\n"
        "print(peak() - before)\n"
    )
    answer = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return int(answer.stdout)


def test_a_sign_in_takes_an_eighth_of_the_memory_of_werkzeugs_default():
    ours, default = _peak_kib_of_hashing(METHOD), _peak_kib_of_hashing("scrypt:32768:8:1")
    assert ours < 10 * 1024 < 30 * 1024 < default
