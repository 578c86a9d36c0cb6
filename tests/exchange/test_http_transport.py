"""The HTTP transports against a real socket whose peer dies mid-answer: every way a
peer can fail reaches the run as a TransportError, so the package stays pending and the
run goes on (it once ended the whole run with http.client.IncompleteRead)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from creditgov.exchange import transport
from creditgov.exchange.transport import HttpTransport, TransportError


def _serve_once(sock: socket.socket, answer: bytes) -> None:
    conn, _ = sock.accept()
    with conn:
        conn.settimeout(5)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                return
            body += chunk
        conn.sendall(answer)


@pytest.fixture()
def half_answer() -> Iterator[str]:
    """A peer that reads the request, promises 262 bytes and closes after none."""
    sock = socket.create_server(("127.0.0.1", 0))
    answer = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 262\r\n\r\n"
    t = threading.Thread(target=_serve_once, args=(sock, answer), daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()
        t.join(timeout=5)


def test_a_peer_that_dies_mid_answer_is_a_transport_error(half_answer: str) -> None:
    with pytest.raises(TransportError, match="IncompleteRead"):
        HttpTransport(half_answer).send({"package_id": "p1", "payload": "<b>'\"</b>"})


def test_a_feed_cut_short_is_a_transport_error(half_answer: str) -> None:
    with pytest.raises(TransportError, match="IncompleteRead"):
        transport.fetch_feed(half_answer, {}, after=0)


def test_an_acknowledgement_cut_short_is_a_transport_error(half_answer: str) -> None:
    with pytest.raises(TransportError, match="not delivered"):
        transport.post_ack(half_answer, {"package_id": "p1"})
