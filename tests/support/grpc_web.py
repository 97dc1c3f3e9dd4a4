"""grpc-web framing (the body of an HTTP request or response): a flag byte (0x80 for the
trailers frame), a 4-byte big-endian length, the payload; the trailers frame holds
`name: value` lines. Used by the gateway tests and the benchmark's load generator."""

from __future__ import annotations


def frame(payload: bytes, *, trailer: bool = False) -> bytes:
    return bytes([0x80 if trailer else 0x00]) + len(payload).to_bytes(4, "big") + payload


def unframe(body: bytes) -> tuple[list[bytes], dict[str, str]]:
    """The messages of a grpc-web body, and its trailers (names lowercased)."""
    messages: list[bytes] = []
    trailers: dict[str, str] = {}
    while body:
        flag, length = body[0], int.from_bytes(body[1:5], "big")
        payload, body = body[5 : 5 + length], body[5 + length :]
        if flag & 0x80:
            for line in payload.decode().split("\r\n"):
                if line:
                    name, _, value = line.partition(":")
                    trailers[name.strip().lower()] = value.strip()
        else:
            messages.append(payload)
    return messages, trailers
