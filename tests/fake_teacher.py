"""A fake teacher for the "Melhorar o Oráculo" tests: a small Portuguese document whose chunks each
hold known facts, a reply function that writes quoted pairs about a chunk (the quote copied from
the chunk, in upper case to exercise normalisation, plus one pair whose quote is invented), and a
local OpenAI-compatible server serving that function with a delay per request while counting the
requests in flight (the concurrency test and ``bench/bench_improve_concurrency.py``).
"""

from __future__ import annotations

import http.server
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

TOPICS = ["rede", "senha", "pacote", "sistema", "arquivo", "documento", "linux", "debian", "usuario", "impressora"]


def document_text(n: int = 10) -> str:
    """``n`` paragraphs, one per topic: a deadline and a fee (one chunk each at 64 tokens)."""
    return "\n\n".join(
        f"O curso de {topic} tem inscrições abertas até o dia {i + 3} de março de 2026 na secretaria central. "
        f"A taxa do curso de {topic} custa {40 + 5 * i} reais e pode ser paga em qualquer agência bancária."
        for i, topic in enumerate(TOPICS[:n])
    )


def make_workspace(ws, tmp_path: Path, n: int = 10, embedder: str | None = None):
    """Ingest :func:`document_text` (chunks of 64 tokens, stored) and, with ``embedder``, build the
    index ``default``. Returns the Document."""
    from oracle.chunking import document_chunks
    from oracle.config import ChunkingConfig
    from oracle.ingest import ingest_file

    path = tmp_path / "cursos.txt"
    path.write_text(document_text(n), encoding="utf-8")
    doc = ingest_file(path, ws)
    document_chunks(ws, doc, ChunkingConfig(chunk_size=64, chunk_overlap=0))
    if embedder:
        from oracle.index import build_index

        build_index([doc], ws, embedder=embedder, chunking=ChunkingConfig(chunk_size=64, chunk_overlap=0))
    return doc


def chunk_of(messages: list[dict]) -> str:
    """The chunk text quoted in a pair-writing prompt."""
    user = messages[-1]["content"]
    match = re.search(r'"""\n(.*?)\n"""', user, re.DOTALL)
    return match.group(1) if match else ""


def teacher_reply(messages: list[dict]) -> str:
    """Pairs about the chunk in ``messages``: the deadline (quote verbatim but upper-cased: kept), the
    fee (kept) and an invented fact (quote not in the chunk: rejected)."""
    text = chunk_of(messages)
    m = re.search(r"O curso de (\w+) tem inscrições abertas até o dia (\d+)", text)
    topic, day = (m.group(1), m.group(2)) if m else ("geral", "1")
    sentences = [s.strip() for s in re.split(r"(?<=\.)\s+", text) if s.strip()]
    fee = re.search(r"custa (\d+) reais", text)
    pairs = [
        {"question": f"Até que dia vão as inscrições do curso de {topic}?",
         "answer": f"As inscrições vão até o dia {day} de março de 2026.", "quote": sentences[0].upper()},
        {"question": f"Quanto custa a taxa do curso de {topic}?",
         "answer": f"A taxa custa {fee.group(1) if fee else '0'} reais.",
         "quote": sentences[1] if len(sentences) > 1 else sentences[0]},
        {"question": f"Quem coordena o curso de {topic} na escola?",
         "answer": "A professora Maria Souza coordena o curso.", "quote": "A professora Maria Souza coordena o curso."},
    ]
    return json.dumps({"pairs": pairs}, ensure_ascii=False)


class TeacherServer:
    """An OpenAI-compatible chat completions server (``/v1/chat/completions``, streamed) that answers
    with ``reply(messages)`` after ``delay_s`` seconds; ``max_in_flight`` is the most requests it served
    at the same time, ``n_requests`` how many it served."""

    def __init__(self, reply: Callable[[list[dict]], str] = teacher_reply, delay_s: float = 0.0) -> None:
        self.reply, self.delay_s = reply, delay_s
        self.lock = threading.Lock()
        self.in_flight = self.max_in_flight = self.n_requests = 0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    server.in_flight += 1
                    server.n_requests += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    time.sleep(server.delay_s)
                    text = server.reply(body["messages"])
                finally:
                    with server.lock:
                        server.in_flight -= 1
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for piece in re.findall(r"\S+\s*|\s+", text):
                    event = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": body["model"],
                             "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                    self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"


@contextmanager
def teacher_server(reply: Callable[[list[dict]], str] = teacher_reply, delay_s: float = 0.0) -> Iterator[TeacherServer]:
    """Run a :class:`TeacherServer` in a thread for the duration of the ``with`` block."""
    server = TeacherServer(reply, delay_s)
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
