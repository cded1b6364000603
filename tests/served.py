"""Serve a gradio app on a free local port for a test (gradio's own tests launch with
``prevent_thread_lock=True`` and close afterwards)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager


def free_port() -> int:
    """A TCP port of 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


LAUNCH_TRIES = 3
"""gradio's ``launch`` checks its own URL with one 3-s HEAD request and raises ``ValueError`` ("When
localhost is not accessible…") when it times out, which a CPU loaded by other work can cause
(seen once in a test run beside a LoRA training, load average 5.5 on 2 cores); the launch is
tried again on a new port."""


@contextmanager
def serve(demo) -> Iterator[str]:
    """Launch ``demo`` (a ``gr.Blocks``) with the app's launch settings (``oracle.ui.launch_kwargs``:
    auth, locale, hardening) on a free port; yields its URL ``http://127.0.0.1:<port>/`` and
    closes the app afterwards. Raises gradio's ``ValueError`` when :data:`LAUNCH_TRIES` launches
    all failed their URL check."""
    from oracle.ui import launch_kwargs

    demo.queue()
    for attempt in range(1, LAUNCH_TRIES + 1):
        port = free_port()
        try:
            demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True,
                        **launch_kwargs())  # fmt: skip
            break
        except ValueError as err:
            demo.close()
            if "localhost is not accessible" not in str(err) or attempt == LAUNCH_TRIES:
                raise
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()
