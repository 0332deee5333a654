"""Oversized and stalled uploads over raw sockets, and a process's resident memory.

Raw sockets, not an HTTP client: the point is to send headers that promise a
body, and then send it (or not) at the pace an attacker chooses.
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path

MIB = 1024 * 1024


def rss_bytes(pid: int, field: str = "VmRSS") -> int:
    """Resident set size of one process from /proc (Linux); VmHWM is its peak so far."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} for pid {pid}")


def peak_rss_bytes(pid: int) -> int:
    return rss_bytes(pid, "VmHWM")


def request_head(
    port: int, path: str, headers: dict[str, str], *, length: int | None, method: str = "POST"
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if length is None:
        lines.append("Transfer-Encoding: chunked")
    else:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_answer(sock: socket.socket, timeout: float = 30.0) -> bytes:
    """Whatever the server sends until it closes or goes quiet; b"" if it just closed."""
    sock.settimeout(timeout)
    received = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
            if b"\r\n\r\n" in received:
                head, _, rest = received.partition(b"\r\n\r\n")
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.lower() == b"content-length" and len(rest) >= int(value):
                        return received
    except (ConnectionResetError, TimeoutError):
        pass
    return received


def status_of(answer: bytes) -> int | None:
    if not answer.startswith(b"HTTP/1.1 "):
        return None
    return int(answer[9:12])


def oversized_post(
    port: int,
    path: str,
    headers: dict[str, str],
    size: int,
    *,
    chunked: bool = False,
    piece: int = 256 * 1024,
) -> tuple[int | None, int]:
    """POST `size` bytes (declared, or chunked), pushing as much as the server takes.

    Returns (the status answered, bytes the server let us send before it closed).
    """
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request_head(port, path, headers, length=None if chunked else size))
        block = b"[" * piece
        try:
            while sent < size:
                data = block if not chunked else b"%x\r\n%s\r\n" % (len(block), block)
                sock.sendall(data)
                sent += len(block)
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            answer = read_answer(sock)
        except OSError:
            answer = b""
    return status_of(answer), sent


def parallel_oversized_posts(
    port: int, path: str, headers: dict[str, str], size: int, clients: int, chunked: bool = False
) -> list[tuple[int | None, int]]:
    results: list[tuple[int | None, int]] = [(None, 0)] * clients

    def one(index: int) -> None:
        results[index] = oversized_post(port, path, headers, size, chunked=chunked)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
