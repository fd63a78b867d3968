"""A per-client quota on Gradio's raw upload endpoint, so no client can fill the disk.

Gradio's `/gradio_api/upload` takes any file up to the server's size limit before the app
sees it (the app's own checks run when an upload is added to the corpus). This ASGI
middleware counts each client's upload requests and their declared bytes over a sliding
window and answers 429 past either limit; everything else passes untouched.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from typing import Any, Awaitable, Callable

UPLOADS_PER_WINDOW = 60
BYTES_PER_WINDOW = 64 * 1024 * 1024
WINDOW_S = 600.0

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


class UploadQuota:
    """ASGI middleware: at most `uploads` upload requests and `size` declared bytes per client per `window` seconds."""

    def __init__(
        self, app: Callable[[Scope, Receive, Send], Awaitable[None]], uploads: int = UPLOADS_PER_WINDOW,
        size: int = BYTES_PER_WINDOW, window: float = WINDOW_S, clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app, self.uploads, self.size, self.window, self.clock = app, uploads, size, window, clock
        self._seen: dict[str, deque[tuple[float, int]]] = defaultdict(deque)
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") == "http" and scope.get("method") == "POST" and scope.get("path", "").endswith("/upload"):
            client = (scope.get("client") or ("unknown", 0))[0]
            declared = _content_length(scope)
            if not self.admit(client, declared):
                body = json.dumps({"detail": "Too many uploads from this address; try again in a few minutes."})
                await send({"type": "http.response.start", "status": 429,
                            "headers": [(b"content-type", b"application/json"), (b"retry-after", b"60")]})
                await send({"type": "http.response.body", "body": body.encode()})
                return
        await self.app(scope, receive, send)

    def admit(self, client: str, size: int) -> bool:
        """Count an upload of `size` bytes from `client`; False when it would pass a limit."""
        now = self.clock()
        with self._lock:
            seen = self._seen[client]
            while seen and seen[0][0] <= now - self.window:
                seen.popleft()
            if len(seen) >= self.uploads or sum(s for _, s in seen) + size > self.size:
                return False
            seen.append((now, size))
            return True


def _content_length(scope: Scope) -> int:
    for name, value in scope.get("headers") or ():
        if name.lower() == b"content-length":
            try:
                return max(0, int(value))
            except ValueError:
                return 0
    return 0
