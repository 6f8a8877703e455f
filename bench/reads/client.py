"""The benchmark's HTTP client: the standard library's, on one connection, with the session's cookies.

It replaces `requests` for every timed request. `requests` spends about a millisecond of its own on
each one (building the request, merging cookies, reading the answer through urllib3): /health/live
took 2.5 ms through it and 1.6 ms through this client. That is the same for every row, so it
flattered every "vs floor" ratio and made a 304 (3 ms) look slower beside a full page than the
server makes it. Logging in and following cursors still use `requests`: they are not timed.
"""

import http.client
from dataclasses import dataclass
from email.message import Message
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Message
    body: bytes


class Client:
    """GETs to one server as the logged-in bench user; the connection is kept while the server
    keeps it (the threaded workers keep it alive a few seconds; sync workers close it after every
    answer) and opened again otherwise."""

    def __init__(self, base: str, cookies: dict[str, str], timeout: float = 600):
        parts = urlsplit(base)
        self.base = base
        self.host, self.port = parts.hostname, parts.port
        self.cookies = dict(cookies)
        self.cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
        self.timeout = timeout
        self.connection: http.client.HTTPConnection | None = None

    def get(self, url: str, headers: dict[str, str] | None = None) -> Answer:
        path = url.removeprefix(self.base)
        sent = {"Cookie": self.cookie, **(headers or {})}
        try:
            return self._exchange(path, sent)
        except (ConnectionError, http.client.HTTPException):
            # The server closed a kept connection between two requests: once more, on a new one.
            self.close()
            return self._exchange(path, sent)

    def _exchange(self, path: str, headers: dict[str, str]) -> Answer:
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        self.connection.request("GET", path, headers=headers)
        response = self.connection.getresponse()
        body = response.read()
        if response.will_close:
            self.close()
        return Answer(response.status, response.headers, body)

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None
