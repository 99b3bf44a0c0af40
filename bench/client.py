"""HTTP clients for the benchmarks: small, so that the load generator leaves the CPU to the server.

Every request goes to the server under test on the loopback interface and carries the headers the TLS
proxy in front of `make serve` would add (`X-Forwarded-Proto: https`), so production settings apply as
they would in a deployment.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float  # from opening the connection (or sending, on a kept one) to the last byte

    def json(self) -> Any:
        return json.loads(self.body)


class Server:
    """The server under test at 127.0.0.1:port, with one user's token."""

    def __init__(self, port: int, token: str | None = None, cookies: str | None = None) -> None:
        if not 0 < port < 65536:
            raise ValueError(f"bad port {port}")
        self.host = "127.0.0.1"
        self.port = port
        self.headers = {"Host": f"127.0.0.1:{port}", **PROXY_HEADERS}
        if token:
            self.headers["Authorization"] = f"Token {token}"
        if cookies:
            self.headers["Cookie"] = cookies

    def with_token(self, token: str) -> Server:
        return Server(self.port, token)

    def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        timeout: float = 120,
    ) -> Reply:
        """One request on a connection of its own (opened and closed here: a new TCP connection each time)."""
        if params:
            path = f"{path}?{urlencode(params)}"
        headers = dict(self.headers)
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        return Reply(response.status, dict(response.getheaders()), data, time.perf_counter() - started)

    def get(self, path: str, **params: Any) -> Reply:
        return self.request("GET", path, params or None)

    def upload(self, path: str, files: list[tuple[str, bytes]], field: str = "files", timeout: float = 600) -> Reply:
        """POST these files as multipart/form-data in one field, on a connection of its own."""
        boundary = f"bench-{time.monotonic_ns():x}"
        parts = []
        for name, data in files:
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{name}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n".encode()
            )
            parts.append(data)
            parts.append(b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        payload = b"".join(parts)
        headers = {**self.headers, "Content-Type": f"multipart/form-data; boundary={boundary}"}
        started = time.perf_counter()
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            connection.request("POST", path, body=payload, headers=headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        return Reply(response.status, dict(response.getheaders()), data, time.perf_counter() - started)

    def stream(
        self, path: str, params: Mapping[str, Any] | None = None, on_chunk: Callable[[bytes], None] | None = None
    ) -> tuple[int, int, int, float]:
        """GET a streamed response to nowhere: (status, bytes, lines, seconds)."""
        if params:
            path = f"{path}?{urlencode(params)}"
        started = time.perf_counter()
        connection = http.client.HTTPConnection(self.host, self.port, timeout=600)
        size = lines = 0
        try:
            connection.request("GET", path, headers=self.headers)
            response = connection.getresponse()
            while chunk := response.read(1 << 16):
                size += len(chunk)
                lines += chunk.count(b"\n")
                if on_chunk is not None:
                    on_chunk(chunk)
        finally:
            connection.close()
        return response.status, size, lines, time.perf_counter() - started


class KeepAliveClient:
    """An HTTP/1.1 client on one kept-alive connection, for asyncio: an annotator's browser, roughly."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.head = (
            f"Host: 127.0.0.1:{port}\r\nAuthorization: Token {token}\r\nX-Forwarded-Proto: https\r\n"
            "Content-Type: application/json\r\nConnection: keep-alive\r\n"
        )
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.reader is None or self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        return self.reader, self.writer

    async def put(self, path: str, body: Any) -> tuple[int, dict[str, str], bytes]:
        payload = json.dumps(body).encode()
        reader, writer = await self._connect()
        writer.write(f"PUT {path} HTTP/1.1\r\n{self.head}Content-Length: {len(payload)}\r\n\r\n".encode() + payload)
        await writer.drain()
        status_line = await reader.readline()
        if not status_line:
            await self.close()
            raise ConnectionError("the server closed the connection")
        status = int(status_line.split()[1])
        headers: dict[str, str] = {}
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        data = await reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, headers, data

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(ConnectionError):
                await self.writer.wait_closed()
        self.reader = self.writer = None
