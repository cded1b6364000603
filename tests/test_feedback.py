"""Ratings: where they go, what they carry, order on load, and many concurrent writers
(processes x threads) appending long lines without losing or interleaving any."""

from __future__ import annotations

import json
import multiprocessing
import threading

from oracle.config import Workspace
from oracle.feedback import load_ratings, rate_answer, record_rating
from oracle.schema import Answer, Citation, Rating

N_PROCESSES = 4
N_THREADS = 6
LONG_CHARS = 40_000  # far over PIPE_BUF (4096 bytes): a torn or interleaved write would show


def make_answer(text: str = "O valor total é R$ 250.000,00 [1].") -> Answer:
    cite = Citation(
        n=1,
        doc_id="edital",
        doc_name="edital.pdf",
        page=1,
        snippet="R$ 250.000,00",
        chunk_id="edital:0:aa",
        score=0.87,
    )
    return Answer(question="Qual é o valor total?", text=text, citations=[cite], sources=[cite],
                  model="local:qwen", adapter="adapters/v2", index="default")  # fmt: skip


def test_valid_and_invalid_go_to_their_files(workspace):
    ans = make_answer()
    good = rate_answer(ans, True, workspace, user="maria", comment="  ")
    bad = rate_answer(
        ans, False, workspace, user="", corrected_answer="R$ 250 mil [1]", comment="faltou o extenso"
    )
    valid_rows = [json.loads(x) for x in workspace.validated.read_text(encoding="utf-8").splitlines()]
    invalid_rows = [json.loads(x) for x in workspace.invalid.read_text(encoding="utf-8").splitlines()]
    assert len(valid_rows) == 1 and len(invalid_rows) == 1
    row = valid_rows[0]
    assert row["question"] == ans.question and row["answer"] == ans.text and row["valid"] is True
    assert row["model"] == "local:qwen" and row["adapter"] == "adapters/v2" and row["user"] == "maria"
    assert row["answer_id"] == ans.answer_id and row["created_at"] and row["rating_id"] == good.rating_id
    assert row["citations"][0]["doc_name"] == "edital.pdf" and row["citations"][0]["page"] == 1
    assert row["comment"] is None and row["corrected_answer"] is None  # blank -> None
    bad_row = invalid_rows[0]
    assert bad_row["valid"] is False and bad_row["user"] == "anonymous"
    assert bad_row["corrected_answer"] == "R$ 250 mil [1]" and bad_row["comment"] == "faltou o extenso"
    assert bad_row["rating_id"] == bad.rating_id


def test_files_are_append_only(workspace):
    for i in range(3):
        rate_answer(make_answer(f"resposta {i}"), True, workspace)
    first = workspace.validated.read_bytes()
    rate_answer(make_answer("resposta 3"), True, workspace)
    assert workspace.validated.read_bytes().startswith(first)
    assert len(workspace.validated.read_text(encoding="utf-8").splitlines()) == 4


def test_load_ratings_newest_first_and_filtered(workspace):
    times = ["2026-01-01T10:00:00+00:00", "2026-01-03T10:00:00+00:00", "2026-01-02T10:00:00+00:00"]
    for i, when in enumerate(times):
        record_rating(Rating(question=f"q{i}", answer="a", valid=i != 2, created_at=when), workspace)
    assert [r.question for r in load_ratings(workspace)] == ["q1", "q2", "q0"]
    assert [r.question for r in load_ratings(workspace, valid=True)] == ["q1", "q0"]
    assert [r.question for r in load_ratings(workspace, valid=False)] == ["q2"]
    assert all(isinstance(r, Rating) for r in load_ratings(workspace))
    assert load_ratings(Workspace(workspace.home / "empty")) == []


def _expected_text(proc: int, thread: int) -> str:
    tag = f"<p{proc}t{thread}>"
    return (tag * (LONG_CHARS // len(tag) + 1))[:LONG_CHARS] + " ção"


def _writer_process(home: str, proc: int, n_threads: int) -> None:
    """Run in a spawned process: n_threads threads each rate one long answer."""
    workspace = Workspace(home)

    def one(thread: int) -> None:
        ans = make_answer(_expected_text(proc, thread))
        rate_answer(ans, valid=(thread % 2 == 0), workspace=workspace, user=f"p{proc}t{thread}")

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n_threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()


def test_concurrent_writers_lose_and_interleave_nothing(workspace):
    ctx = multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(target=_writer_process, args=(str(workspace.home), p, N_THREADS))
        for p in range(N_PROCESSES)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * N_PROCESSES

    seen = set()
    for path, valid in ((workspace.validated, True), (workspace.invalid, False)):
        lines = path.read_text(encoding="utf-8").split("\n")
        assert lines[-1] == ""  # ends with a newline, nothing torn at the end
        for line in lines[:-1]:
            row = json.loads(line)  # every line is one whole JSON object
            user = row["user"]
            proc, thread = int(user[1 : user.index("t")]), int(user[user.index("t") + 1 :])
            assert row["answer"] == _expected_text(proc, thread)  # not mixed with another writer's
            assert row["valid"] is valid and valid == (thread % 2 == 0)
            assert user not in seen
            seen.add(user)
    assert len(seen) == N_PROCESSES * N_THREADS
    assert len(load_ratings(workspace)) == N_PROCESSES * N_THREADS
