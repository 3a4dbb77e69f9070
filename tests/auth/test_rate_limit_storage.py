"""With HELPDESK_RATELIMIT_STORAGE_URI on a real Redis, two web processes share one sign-in budget;
with the default memory storage each process counts on its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.factories import REDIS_URL

# One web process: failed sign-ins from the same address, printing the status codes it got.
SIGN_IN_ATTEMPTS = """
import json, re, sys
from helpdesk import create_app
app = create_app()
client = app.test_client()
codes = []
for n in range(int(sys.argv[1])):
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/").get_data(as_text=True))[1]
    data = {"email": f"x{n}@example.test", "password": "wrong", "csrf_token": token}
    codes.append(client.post("/login", data=data).status_code)
print(json.dumps(codes))
"""


def _attempts(app_config: dict, count: int, storage: str, prefix: str) -> list[int]:
    env = {
        **os.environ,
        "HELPDESK_INSTANCE_PATH": app_config["INSTANCE_PATH"],
        "HELPDESK_DATABASE_URL": app_config["SQLALCHEMY_DATABASE_URI"],
        "HELPDESK_SECRET_KEY": "test-secret-key",
        "HELPDESK_RATELIMIT_STORAGE_URI": storage,
        "HELPDESK_RATELIMIT_KEY_PREFIX": prefix,
        "HELPDESK_SIGN_IN_RATE_LIMIT": "3 per minute",
    }
    done = subprocess.run(
        [sys.executable, "-c", SIGN_IN_ATTEMPTS, str(count)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_two_processes_share_one_sign_in_budget_in_redis(app_config, redis_prefix):
    assert _attempts(app_config, 2, REDIS_URL, redis_prefix) == [401, 401]
    # A second web process: the budget of 3 is already two-thirds spent by the first.
    assert _attempts(app_config, 2, REDIS_URL, redis_prefix) == [401, 429]


def test_with_memory_storage_each_process_counts_alone(app_config):
    assert _attempts(app_config, 2, "memory://", "memory") == [401, 401]
    assert _attempts(app_config, 2, "memory://", "memory") == [401, 401]
