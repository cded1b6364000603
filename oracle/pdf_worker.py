"""PDF text extraction in a separate, bounded process: a PDF bomb costs a worker, not the app.

PDFium decompresses a page's content streams whole. A ``/FlateDecode`` stream of zeros
deflates about 1000:1, so a 4 MB upload asks for ~4 GB, and under a memory cap PDFium
aborts the process that asked (SIGABRT, exit 134). Reading every PDF in a child process
with an address-space limit (``resource.RLIMIT_AS``) and a wall-clock timeout turns that
into one failed file: the child dies, the parent reports :class:`PdfLimitError` and starts
a fresh child for the next file.

One child is started on first use and reused for every later PDF (its start costs ~0.1 s;
bench/bench_pdf_worker.py measures it), restarted when it died or when another memory
limit is asked for. Calls are serialised by a lock: PDFium is not thread-safe, and one
reader at a time is what the app needs.

Protocol (stdin/stdout pipes of the child, no pickle in either direction): the parent
writes an 8-byte big-endian length and the PDF's bytes; the child answers with an 8-byte
length and a JSON object: ``{"ok": true, "texts": [str], "labels": [str|null],
"failed": [int]}`` or ``{"ok": false, "error": "encrypted"|"corrupt"|"memory",
"detail": str}``. The child is this file run as a script (``python -P pdf_worker.py
<memory MB>``) and imports nothing from :mod:`oracle`, only ``pypdfium2``.

On systems without ``resource`` or ``select`` on pipes (Windows), PDFs are read in the
calling process, unbounded, with a warning logged once.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import struct
import subprocess
import sys
import threading
import time
from typing import Any

logger = logging.getLogger(__name__)

_HEADER = struct.Struct(">Q")
#: The child writes this once, when PDFium is loaded and it is ready for requests.
_READY = b"R"
#: Seconds a fresh child may take to load PDFium (not counted in a file's timeout).
START_TIMEOUT_S = 60.0
#: Exit status of a child that ran out of memory in Python code (it answers first).
EXIT_MEMORY = 3


class PdfReadError(Exception):
    """PDFium could not read the file. ``code``: ``"encrypted"`` (a user password is
    needed) or ``"corrupt"``; ``detail``: PDFium's reason."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class PdfLimitError(Exception):
    """The reader hit a limit. ``reason``: ``"memory"`` (the child ran out of its address
    space, or died: PDFium aborts when an allocation fails) or ``"timeout"`` (killed after
    the time limit); ``detail``: what happened, for the log."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


# --- the reading itself (runs in the child; also callable in-process) -------------------


def read_pdf_pages(data: bytes) -> dict[str, Any]:
    """Raw text and printed label of each page of the PDF ``data``, read with PDFium.

    This is the unbounded, in-process reader: call :func:`read_pdf` instead, which runs
    this in the bounded child process.

    Returns:
        ``{"texts": [str], "labels": [str | None], "failed": [int]}``: one text and one
        label per page (the page's /PageLabels label, None where the PDF defines none; ''
        text for a page PDFium cannot read) and the 1-based numbers of unreadable pages.

    Raises:
        PdfReadError: ``"encrypted"`` or ``"corrupt"`` (cannot be loaded, or no page reads).
    """
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        code = getattr(e, "err_code", None)
        if code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise PdfReadError("encrypted", str(e)) from e
        raise PdfReadError("corrupt", str(e)) from e
    try:
        n_pages = len(pdf)
        texts: list[str] = []
        labels: list[str | None] = []
        failed: list[int] = []
        for i in range(n_pages):
            try:
                labels.append(pdf.get_page_label(i) or None)
            except (pdfium.PdfiumError, UnicodeDecodeError, ValueError):
                labels.append(None)
            try:
                page = pdf[i]
                try:
                    textpage = page.get_textpage()
                    try:
                        texts.append(textpage.get_text_range())
                    finally:
                        textpage.close()
                finally:
                    page.close()
            except pdfium.PdfiumError:
                failed.append(i + 1)
                texts.append("")
    finally:
        pdf.close()
    if n_pages and len(failed) == n_pages:
        raise PdfReadError("corrupt", "no page could be read")
    return {"texts": texts, "labels": labels, "failed": failed}


# --- the child ----------------------------------------------------------------------------


def _read_exact(stream, n: int) -> bytes:
    """``n`` bytes from a blocking binary stream; fewer only at end of file."""
    chunks, got = [], 0
    while got < n:
        chunk = stream.read(n - got)
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _child_main(argv: list[str]) -> int:
    """Serve requests on stdin/stdout until stdin closes. ``argv[0]``: memory limit in MB (0: none)."""
    limit_mb = int(argv[0]) if argv else 0
    if limit_mb > 0:
        import resource

        limit = limit_mb * 1024 * 1024
        # Hard limit too: nothing running in this process can raise it again.
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        # PDFium aborts when an allocation fails: no core file of the bomb's memory on disk.
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    requests = sys.stdin.buffer
    # Answers go to a private copy of stdout; fd 1 now points at stderr, so a stray print
    # from a library cannot corrupt the protocol.
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    import pypdfium2  # noqa: F401 - loaded before the first file, so its time is not the file's

    answers.write(_READY)
    answers.flush()
    while True:
        header = _read_exact(requests, _HEADER.size)
        if len(header) < _HEADER.size:
            return 0
        data = _read_exact(requests, _HEADER.unpack(header)[0])
        status = None
        try:
            reply: dict[str, Any] = {"ok": True, **read_pdf_pages(data)}
        except PdfReadError as e:
            reply = {"ok": False, "error": e.code, "detail": e.detail}
        except MemoryError:
            reply, status = {"ok": False, "error": "memory", "detail": "MemoryError"}, EXIT_MEMORY
        del data
        payload = json.dumps(reply).encode("ascii")  # ASCII: lone surrogates survive the trip
        answers.write(_HEADER.pack(len(payload)) + payload)
        answers.flush()
        if status is not None:  # after a MemoryError the heap may be fragmented: start afresh
            return status


# --- the parent ------------------------------------------------------------------------------


def bounded_reading_available() -> bool:
    """True where PDFs can be read in a bounded child (POSIX: ``resource`` and ``select``)."""
    if os.name != "posix":
        return False
    try:
        import resource  # noqa: F401
        import select  # noqa: F401
    except ImportError:
        return False
    return True


class PdfWorker:
    """One child process reading PDFs; see the module docstring for the protocol.

    Args:
        memory_mb: address-space limit of the child, in MB (``RLIMIT_AS``); 0: no limit.
    """

    def __init__(self, memory_mb: int) -> None:
        self.memory_mb = int(memory_mb)
        self.proc: subprocess.Popen | None = None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        """Start the child (``python -P <this file> <memory_mb>``; an argument list, no shell)
        and wait until it has loaded PDFium (at most :data:`START_TIMEOUT_S`).

        Raises:
            PdfLimitError: ``"memory"``: the child died or did not get ready in time (a
                memory limit too small to load PDFium, say).
        """
        self.proc = subprocess.Popen(
            [sys.executable, "-P", os.path.abspath(__file__), str(self.memory_mb)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,  # the child's warnings and PDFium's abort message reach our stderr
            close_fds=True,
        )
        try:
            ready = self._read_reply(len(_READY), time.monotonic() + START_TIMEOUT_S)
        except (TimeoutError, EOFError):
            ready = b""
        if ready != _READY:
            code = self._kill()
            raise PdfLimitError("memory", f"the PDF reader did not start (exit status {code}); "
                                          f"is the memory limit ({self.memory_mb} MB) too small?")  # fmt: skip
        logger.info("PDF reader process %d started (memory limit %d MB)", self.proc.pid, self.memory_mb)

    def close(self, timeout_s: float = 2.0) -> None:
        """Ask the child to exit (close its stdin); kill it if it does not within ``timeout_s``."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            if proc.stdin:
                proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()

    def _kill(self) -> int | None:
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.kill()
        code = proc.wait()
        for stream in (proc.stdin, proc.stdout):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass
        return code

    def _read_reply(self, n: int, deadline: float) -> bytes:
        """``n`` bytes of the child's stdout before ``deadline`` (time.monotonic seconds)."""
        import select

        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        chunks, got = [], 0
        while got < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                raise TimeoutError
            chunk = os.read(fd, min(n - got, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def read(self, data: bytes, timeout_s: float) -> dict[str, Any]:
        """Send one PDF, wait for its pages.

        Args:
            data: the PDF's bytes.
            timeout_s: wall-clock seconds allowed for the whole reading.

        Returns:
            As :func:`read_pdf_pages`.

        Raises:
            PdfReadError: encrypted or corrupt.
            PdfLimitError: out of memory, died, or out of time; the child is gone then (the
                next call starts another).
        """
        if not self.alive():
            self.start()
        assert self.proc is not None and self.proc.stdin is not None
        deadline = time.monotonic() + timeout_s
        try:
            self.proc.stdin.write(_HEADER.pack(len(data)))
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
            size = _HEADER.unpack(self._read_reply(_HEADER.size, deadline))[0]
            reply = json.loads(self._read_reply(size, deadline))
        except TimeoutError:
            self._kill()
            raise PdfLimitError("timeout", f"no answer within {timeout_s:g} s; the reader was stopped") from None
        except (EOFError, BrokenPipeError, ConnectionResetError, ValueError) as e:
            code = self._kill()
            raise PdfLimitError("memory", f"the reader died (exit status {code}, {type(e).__name__})") from None
        if reply.get("ok"):
            return reply
        if reply.get("error") == "memory":
            self._kill()
            raise PdfLimitError("memory", reply.get("detail", ""))
        raise PdfReadError(reply.get("error", "corrupt"), reply.get("detail", ""))


_LOCK = threading.Lock()
_WORKER: PdfWorker | None = None
_WARNED_UNBOUNDED = False


def read_pdf(data: bytes, memory_mb: int, timeout_s: float) -> dict[str, Any]:
    """Read a PDF's pages in the shared bounded child process (started on first use).

    Args:
        data: the PDF's bytes.
        memory_mb: the child's address-space limit, in MB; 0: no limit.
        timeout_s: wall-clock limit of this reading, in seconds (including the start of a
            fresh child when one is needed, ~0.1 s).

    Returns:
        As :func:`read_pdf_pages`.

    Raises:
        PdfReadError, PdfLimitError: as :meth:`PdfWorker.read`.
    """
    global _WORKER, _WARNED_UNBOUNDED
    with _LOCK:
        if not bounded_reading_available():
            if not _WARNED_UNBOUNDED:
                logger.warning("no resource limits on this system: PDFs are read in the app's process")
                _WARNED_UNBOUNDED = True
            return read_pdf_pages(data)
        if _WORKER is not None and _WORKER.memory_mb != int(memory_mb):
            _WORKER.close()
            _WORKER = None
        if _WORKER is None:
            _WORKER = PdfWorker(memory_mb)
        return _WORKER.read(data, timeout_s)


def shutdown() -> None:
    """Stop the shared child process, if any (also run at interpreter exit)."""
    global _WORKER
    with _LOCK:
        if _WORKER is not None:
            _WORKER.close()
            _WORKER = None


atexit.register(shutdown)


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
