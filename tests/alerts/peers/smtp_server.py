"""A real local SMTP server for the e-mail tests, run as its own process (aiosmtpd).

    python smtp_server.py --maildir DIR

Listens on a free loopback port, prints `PORT <n>`, and stores every message it
accepts in a Maildir that the tests read.
"""

from __future__ import annotations

import argparse
import signal
import socket
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--maildir", required=True)
    args = ap.parse_args()
    for _ in range(20):
        port = free_port()
        ctl = Controller(Mailbox(args.maildir), hostname="127.0.0.1", port=port)
        try:
            ctl.start()
            break
        except (OSError, RuntimeError):
            continue
    else:
        raise SystemExit("no free port")
    print(f"PORT {port}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    ctl.stop()


if __name__ == "__main__":
    main()
