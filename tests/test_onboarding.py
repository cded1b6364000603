"""The first-use guide's status (oracle.onboarding): what a newcomer has done, read from the
workspace's files, and which earlier step each tab needs. Fast: small files written by hand
(the shapes the core writes), no model."""

from __future__ import annotations

import json

from oracle.onboarding import STEPS, blocking_step, getting_started


def _doc(workspace, doc_id: str) -> None:
    (workspace.documents / f"{doc_id}.json").write_text(json.dumps({"doc_id": doc_id}), encoding="utf-8")


def _index(workspace, doc_ids: list[str], n_chunks: int) -> None:
    folder = workspace.index_dir("default")
    folder.mkdir(parents=True)
    meta = {"n_chunks": n_chunks, "documents": {d: {"name": d, "n_chunks": 1} for d in doc_ids}}
    (folder / "index.json").write_text(json.dumps(meta), encoding="utf-8")


def _lines(path, n: int) -> None:
    path.write_text("".join(json.dumps({"i": i}) + "\n" for i in range(n)), encoding="utf-8")


def _ratings(workspace, valid: bool, answer_ids: list[str]) -> None:
    from oracle.feedback import record_rating
    from oracle.schema import Rating

    for answer_id in answer_ids:
        record_rating(Rating(question="q?", answer="a", valid=valid, answer_id=answer_id), workspace)


def _states(progress) -> dict[str, str]:
    return {s.step: s.state for s in progress.steps}


def test_an_empty_workspace_starts_at_sending_documents(workspace):
    progress = getting_started(workspace)
    assert [s.step for s in progress.steps] == list(STEPS)
    assert _states(progress) == {"upload": "next", "index": "todo", "ask": "todo", "rate": "todo",
                                 "improve": "todo"}  # fmt: skip
    assert progress.next_step.tab == "documents" and not progress.all_done
    # every tab that needs something points back at the first step
    for tab in ("qa", "index", "chat", "ratings", "evaluation", "finetune"):
        assert blocking_step(progress, tab).step == "upload", tab
    assert blocking_step(progress, "documents") is None


def test_documents_without_an_index_send_the_chat_to_the_index_tab(workspace):
    _doc(workspace, "manual-0001")
    progress = getting_started(workspace)
    assert _states(progress)["upload"] == "done" and progress.step("upload").count == 1
    assert progress.next_step.step == "index" and progress.next_step.tab == "index"
    chat = blocking_step(progress, "chat")
    assert chat.step == "index" and chat.tab == "index"
    assert blocking_step(progress, "evaluation").tab == "index"
    assert blocking_step(progress, "index") is None and blocking_step(progress, "qa") is None
    # "Melhorar o Oráculo" needs the index (its run writes the training questions, none needed before)
    assert blocking_step(progress, "finetune").step == "index"
    assert progress.step("improve").tab == "finetune"


def test_step_5_points_to_the_improve_tab_before_any_question_is_written(workspace):
    """The run writes its own training questions: with an index and no pair nor rating, step 5
    ("Melhorar") opens the "Melhorar o Oráculo" tab, which shows no notice, and says so."""
    import oracle.ui  # noqa: F401  registers the ui.* strings (alone, this test ran before any UI import)
    from oracle.i18n import t

    _doc(workspace, "a")
    _index(workspace, ["a"], n_chunks=3)
    _lines(workspace.answers, 1)
    progress = getting_started(workspace)
    assert progress.n_qa_pairs == 0 and progress.n_ratings == 0
    assert progress.step("improve").tab == "finetune"
    assert blocking_step(progress, "finetune") is None  # nothing to do elsewhere first
    text = t("ui.guide.next.improve", "pt")
    assert "**Melhorar o Oráculo**" in text and "escreve sozinha as perguntas de treino" in text
    assert "Perguntas e respostas" not in text


def test_a_new_document_outside_the_index_is_the_next_step_but_the_chat_still_works(workspace):
    _doc(workspace, "a")
    _doc(workspace, "b")
    _index(workspace, ["a"], n_chunks=12)
    progress = getting_started(workspace)
    index = progress.step("index")
    assert index.state == "next" and index.count == 12 and index.partial == 1
    assert progress.has_index and progress.n_indexed == 1
    assert blocking_step(progress, "chat") is None  # an index missing one document still answers


def test_answers_ratings_and_runs_complete_the_steps(workspace):
    _doc(workspace, "a")
    _index(workspace, ["a"], n_chunks=3)
    _lines(workspace.answers, 2)
    progress = getting_started(workspace)
    assert _states(progress)["ask"] == "done" and progress.step("ask").count == 2
    assert progress.next_step.step == "rate" and progress.next_step.tab == "chat"
    assert blocking_step(progress, "ratings").step == "rate"

    _ratings(workspace, True, ["a1", "a2", "a3"])
    _ratings(workspace, False, ["a4", "a1"])  # a1 rated again: its latest rating replaces the first
    _lines(workspace.qa_file("a"), 5)
    progress = getting_started(workspace)
    assert progress.n_ratings == 4 and progress.n_qa_pairs == 5  # 4 answers rated, 5 rating lines
    assert progress.next_step.step == "improve" and progress.next_step.tab == "finetune"
    assert blocking_step(progress, "ratings") is None and blocking_step(progress, "finetune") is None

    run = workspace.adapters / "meu-adaptador"
    run.mkdir()
    (run / "train.json").write_text("{}", encoding="utf-8")
    (workspace.adapters / "pasta-vazia").mkdir()  # not a finished run
    progress = getting_started(workspace)
    assert progress.all_done and progress.n_runs == 1 and progress.next_step is None


def test_a_rating_counts_as_asking_even_without_the_answers_log(workspace):
    _ratings(workspace, False, ["a1"])
    progress = getting_started(workspace)
    assert _states(progress)["ask"] == "done" and _states(progress)["rate"] == "done"
    assert progress.next_step.step == "upload"  # earlier steps are still to do


def test_a_broken_index_file_reads_as_no_index(workspace):
    _doc(workspace, "a")
    folder = workspace.index_dir("default")
    folder.mkdir(parents=True)
    (folder / "index.json").write_text("{not json", encoding="utf-8")
    progress = getting_started(workspace)
    assert not progress.has_index and progress.next_step.step == "index"
