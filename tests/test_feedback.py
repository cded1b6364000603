"""Answers of record and ratings: where they go, what they carry, order on load, one current
rating per answer (the latest) for every consumer, and many concurrent writers (processes x
threads) appending long lines without losing or interleaving any."""

from __future__ import annotations

import json
import multiprocessing
import threading

import pytest

from oracle.config import Workspace
from oracle.errors import AnswerNotFoundError
from oracle.feedback import (
    current_ratings,
    find_answer,
    load_answers,
    load_ratings,
    rate_answer,
    rate_stored_answer,
    rating_summary,
    rating_verdicts,
    record_rating,
    resolve_answer,
    store_answer,
)
from oracle.schema import Answer, Citation, Rating

N_PROCESSES = 4
N_THREADS = 6
LONG_CHARS = 40_000  # far over PIPE_BUF (4096 bytes): a torn or interleaved write would show


def make_answer(
    text: str = "O valor total é R$ 250.000,00 [1].", question: str = "Qual é o valor total?"
) -> Answer:
    cite = Citation(
        n=1,
        doc_id="edital",
        doc_name="edital.pdf",
        page=1,
        snippet="R$ 250.000,00",
        chunk_id="edital:0:aa",
        score=0.87,
    )
    other = Citation(n=2, doc_id="edital", doc_name="edital.pdf", page=3, snippet="prazo", chunk_id="edital:900:bb",
                     score=0.61)  # fmt: skip
    return Answer(question=question, text=text, citations=[cite], sources=[cite, other],
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


def test_thumbs_down_then_up_leaves_one_valid_rating(workspace):
    ans = make_answer()
    rate_answer(ans, False, workspace, user="ana")
    rate_answer(ans, True, workspace, user="ana")
    (current,) = current_ratings(workspace)
    assert current.valid is True and current.answer_id == ans.answer_id
    assert current_ratings(workspace, valid=False) == []
    assert rating_verdicts(workspace) == {ans.answer_id: True}
    assert len(load_ratings(workspace)) == 2  # the history keeps both lines
    summary = rating_summary(workspace)
    assert (summary.n_valid, summary.n_invalid, summary.n_current, summary.n_replaced) == (1, 0, 1, 1)


def test_thumbs_up_then_down_leaves_one_invalid_rating(workspace):
    ans, other = make_answer(), make_answer("Outra resposta [1].", question="Qual é o prazo?")
    rate_answer(ans, True, workspace)
    rate_answer(other, True, workspace)
    rate_answer(ans, False, workspace)
    assert [(r.answer_id, r.valid) for r in current_ratings(workspace)] == [
        (ans.answer_id, False), (other.answer_id, True)]  # newest first  # fmt: skip
    assert [r.answer_id for r in current_ratings(workspace, valid=True)] == [other.answer_id]
    assert rating_verdicts(workspace) == {ans.answer_id: False, other.answer_id: True}


def test_a_correction_replaces_the_earlier_rating_and_is_the_reference(workspace):
    ans = make_answer()
    rate_answer(ans, True, workspace)
    rate_answer(ans, True, workspace, corrected_answer="  R$ 250 mil [1]  ", comment="mais curto")
    (current,) = current_ratings(workspace)
    assert current.corrected_answer == "R$ 250 mil [1]" and current.reference_answer == "R$ 250 mil [1]"
    assert current.answer == ans.text  # the model's text is kept beside the correction
    assert rating_summary(workspace).n_corrected == 1
    rate_answer(ans, False, workspace)  # then judged wrong after all, without a correction
    (current,) = current_ratings(workspace)
    assert (
        current.valid is False and current.corrected_answer is None and current.reference_answer == ans.text
    )
    assert rating_summary(workspace).n_corrected == 0


def test_same_second_tie_between_files_goes_to_invalid_and_lines_keep_their_order(workspace):
    when = "2026-01-01T10:00:00+00:00"  # seconds only, as older lines were written
    record_rating(Rating(question="q", answer="a", valid=False, answer_id="x", created_at=when), workspace)
    record_rating(Rating(question="q", answer="a", valid=True, answer_id="x", created_at=when), workspace)
    assert [r.valid for r in current_ratings(workspace)] == [False]  # a doubtful answer never trains
    record_rating(
        Rating(question="q", answer="a", valid=True, answer_id="y", created_at=when, user="1"), workspace
    )
    record_rating(
        Rating(question="q", answer="a", valid=True, answer_id="y", created_at=when, user="2"), workspace
    )
    assert [r.user for r in current_ratings(workspace, valid=True)] == ["2"]  # later line of one file


def test_old_rating_lines_load_and_stand_alone(workspace):
    old = {
        "question": "Qual é o prazo?",
        "answer": "10 dias",
        "valid": True,
        "citations": [],
        "model": "m",
        "adapter": None,
        "user": "ana",
        "corrected_answer": None,
        "comment": None,
        "rating_id": "r1",
        "created_at": "2025-06-01T10:00:00+00:00",
    }  # no answer_id, no retrieved_chunk_ids
    workspace.data_qa.mkdir(parents=True, exist_ok=True)
    lines = [old, {**old, "rating_id": "r2", "answer_id": "a1"}, {"not": "a rating"}]
    workspace.validated.write_text("".join(json.dumps(r) + "\n" for r in lines) + '{"torn', encoding="utf-8")
    current = current_ratings(workspace)
    assert sorted(r.rating_id for r in current) == ["r1", "r2"]  # the line that is not a rating is skipped
    assert all(r.retrieved_chunk_ids == [] and r.valid for r in current)
    record_rating(
        Rating(question="q", answer="a", valid=True), workspace
    )  # no answer id either: stands alone
    assert len(current_ratings(workspace)) == 3


def test_a_rating_keeps_every_retrieved_chunk_and_names_a_stored_answer(workspace):
    ans = make_answer()  # cites chunk 1 of 2 retrieved
    rating = rate_answer(ans, True, workspace)
    assert rating.retrieved_chunk_ids == ["edital:0:aa", "edital:900:bb"]
    assert [c.chunk_id for c in rating.citations] == ["edital:0:aa"]
    assert [a.answer_id for a in load_answers(workspace)] == [ans.answer_id]  # stored once...
    rate_answer(ans, False, workspace)
    assert len(load_answers(workspace)) == 1  # ...not again when rated again
    row = json.loads(workspace.validated.read_text(encoding="utf-8"))
    assert row["retrieved_chunk_ids"] == ["edital:0:aa", "edital:900:bb"]


def test_rating_by_id_uses_the_stored_answer(workspace):
    ans = make_answer()
    store_answer(ans, workspace)
    rating = rate_stored_answer(workspace, ans.answer_id, True, user="  ", comment="ok")
    assert (rating.answer_id, rating.answer, rating.user, rating.comment) == (
        ans.answer_id,
        ans.text,
        "anonymous",
        "ok",
    )
    assert find_answer(workspace, ans.answer_id).to_dict() == ans.to_dict()
    with pytest.raises(AnswerNotFoundError) as err:
        rate_stored_answer(workspace, "0" * 32, True)
    assert "não está registrada no servidor" in err.value.message("pt")
    assert len(load_ratings(workspace)) == 1  # nothing written for the unknown answer


def test_resolve_answer_by_last_id_or_prefix(workspace):
    with pytest.raises(AnswerNotFoundError) as err:
        resolve_answer(workspace, "last")
    assert err.value.key == "err.no_answers" and "Faça uma pergunta primeiro" in err.value.message("pt")
    first, second = make_answer(), make_answer("Outra [1].")
    first.answer_id, second.answer_id = "abc111" + "0" * 26, "abc222" + "0" * 26
    store_answer(first, workspace)
    store_answer(second, workspace)
    assert resolve_answer(workspace, "last").answer_id == second.answer_id
    assert resolve_answer(workspace, "abc1").answer_id == first.answer_id
    assert resolve_answer(workspace, first.answer_id).text == first.text
    for ambiguous_or_unknown in ("abc", "zzz", ""):
        with pytest.raises(AnswerNotFoundError, match="Nenhuma resposta única"):
            resolve_answer(workspace, ambiguous_or_unknown)


def test_training_data_uses_only_the_current_ratings(workspace):
    from oracle.training.data import load_examples

    flipped_bad = make_answer("Resposta que parecia certa [1].", question="Qual é o valor total?")
    flipped_good = make_answer("O prazo é 10 dias [1].", question="Qual é o prazo?")
    corrected = make_answer("Errado [1].", question="Quem assina o edital?")
    rate_answer(flipped_bad, True, workspace)
    rate_answer(flipped_bad, False, workspace)
    rate_answer(flipped_good, False, workspace)
    rate_answer(flipped_good, True, workspace)
    rate_answer(corrected, False, workspace)
    rate_answer(corrected, True, workspace, corrected_answer="O diretor assina [1].")
    got = load_examples(workspace, files=[])
    by_q = {e.question: e for e in got.examples}
    assert set(by_q) == {"Qual é o prazo?", "Quem assina o edital?"}  # 👍 then 👎 never trains
    assert by_q["Qual é o prazo?"].answer == "O prazo é 10 dias [1]."
    assert by_q["Quem assina o edital?"].answer == "O diretor assina [1]."
    assert (
        by_q["Quem assina o edital?"].citation_map == {}
    )  # a person's text: its markers are not the model's
    assert by_q["Qual é o prazo?"].gold_chunk_ids == ["edital:0:aa"]  # the cited chunk
    assert got.n_invalid == 1 and got.n_duplicates == 0


def test_a_thumbs_down_with_a_correction_trains_and_is_counted(workspace):
    from oracle.training.data import load_examples

    wrong = make_answer("O valor é R$ 100,00 [1].")  # cites 1 of the 2 chunks chat retrieved
    rate_answer(wrong, False, workspace, corrected_answer="O valor total é R$ 250.000,00.")
    rate_answer(make_answer("Não sei [1].", question="Qual é o prazo?"), False, workspace)  # no correction
    got = load_examples(workspace, files=[])
    (ex,) = got.examples
    assert (ex.question, ex.answer) == ("Qual é o valor total?", "O valor total é R$ 250.000,00.")
    assert ex.gold_chunk_ids == [] and ex.context_chunk_ids == ["edital:0:aa", "edital:900:bb"]
    summary = rating_summary(workspace)
    assert (summary.n_invalid, summary.n_corrected, summary.n_invalid_corrected, summary.n_training) == (2, 1, 1, 1)
    assert summary.n_training == got.n_ratings  # what the summary says trains is what trains


def _expected_text(proc: int, thread: int) -> str:
    tag = f"<p{proc}t{thread}>"
    return (tag * (LONG_CHARS // len(tag) + 1))[:LONG_CHARS] + " ção"


def _writer_process(home: str, proc: int, n_threads: int) -> None:
    """Run in a spawned process: n_threads threads each rate one long answer, then rate it again
    the other way (the second rating replaces the first)."""
    workspace = Workspace(home)

    def one(thread: int) -> None:
        ans = make_answer(_expected_text(proc, thread))
        first = thread % 2 == 0
        rate_answer(ans, valid=first, workspace=workspace, user=f"p{proc}t{thread}")
        rate_answer(ans, valid=not first, workspace=workspace, user=f"p{proc}t{thread}")

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n_threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()


def _writer(user: str) -> tuple[int, int]:
    return int(user[1 : user.index("t")]), int(user[user.index("t") + 1 :])


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
    n = N_PROCESSES * N_THREADS

    for path, valid in ((workspace.validated, True), (workspace.invalid, False)):
        lines = path.read_text(encoding="utf-8").split("\n")
        assert lines[-1] == ""  # ends with a newline, nothing torn at the end
        users = []
        for line in lines[:-1]:
            row = json.loads(line)  # every line is one whole JSON object
            proc, thread = _writer(row["user"])
            assert row["answer"] == _expected_text(proc, thread)  # not mixed with another writer's
            assert row["valid"] is valid
            users.append(row["user"])
        assert len(users) == len(set(users)) == n  # each answer rated once each way, none lost

    # the answers of record: each stored once, whole; every rating names one of them
    answers = load_answers(workspace)
    assert len(answers) == len({a.answer_id for a in answers}) == n
    assert all(a.text == _expected_text(*_writer(a.text[1 : a.text.index(">")])) for a in answers)
    assert {r.answer_id for r in load_ratings(workspace)} == {a.answer_id for a in answers}

    assert len(load_ratings(workspace)) == 2 * n  # the history keeps both ratings of each answer
    current = current_ratings(workspace)
    assert len(current) == n  # one per answer: the second one
    for rating in current:
        assert rating.valid is (_writer(rating.user)[1] % 2 == 1)
