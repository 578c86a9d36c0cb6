"""Start and stop the peer processes; read what they received."""

from __future__ import annotations

import email
import email.policy
import json
import mailbox
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

HERE = Path(__file__).parent


def _start(args: list[str]) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("PORT "):
        proc.kill()
        raise RuntimeError(f"peer did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}")
    return proc, int(line.split()[1])


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    for f in (proc.stdout, proc.stderr):
        if f:
            f.close()


@dataclass
class SmtpPeer:
    maildir: Path
    proc: subprocess.Popen[str] | None = None
    port: int = 0

    def start(self) -> SmtpPeer:
        self.proc, self.port = _start([str(HERE / "smtp_server.py"), "--maildir", str(self.maildir)])
        return self

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None

    def messages(self) -> list[Message]:
        if not (self.maildir / "new").exists():
            return []
        box = mailbox.Maildir(str(self.maildir), create=False,
                              factory=lambda f: email.message_from_binary_file(f, policy=email.policy.default))
        return sorted((box[k] for k in box.keys()), key=lambda m: str(m["Date"]) + str(m["Message-ID"]))


@dataclass
class HttpPeer:
    state: Path
    options: list[str] = field(default_factory=list)
    proc: subprocess.Popen[str] | None = None
    port: int = 0

    def start(self) -> HttpPeer:
        self.proc, self.port = _start([str(HERE / "gateway.py"), "--state", str(self.state), *self.options])
        return self

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def received(self) -> dict:
        """Over HTTP while running; from the state file once stopped."""
        if self.proc is not None and self.proc.poll() is None:
            with urllib.request.urlopen(self.url + "/received", timeout=5) as r:  # noqa: S310 - loopback
                return json.loads(r.read())
        return json.loads(self.state.read_text(encoding="utf-8"))

    def messages(self, kind: str | None = None) -> list[dict]:
        return [m for m in self.received()["messages"] if kind is None or m["kind"] == kind]


def wait_for(predicate, timeout: float = 15.0, interval: float = 0.05) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
