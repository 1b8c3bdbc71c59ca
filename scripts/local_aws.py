"""Runs the local AWS (moto behind scripts/localaws) on a free loopback port.

Usage: local_aws.py PARENT_PID

Prints "PORT <n>" once the server accepts requests, then serves until the
process PARENT_PID exits (or until it is told to stop), so that a test run
that dies never leaves a server behind. With LOCAL_AWS_OP_LOG set to a file
path, appends one JSON line per AWS request to it (see localaws/oplog.py).
"""

import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from localaws.gateway import serve  # noqa: E402


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers signals: check its state too.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return True


def spawn():
    """Starts the local AWS for the calling process, in a process of its own;
    returns (the process, its URL)."""
    import subprocess
    proc = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), str(os.getpid())],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    line = proc.stdout.readline()
    if not line.startswith("PORT "):
        sys.exit(f"the local AWS did not start: {line!r}")
    return proc, f"http://127.0.0.1:{line.split()[1]}"


def main() -> None:
    parent = int(sys.argv[1])
    server = serve(os.environ.get("LOCAL_AWS_OP_LOG") or None)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    print(f"PORT {server.server_address[1]}", flush=True)

    stop = False

    def request_stop(*_):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    while not stop and alive(parent):
        time.sleep(0.3)
    server.shutdown()


if __name__ == "__main__":
    sys.exit(main())
