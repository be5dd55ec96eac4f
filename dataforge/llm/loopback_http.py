"""The loopback servers' HTTP replies: an OpenAI-style error body and a JSON or raw response.

Shared by the chat server (loopback.py) and its Batch API routes (loopback_batch.py), so neither
imports the other for them (tests/test_layering.py: no import circles).
"""

from __future__ import annotations

import orjson

REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 408: "Request Timeout",
           409: "Conflict", 429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
           503: "Service Unavailable"}


def error_body(message: str, kind: str) -> dict:
    return {"error": {"message": message, "type": kind, "param": None, "code": kind}}


def send_json(writer, status: int, payload: dict, headers: tuple = ()) -> bool:
    return send_bytes(writer, status, orjson.dumps(payload), headers)


def send_bytes(writer, status: int, data: bytes, headers: tuple = ()) -> bool:
    """Write one HTTP/1.1 response; False when the client already went away."""
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers)
    head = (f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(data)}\r\n{extra}\r\n")
    if writer.is_closing():
        return False
    writer.write(head.encode("latin-1") + data)
    return True
