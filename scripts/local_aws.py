"""Runs moto's server on a free loopback port as the local AWS.

Usage: local_aws.py PARENT_PID

Prints "PORT <n>" once the server accepts requests, then serves until the
process PARENT_PID exits (or until it is told to stop), so that a test run
that dies never leaves a server behind.
"""

import os
import signal
import sys
import time

from moto.server import ThreadedMotoServer


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


def main() -> None:
    parent = int(sys.argv[1])
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    print(f"PORT {port}", flush=True)

    stop = False

    def request_stop(*_):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    while not stop and alive(parent):
        time.sleep(0.3)
    server.stop()


if __name__ == "__main__":
    sys.exit(main())
