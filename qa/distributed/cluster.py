"""Connecting to a Ray cluster: the one place that decides how `ray.init` is called."""

from __future__ import annotations

import logging

import ray


def connect(address: str | None = None) -> None:
    """Join the Ray cluster at `address`, or the one already running on this machine, or start one.

    Args:
        address: "host:port" of a cluster's head, "auto", or None: a cluster started on
            this machine with `ray start --head` if there is one, else a new local one.
            Does nothing when this process is already connected (tests connect first).
    """
    if ray.is_initialized():
        return
    ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
