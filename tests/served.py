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


@contextmanager
def serve(demo) -> Iterator[str]:
    """Launch ``demo`` (a ``gr.Blocks``) with the app's launch settings (``oracle.ui.launch_kwargs``:
    auth, locale, hardening) on a free port; yields its URL ``http://127.0.0.1:<port>/`` and
    closes the app afterwards."""
    from oracle.ui import launch_kwargs

    port = free_port()
    demo.queue().launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True,
                        **launch_kwargs())  # fmt: skip
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()
