"""The per-client upload quota, on a fake clock and through a real ASGI call."""

from __future__ import annotations

import asyncio

from webchat.quota import UploadQuota


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_each_client_gets_its_own_count_and_bytes_over_a_sliding_window() -> None:
    clock = Clock()
    quota = UploadQuota(app=None, uploads=3, size=1000, window=60, clock=clock)  # type: ignore[arg-type]
    assert [quota.admit("a", 10) for _ in range(4)] == [True, True, True, False]
    assert quota.admit("b", 10)  # another address counts apart
    assert not quota.admit("b", 991)  # its bytes would pass 1,000
    clock.now = 61
    assert quota.admit("a", 10)  # the window moved on


def test_past_the_quota_an_upload_is_answered_429_and_other_requests_pass() -> None:
    reached: list[str] = []

    async def app(scope, receive, send) -> None:  # noqa: ANN001
        reached.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    quota = UploadQuota(app, uploads=1, size=10**6, window=60)

    async def call(method: str, path: str) -> int:
        sent: list[dict] = []

        async def receive() -> dict:
            return {"type": "http.request", "body": b""}

        async def send(message: dict) -> None:
            sent.append(message)

        scope = {"type": "http", "method": method, "path": path, "client": ("10.0.0.1", 5), "headers": []}
        await quota(scope, receive, send)
        return sent[0]["status"]

    statuses = asyncio.run(_all(call("POST", "/gradio_api/upload"), call("POST", "/gradio_api/upload"),
                                call("GET", "/gradio_api/info")))
    assert statuses == [200, 429, 200] and reached == ["/gradio_api/upload", "/gradio_api/info"]


async def _all(*calls):  # noqa: ANN002, ANN202
    return [await c for c in calls]
