"""One ASGI middleware shape for the app's HTML pages: hold an HTML response, rewrite its body,
fix ``Content-Length``, send it. :class:`oracle.ui.locale.LocaleMiddleware` (the browser locale
script) and :class:`oracle.ui.security.HideApiInfoBeforeLogin` (no API schema before login) are
both this shape, each with its own :meth:`HtmlRewriteMiddleware.applies` and
:meth:`HtmlRewriteMiddleware.rewrite`.
"""

from __future__ import annotations

from typing import Any


class HtmlRewriteMiddleware:
    """ASGI middleware: the body of an uncompressed ``text/html`` answer to a ``GET`` that
    :meth:`applies` to goes through :meth:`rewrite` before it is sent. Other requests and
    responses (assets, JSON, streams, compressed bodies) pass through untouched and unbuffered.

    Args:
        app: the ASGI app (gradio's FastAPI app).
    """

    def __init__(self, app) -> None:
        self.app = app

    def applies(self, scope: dict[str, Any]) -> bool:
        """Whether this request's HTML is rewritten (default: every ``GET``)."""
        return True

    def rewrite(self, html: bytes) -> bytes:
        """The new body for ``html`` (the whole response body, bytes)."""
        return html

    async def __call__(self, scope, receive, send) -> None:
        if scope.get("type") != "http" or scope.get("method") != "GET" or not self.applies(scope):
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] | None = None
        chunks: list[bytes] = []

        async def send_wrapper(message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = {k.lower(): v for k, v in message.get("headers") or []}
                if b"text/html" in headers.get(b"content-type", b"") and b"content-encoding" not in headers:
                    start = message  # hold it until the whole body is here: its length changes
                    return
                await send(message)
            elif message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                body = self.rewrite(b"".join(chunks))
                headers = [(k, v) for k, v in start.get("headers") or [] if k.lower() != b"content-length"]
                headers.append((b"content-length", str(len(body)).encode("ascii")))
                await send({**start, "headers": headers})
                await send({"type": "http.response.body", "body": body, "more_body": False})
            else:
                await send(message)

        await self.app(scope, receive, send_wrapper)
