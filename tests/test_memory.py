import subprocess
import sys

PROBE = """
import threading
from pathlib import Path

def rss_mb():
    lines = Path('/proc/self/status').read_text().splitlines()
    return int(next(x for x in lines if x.startswith('VmRSS')).split()[1]) / 1024

{setup}
before = rss_mb()
done, measured = threading.Barrier(5), threading.Event()

def request_thread():  # a server thread that outlives its requests, as waitress's do
    for _ in range(3):
        buffer = bytearray(8 * 2**20)  # an 8 MiB transient: a password hash, a large upload
        del buffer
    done.wait()
    measured.wait()

threads = [threading.Thread(target=request_thread) for _ in range(4)]
for thread in threads:
    thread.start()
done.wait()
print(round(rss_mb() - before))
measured.set()
"""


def _retained_mb(setup: str) -> int:
    answer = subprocess.run(
        [sys.executable, "-c", PROBE.format(setup=setup)], capture_output=True, text=True, check=True
    )
    return int(answer.stdout)


def test_large_transient_buffers_go_back_to_the_system_in_every_thread(tmp_path):
    plain = _retained_mb("")
    with_app = _retained_mb(
        f"from helpdesk import create_app\ncreate_app({{'INSTANCE_PATH': {str(tmp_path)!r}}})"
    )
    assert plain >= 16  # glibc's default keeps them in per-thread arenas …
    assert with_app <= 2  # … the app's process keeps none of them
