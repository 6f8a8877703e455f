"""The read benchmark's HTTP client (`bench.reads.client`): what it times must be real answers."""

import socket

import pytest

from bench.reads.client import Client

pytestmark = pytest.mark.django_db(transaction=True)


def test_client_reads_answers_one_after_another(live_server):
    """Each GET gets its own complete answer, also after the server closed the connection (as
    gunicorn's sync workers do after every answer), and sends the session's cookie."""
    client = Client(live_server.url, {"sessionid": "not-a-session"})
    closing = client.get(f"{live_server.url}/health/live", {"Connection": "close"})
    assert closing.status == 200 and closing.body
    assert client.get("/health/live").body == closing.body
    client.connection.sock.shutdown(socket.SHUT_RDWR)  # the connection is lost between two requests
    assert client.get("/health/live").body == closing.body
    api = client.get("/api/v1/coverage-criteria/")
    assert api.status in (401, 403)  # a cookie that is no session is nobody
    assert b'"code"' in api.body
    client.close()
