"""The Gradio app, driven the way a program would: launched on 127.0.0.1 and called through
``gradio_client`` by ``api_name``. Offline: a registered fake generator and the tiny embedder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from served import free_port, serve
from tiny_embedder import tiny_embedder_path

from docs import FACTS, make_corrupt_pdf, make_pt_pdf

QUESTION = "Qual é o valor total destinado a esta chamada?"
ANSWER = "O valor total destinado é R$ 250.000,00 [1]."
QA_REPLY = json.dumps(
    {"pairs": [{"question": QUESTION, "answer": "O valor total é de R$ 250.000,00."}]}, ensure_ascii=False
)
ROOT = Path(__file__).resolve().parents[1]


def _fake_reply(messages) -> str:
    text = " ".join(m["content"] for m in messages)
    return QA_REPLY if "pairs" in text else ANSWER


@pytest.fixture
def fake_calls():
    """Register the ``fake`` generator prefix; returns the list of message lists it received."""
    from oracle.llm import FakeGenerator, register_generator

    calls: list = []

    def factory(model, adapter=None, **kw):
        def fn(messages):
            calls.append(messages)
            return _fake_reply(messages)

        return FakeGenerator(fn=fn, name=f"fake:{model}", adapter=adapter)

    register_generator("fake", factory)
    return calls


@pytest.fixture
def app(workspace, fake_calls):
    """(demo, client) for an app on a free port of 127.0.0.1 over this test's workspace."""
    from gradio_client import Client

    from oracle.ui import create_app

    demo = create_app(workspace=workspace, generator="fake:x", embedder=tiny_embedder_path())
    with serve(demo) as url:
        client = Client(url, verbose=False)
        try:
            yield demo, client
        finally:
            client.close()


def _wait(client, api_name: str, *args, timeout_s: float = 120.0) -> str:
    """Poll a task status endpoint until its progress bar says the task finished; its HTML."""
    deadline = time.monotonic() + timeout_s
    while True:
        out = client.predict(*args, api_name=api_name)
        html = out[0] if isinstance(out, (list, tuple)) else out
        if 'data-state="completed"' in html:
            return html
        assert 'data-state="failed"' not in html, html
        assert time.monotonic() < deadline, f"{api_name} did not finish: {html}"
        time.sleep(0.3)


def _upload(client, *paths):
    from gradio_client import handle_file

    return client.predict([handle_file(str(p)) for p in paths], api_name="/upload")


def _text(content) -> str:
    """A chatbot message's text (gradio 6 sends content as a list of ``{"type", "text"}`` parts)."""
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))


def _rows(table) -> list[list]:
    return table["data"] if isinstance(table, dict) else table


def test_whole_loop_upload_qa_index_ask_rate(app, workspace, tmp_path, fake_calls):
    _, client = app
    pdf = make_pt_pdf(tmp_path)

    # 1. upload
    results, docs_table, _, _ = _upload(client, pdf)
    assert _rows(results) == [[pdf.name, _rows(results)[0][1]]] and _rows(results)[0][1].startswith("✅")
    (row,) = _rows(docs_table)
    assert row[0] == pdf.name and row[1] == 3 and row[3] == "pt" and row[4] == "não indexado"
    from oracle.ingest import list_documents

    (doc,) = list_documents(workspace)

    # 2. QA generation with the fake generator, as a background task with progress
    started = client.predict([doc.doc_id], "fake:x", "", "", "", 1, 2, api_name="/qa_generate")
    assert 'class="oracle-progress"' in started[0]
    html = _wait(client, "/qa_status", "")
    assert 'data-done="2" data-total="2"' in html
    table = client.predict("", api_name="/qa_table")
    questions = [r[3] for r in _rows(table)]
    assert questions == [QUESTION]  # 2 chunks asked, the duplicate dropped
    assert {r[5] for r in _rows(table)} == {"gerado"}
    pairs = [json.loads(line) for line in workspace.qa_file(doc.doc_id).read_text("utf-8").splitlines()]
    assert pairs[0]["generator"] == "fake:x" and pairs[0]["doc_id"] == doc.doc_id

    # a second run resumes: it generates for chunks not done yet
    from oracle.qa_generation import done_chunks

    first_run = done_chunks(workspace, doc.doc_id)
    client.predict([doc.doc_id], "fake:x", "", "", "", 1, 2, api_name="/qa_generate")
    _wait(client, "/qa_status", "")
    assert done_chunks(workspace, doc.doc_id) > first_run and len(first_run) == 2

    # review: approve the pair, then export the approved ones
    qa_id = _rows(table)[0][0]
    message, table = client.predict(qa_id, "", api_name="/qa_approve")
    assert _rows(table)[0][5] == "aprovado" and "1" in message
    exported = client.predict("", True, api_name="/qa_export")
    assert json.loads(Path(exported).read_text("utf-8").splitlines()[0])["status"] == "approved"

    # 3. index with the tiny embedder
    client.predict(tiny_embedder_path(), [], 256, 32, False, api_name="/index_build")
    html, _, stats = client.predict(api_name="/index_status")
    while 'data-state="completed"' not in html:
        assert 'data-state="failed"' not in html, html
        time.sleep(0.3)
        html, _, stats = client.predict(api_name="/index_status")
    assert "Trechos: **" in stats and "Dimensão dos vetores: **32**" in stats and "<details>" in stats
    hits = client.predict("valor total", 3, api_name="/search")
    assert _rows(hits) and _rows(hits)[0][2] == pdf.name

    # 4. ask: streamed answer with its sources (document, page)
    n_calls = len(fake_calls)
    # hybrid on (the default): with the tiny embedder only BM25 ranks the chunk that holds the
    # question's words, which the lexical relevance gate asks for
    chat, cleared = client.predict(
        QUESTION, [], "fake:x", "", "", "", "", 2, -1.0, True, 128, api_name="/ask"
    )
    assert cleared == {"__type__": "update"}  # the box was emptied when the question was taken; left as is
    assert len(fake_calls) == n_calls + 1
    assert [m["role"] for m in chat] == ["user", "assistant"]
    shown = _text(chat[1]["content"])
    assert shown.startswith(ANSWER)
    assert "**[1]**" in shown and pdf.name in shown and "p. " in shown

    # 5. rate 👍 with a comment: the rating lands in validated.jsonl with its citations
    status, fix, note = client.predict("", "resposta precisa", api_name="/rate_up")
    assert "anônimo" in status and QUESTION in status and fix == "" and note == ""
    (rating,) = [json.loads(line) for line in workspace.validated.read_text("utf-8").splitlines()]
    assert rating["question"] == QUESTION and rating["answer"] == ANSWER and rating["valid"] is True
    assert (
        rating["comment"] == "resposta precisa"
        and rating["model"] == "fake:x"
        and rating["user"] == "anonymous"
    )
    assert rating["citations"][0]["doc_name"] == pdf.name and rating["citations"][0]["page"] >= 1
    assert not workspace.invalid.exists()

    # the ratings tab shows it and offers the file
    counts, table, valid_file, invalid_file = client.predict("all", "", 50, api_name="/ratings")
    assert "**1** válidas" in counts and _rows(table)[0][3] == QUESTION
    import re

    when, who = _rows(table)[0][:2]  # local time, Brazilian order; the stored "anonymous" in Portuguese
    assert re.fullmatch(r"\d\d/\d\d/20\d\d \d\d:\d\d", when) and who == "anônimo"
    # the answer was logged, so the guide counts the "Perguntar" and "Avaliar" steps as done
    from oracle.onboarding import getting_started

    progress = getting_started(workspace)
    assert progress.step("ask").count == 1 and progress.step("rate").state == "done"
    valid_file, invalid_file = (
        f.get("value") if isinstance(f, dict) else f for f in (valid_file, invalid_file)
    )
    assert json.loads(Path(valid_file).read_text("utf-8"))["rating_id"] == rating["rating_id"]
    assert invalid_file is None

    # the chat stored the answer on the server; the rating names it and keeps every retrieved chunk
    (stored,) = [json.loads(line) for line in workspace.answers.read_text("utf-8").splitlines()]
    assert rating["answer_id"] == stored["answer_id"] and stored["text"] == ANSWER
    assert rating["retrieved_chunk_ids"] == [c["chunk_id"] for c in stored["sources"]]
    assert len(rating["retrieved_chunk_ids"]) == 2  # top-k 2: cited or not

    # 👎 on the same answer replaces the 👍 everywhere; the file keeps both lines
    client.predict("", "", api_name="/rate_down")
    counts, table, valid_file, invalid_file = client.predict("all", "", 50, api_name="/ratings")
    assert "**0** válidas · **1** inválidas · 1 no total · 1 substituídas" in counts
    assert [r[2] for r in _rows(table)] == ["👎"]
    valid_file, invalid_file = (f.get("value") if isinstance(f, dict) else f for f in (valid_file, invalid_file))
    assert valid_file is None and json.loads(Path(invalid_file).read_text("utf-8"))["answer_id"] == stored["answer_id"]
    assert len(workspace.validated.read_text("utf-8").splitlines()) == 1
    assert getting_started(workspace).n_ratings == 1


def test_bad_upload_keeps_the_good_file(app, workspace, tmp_path):
    _, client = app
    good, bad = make_pt_pdf(tmp_path), make_corrupt_pdf(tmp_path)

    results, docs_table, _, _ = _upload(client, bad, good)
    rows = {r[0]: r[1] for r in _rows(results)}
    assert rows[bad.name].startswith("❌") and bad.name in rows[bad.name] and "corrompido" in rows[bad.name]
    assert rows[good.name].startswith("✅")
    assert [r[0] for r in _rows(docs_table)] == [good.name]
    stored = sorted(p.name for p in workspace.documents.rglob("*") if p.is_file())
    assert bad.name not in stored and good.name in stored

    client.predict(tiny_embedder_path(), [], 256, 32, False, api_name="/index_build")
    _wait(client, "/index_status")
    from oracle.index import index_stats

    stats = index_stats(workspace)
    assert [d["name"] for d in stats["documents"]] == [good.name] and stats["n_chunks"] > 0
    assert not list(workspace.data_qa.glob("*.jsonl"))  # nothing else changed


def test_errors_are_short_messages_in_the_ui_language(app):
    from gradio_client.exceptions import AppError

    _, client = app
    with pytest.raises(AppError) as err:  # no index yet
        client.predict("Pergunta?", [], "fake:x", "", "", "", "", 2, -1.0, False, 64, api_name="/ask")
    assert "não existe" in str(err.value) and "Traceback" not in str(err.value)
    with pytest.raises(AppError) as err:
        client.predict("", "", api_name="/rate_up")
    assert "Ainda não há resposta para avaliar" in str(err.value)
    with pytest.raises(AppError) as err:
        client.predict([], "fake:x", "", "", "", 1, 1, api_name="/qa_generate")
    assert "Escolha ao menos um documento" in str(err.value)


def test_every_event_has_an_api_name(app):
    demo, _ = app
    unnamed = [fn.name for fn in demo.fns.values() if fn.api_name in (None, False, "")]
    assert unnamed == []


def test_labels_re_render_in_english():
    from oracle.ui import create_app
    from oracle.ui.context import translatable_components

    demo = create_app()
    found = {getattr(key, "key", ""): key.render("en") for _, props in translatable_components(demo)
             for key in props.values()}  # fmt: skip
    assert found["ui.tab.documents"] == "Documents" and found["ui.docs.upload"] == "Upload"
    assert found["ui.chat.send"] == "Ask"


def test_auth_from_environment(monkeypatch):
    from oracle.ui import launch_kwargs, parse_auth

    assert parse_auth("ana:s3:cr3t, bruno:xyz,broken") == [("ana", "s3:cr3t"), ("bruno", "xyz")]
    assert parse_auth("  ") is None
    monkeypatch.setenv("ORACLE_AUTH", "ana:pw")
    monkeypatch.setenv("ORACLE_MAX_UPLOAD_MB", "3")
    kwargs = launch_kwargs()
    assert kwargs["auth"] == [("ana", "pw")] and kwargs["max_file_size"] == 3 * 1024 * 1024
    assert kwargs["run_history"] is False  # gradio would keep every input, API keys included


def test_the_rating_user_comes_from_oauth_then_auth():
    """The Hugging Face profile wins over the ``launch(auth=...)`` user; else "anonymous"."""
    from oracle.ui.context import UIContext

    class Req:
        username = "ana"

    class Profile:
        username = "hf-user"

    assert UIContext.user(Req(), None) == "ana"
    assert UIContext.user(Req(), Profile()) == "hf-user"
    assert UIContext.user(None, None) == "anonymous"


def test_importing_the_app_does_not_import_torch(tmp_path):
    code = (
        "import sys, app; from oracle.ui import create_app; create_app();"
        "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers', 'faiss') if m in sys.modules))"
    )
    env = {**os.environ, "ORACLE_HOME": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


MODEL_LIBS = {"torch": "libtorch", "faiss": "_swigfaiss", "llama.cpp": "libllama", "tokenizers": "tokenizers."}
"""Model library -> substring of its shared object's path in ``/proc/<pid>/maps``."""


def test_page_is_served_before_any_model_loads(tmp_path):
    """``python app.py`` serves its page with no model library loaded (torch, faiss, llama.cpp,
    tokenizers: their shared objects are not mapped into the process when the page is served).

    How long the start takes is a benchmark, not a test: ``bench/bench_app_start.py`` measures it
    against a bare gradio app in the same run (figures in bench/RESULTS.md). The 120-s limit
    here only stops a hung start."""
    port = free_port()
    env = {**os.environ, "ORACLE_HOME": str(tmp_path), "GRADIO_SERVER_NAME": "127.0.0.1",
           "GRADIO_SERVER_PORT": str(port)}  # fmt: skip
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        while True:
            assert proc.poll() is None, proc.stderr.read()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as resp:
                    body = resp.read().decode("utf-8", "replace")
                    break
            except OSError:
                assert time.monotonic() - start < 120, "the page was not served within 120 s"
                time.sleep(0.1)
        maps = Path(f"/proc/{proc.pid}/maps").read_text()
        assert resp.status == 200 and "Oráculo" in body
        assert "python" in maps  # the maps of the right process were read
        assert [lib for lib, needle in MODEL_LIBS.items() if needle in maps] == []
    finally:
        proc.terminate()
        proc.wait(timeout=20)


# --- background tasks (oracle.jobs.threads) -------------------------------------------------


def test_task_reports_progress_and_result_to_its_status_file(workspace):
    import threading

    from oracle.jobs.threads import TaskRegistry

    registry = TaskRegistry(workspace, write_interval_s=0.0)
    gate = threading.Event()

    def work(progress):
        progress(0, 4, "start")
        progress(1, 4, "one")
        gate.wait(10)
        progress(4, 4, "all")
        return {"n": 4}

    status = registry.start("index", work, key="index:default")
    again = registry.start("index", work, key="index:default")  # a second click attaches
    assert again.job_id == status.job_id
    path = workspace.jobs / status.job_id / "status.json"
    deadline = time.monotonic() + 10
    while json.loads(path.read_text("utf-8"))["step"] < 1:  # written while the task runs
        assert time.monotonic() < deadline
        time.sleep(0.01)
    on_disk = json.loads(path.read_text("utf-8"))
    assert on_disk["state"] == "running" and on_disk["step"] == 1 and on_disk["total"] == 4
    assert registry.get(status.job_id).message == "one"
    gate.set()
    final = registry.wait(status.job_id, timeout_s=10)
    assert final.state == "completed" and final.result == {"n": 4} and final.fraction == 1.0
    # a new registry (a reloaded app) reads the finished task from disk
    assert TaskRegistry(workspace).latest("index").result == {"n": 4}


def test_task_failure_keeps_the_translated_message_and_cancel_stops_it(workspace):
    import threading

    from oracle.errors import IndexNotFoundError
    from oracle.jobs.threads import TaskRegistry

    registry = TaskRegistry(workspace)

    def fail(progress):
        raise IndexNotFoundError(name="default")

    failed = registry.wait(registry.start("index", fail).job_id, timeout_s=10)
    assert failed.state == "failed"
    assert "não existe" in failed.error_message("pt") and "does not exist" in failed.error_message("en")

    started = threading.Event()

    def loop(progress):
        for i in range(1000):
            progress(i, 1000, "")
            started.set()
            time.sleep(0.01)
        return {}

    task = registry.start("qa", loop)
    assert started.wait(10) and registry.cancel(task.job_id)
    assert registry.wait(task.job_id, timeout_s=10).state == "cancelled"
    assert not registry.cancel(task.job_id)


def test_task_left_running_by_a_dead_process_is_interrupted(workspace):
    from oracle.jobs import TASK_RUNNER, JobStatus
    from oracle.jobs.threads import TaskRegistry
    from oracle.schema import write_json_atomic

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    status = JobStatus(job_id="qa-000000000000", kind="qa", state="running", pid=int(dead.stdout), runner=TASK_RUNNER)
    write_json_atomic(workspace.jobs / status.job_id / "status.json", status)
    write_json_atomic(workspace.jobs / "job-x" / "status.json", {"state": "running"})  # not ours: untouched
    assert TaskRegistry(workspace).get(status.job_id).state == "interrupted"
    assert json.loads((workspace.jobs / "job-x" / "status.json").read_text())["state"] == "running"


def test_api_key_is_never_written_to_disk_or_logs(app, workspace, tmp_path, caplog):
    """An OpenAI-compatible server that refuses the connection: the task fails with a message
    naming the server, and the key typed in the page appears in no file and no log line."""
    import logging

    _, client = app
    caplog.set_level(logging.DEBUG)
    secret = "sk-test-NEVER-STORE-4242"
    _upload(client, make_pt_pdf(tmp_path))
    from oracle.ingest import list_documents

    (doc,) = list_documents(workspace)
    port = free_port()  # nothing listens there
    client.predict([doc.doc_id], "openai", f"http://127.0.0.1:{port}/v1", "some-model", secret, 1, 1,
                   api_name="/qa_generate")  # fmt: skip
    deadline = time.monotonic() + 120
    while True:
        html = client.predict("", api_name="/qa_status")[0]
        if 'data-state="failed"' in html:
            break
        assert 'data-state="completed"' not in html and time.monotonic() < deadline, html
        time.sleep(0.5)
    assert f"127.0.0.1:{port}" in html and secret not in html
    for path in workspace.home.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    assert secret not in caplog.text


def test_chat_gate_slider_follows_the_index(app, workspace):
    """The relevance-gate slider starts at the chat index's gate and follows it on show, unless moved."""
    from oracle.config import RAGConfig
    from oracle.index import VectorIndex
    from oracle.ui.chat import slider_gate

    _, client = app
    assert slider_gate(workspace, RAGConfig()) == 0.82  # no index yet: the default embedder's gate
    assert slider_gate(workspace, RAGConfig(min_score=-1.0)) == -1.0  # an explicit one wins
    ix = VectorIndex.create(tiny_embedder_path(), name="default")
    ix.add([])
    ix.save(workspace.index_dir("default"))  # the tiny embedder is unknown: gate 0.0
    # inputs: the slider's value, the gate last put there; the last output updates the slider
    out = client.predict(0.82, 0.82, api_name="/chat_show")
    assert out[-1]["value"] == 0.0
    out = client.predict(0.5, 0.82, api_name="/chat_show")  # the user moved the slider: left alone
    assert "value" not in out[-1]


# --- Avaliação tab (gold-set evaluation) -----------------------------------------------

#: The fake generator answers every question with ANSWER: the answerable question's key fact
#: is in it; the unanswerable one gets the same (wrong) answer unless the RAG guards refuse it.
EVAL_GOLD = [
    {"id": "a1", "question": QUESTION, "reference": "R$ 250.000,00", "keyfacts": [["250.000,00", "250 mil"]],
     "doc": "edital-12-2026.pdf", "page": 1, "answerable": True, "kind": "fact"},
    {"id": "u1", "question": "Qual é o valor do prêmio do concurso de fotografia de 2019?",
     "reference": "-", "keyfacts": [], "doc": "edital-12-2026.pdf", "page": None, "answerable": False,
     "kind": "offtopic"},
]  # fmt: skip


def _gold_file(folder: Path, items=EVAL_GOLD, name: str = "edital.gold.jsonl") -> Path:
    path = folder / name
    path.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
    return path


def test_evaluation_tab_scores_runs_side_by_side(app, workspace, tmp_path):
    """Upload a gold file (checked at once), evaluate the fake generator with and without RAG in
    the background, read the runs side by side in Portuguese, each answer, and the downloads;
    the report is shown again after a reload."""
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    _, client = app
    pdf = make_pt_pdf(tmp_path)
    gold = _gold_file(tmp_path)

    # the file is checked on upload: counts, or the clear error
    info = client.predict(handle_file(str(gold)), api_name="/eval_gold")
    assert "com resposta nos documentos: **1**" in info and "sem resposta: **1**" in info
    assert gold.name in info
    bad = tmp_path / "ruim.jsonl"
    bad.write_text('{"id": "x"}\n', encoding="utf-8")
    info = client.predict(handle_file(str(bad)), api_name="/eval_gold")
    assert info.startswith("❌") and "inválido" in info and "bench/gold/README.md" in info

    # no index yet: a Portuguese message pointing at the Índice tab, nothing started
    with pytest.raises(AppError) as err:
        client.predict(handle_file(str(gold)), ["fake:x"], ["rag"], 0, api_name="/eval_start")
    assert "aba Índice" in str(err.value) and "Traceback" not in str(err.value)
    with pytest.raises(AppError) as err:
        client.predict(handle_file(str(gold)), ["fake:x"], [], 0, api_name="/eval_start")
    assert "Marque ao menos um modo" in str(err.value)

    _upload(client, pdf)
    client.predict(tiny_embedder_path(), [], 256, 32, False, api_name="/index_build")
    _wait(client, "/index_status")

    started = client.predict(handle_file(str(gold)), ["fake:x"], ["rag", "norag"], 0, api_name="/eval_start")
    assert 'class="oracle-progress"' in started[0]
    _wait(client, "/eval_status")
    out = client.predict(api_name="/eval_status")
    bar, _, summary, table, json_file, md_file, run_choice, questions = out  # (the result box is layout)
    assert 'data-done="4" data-total="4"' in bar and "respostas" in bar  # 2 questions x 2 runs
    assert "Perguntas com resposta: **1** · sem resposta: **1**" in summary and gold.name in summary

    headers = table["headers"]
    assert headers == ["Medida", "RAG · fake:x", "Sem RAG · fake:x"]
    figures = {row[0]: row[1:] for row in _rows(table)}
    assert figures["fatos-chave"] == ["100%", "100%"]  # the fake always states the fact
    assert figures["recusas corretas"][1] == "0%"  # alone, the model answers the unanswerable one
    assert figures["hit@1"][1] == "–" and figures["MRR@10"][1] == "–"  # no retrieval without RAG
    assert figures["F1"][0].startswith("0,")  # decimal comma
    assert "fidelidade" in figures and "eco" in figures and "sem fonte" in figures

    # the per-question table of the first run says why
    assert questions["headers"][:4] == ["Pergunta", "Esperado", "Resposta", "Fatos-chave"]
    (a1, u1) = _rows(questions)
    assert a1[0] == QUESTION and a1[1] == "responder" and a1[3] == "✔" and a1[4] == "não"
    assert u1[1] == "recusar" and u1[3] == "–"
    assert run_choice["value"] == "RAG · fake:x"
    other = client.predict("Sem RAG · fake:x", api_name="/eval_questions")
    assert [r[4] for r in _rows(other)] == ["não", "não"] and _rows(other)[0][2].startswith("O valor total")

    # downloads: the JSON report, the Markdown table in Portuguese
    json_path, md_path = (f.get("value") if isinstance(f, dict) else f for f in (json_file, md_file))
    report = json.loads(Path(json_path).read_text("utf-8"))
    assert [r["label"] for r in report["runs"]] == ["RAG · fake:x", "Sem RAG · fake:x"]
    assert report["runs"][1]["summary"]["keyfact_accuracy"] == 1.0
    assert "| execução |" in Path(md_path).read_text("utf-8")
    folder = workspace.home / "eval" / "edital.gold"
    assert (folder / "report.json").is_file() and (folder / gold.name).is_file()

    # a reload shows the last report again
    loaded = client.predict(api_name="/eval_load")
    assert 'data-state="completed"' in loaded[2]
    assert loaded[5]["headers"] == headers and _rows(loaded[5]) == _rows(table)


def test_evaluation_figures_read_brazilian_and_folders_are_safe():
    from oracle.ui.evaluation import format_figure, safe_stem

    assert format_figure(0.625, "{:.0%}", "pt") == "62%" and format_figure(0.53, "{:.2f}", "pt") == "0,53"
    assert format_figure(0.53, "{:.2f}", "en") == "0.53" and format_figure(None, "{:.2f}", "pt") == "–"
    assert safe_stem("edital.gold.jsonl") == "edital.gold"
    assert safe_stem("../../etc/passwd.jsonl") == "passwd" and safe_stem("cache.jsonl") == "cache-gold"
    assert safe_stem("perguntas de teste (1).jsonl") == "perguntas-de-teste-1"


# --- first use (issue 11 U1-U8) ------------------------------------------------------


def test_upload_results_accumulate_and_deleting_asks_first(app, workspace, tmp_path):
    """Two uploads in one session: the second lists its file above the first one's; "Excluir
    documento" only asks (naming the document), "Sim, excluir" deletes."""
    from gradio_client import Client

    _, client = app
    good, bad = make_pt_pdf(tmp_path), make_corrupt_pdf(tmp_path)
    first, _, _, _ = _upload(client, good)
    second, _, _, _ = _upload(client, bad)
    rows = _rows(second)
    assert [r[0] for r in rows] == [bad.name, good.name] and rows[0][1].startswith("❌")
    assert rows[1][1] == _rows(first)[0][1]
    # another browser session starts with an empty list
    other = Client(client.src, verbose=False)
    try:
        fresh, _, _, _ = _upload(other, good)
        assert [r[0] for r in _rows(fresh)] == [good.name]
    finally:
        other.close()

    from oracle.ingest import list_documents

    (doc,) = list_documents(workspace)
    question, _ = client.predict(doc.doc_id, api_name="/delete_document_ask")  # (the row is layout)
    assert good.name in question and "Excluir" in question
    assert [d.doc_id for d in list_documents(workspace)] == [doc.doc_id]  # asking deletes nothing
    message, table, _ = client.predict(doc.doc_id, api_name="/delete_document")
    assert good.name in message and list_documents(workspace) == [] and _rows(table) == []


def test_getting_started_guide_follows_the_workspace(app, workspace, tmp_path):
    """The guide's step buttons and the tabs' notices as the page gets them (on load, on tab
    change, after an upload or a build): first "send documents" with the chat pointing back to
    Documentos, then "index" with the chat pointing at Índice, then nothing blocking the chat."""
    from oracle.ui.guide import guide_updates

    demo, client = app
    ctx = demo.oracle_ctx
    guide = ctx.components["guide"]
    tabs = list(guide.notices)
    assert tabs == ["documents", "qa", "index", "finetune", "chat", "ratings", "evaluation"]

    def shown():
        out = guide_updates(ctx, guide, "pt")
        steps, next_text, rest = out[:5], out[5], out[6:]
        notices = {tab: rest[3 * i: 3 * i + 3] for i, tab in enumerate(tabs)}
        return steps, next_text, notices

    steps, next_text, notices = shown()
    assert steps[0].value == "👉 1. Enviar" and steps[0].variant == "primary"
    assert steps[1].value == "⬜ 2. Indexar" and steps[1].variant == "secondary"
    assert "aba **Documentos**" in next_text
    row, text, button = notices["chat"]
    assert row.visible is True and "documentos" in text and button == "Ir para Documentos →"
    assert notices["documents"][0].visible is False  # Documentos needs nothing

    _upload(client, make_pt_pdf(tmp_path))
    steps, next_text, notices = shown()
    assert steps[0].value == "✅ 1. Enviar · 1 documento(s)" and steps[1].value == "👉 2. Indexar"
    row, text, button = notices["chat"]
    assert row.visible is True and "índice de busca" in text and button == "Ir para Índice →"
    assert notices["index"][0].visible is False and "Índice" in next_text

    client.predict(tiny_embedder_path(), [], 256, 32, False, api_name="/index_build")
    _wait(client, "/index_status")
    steps, next_text, notices = shown()
    assert steps[1].value.startswith("✅ 2. Indexar · ") and steps[2].value == "👉 3. Perguntar"
    assert notices["chat"][0].visible is False and "**Chat**" in next_text
    # the page is told in the session's language
    assert guide_updates(ctx, guide, "en")[2].value == "👉 3. Ask"


def test_page_sets_the_browser_locale_before_gradio_starts(app):
    """The HTML page carries, first in its <head>, the script that makes gradio's own texts
    Portuguese (navigator.language = pt-BR unless ?lang=en) and renames the toast titles; JSON
    routes are untouched. Browser side: tests/test_browser.py::test_screenshot_walk_in_portuguese."""
    import urllib.request

    _, client = app
    with urllib.request.urlopen(client.src, timeout=10) as resp:
        page = resp.read().decode("utf-8")
        length = int(resp.headers["Content-Length"])
    head = page[page.index("<head>"):]
    assert head.index("data-oracle-locale") < head.index('type="module"')  # before gradio's scripts
    assert '"pt": "pt-BR"' in page and '"Error": "Erro"' in page and len(page.encode("utf-8")) == length
    with urllib.request.urlopen(client.src.rstrip("/") + "/config", timeout=10) as resp:
        assert "data-oracle-locale" not in resp.read().decode("utf-8")


def test_brazilian_formats_and_plain_relevance():
    from oracle.i18n import format_datetime, format_money, format_number
    from oracle.ui.index_tab import relevance_level
    from oracle.ui.locale import inject_head

    assert format_number(1234567.891, "pt", 2) == "1.234.567,89" and format_number(1234.5, "en", 1) == "1,234.5"
    assert format_money(1234.5, "pt") == "R$ 1.234,50" and format_money(None, "pt") == "–"
    assert format_datetime("2026-05-02T17:03:09+00:00", "pt").count("/") == 2  # dd/mm/aaaa hh:mm, local time
    assert format_datetime("2026-05-02T17:03:09+00:00", "en").startswith("2026-05-0")
    assert format_datetime("ontem", "pt") == "ontem" and format_datetime(None, "pt") == ""
    # a cosine means something only against the index's gate: e5 scores ~0.87 with a gate of 0.82
    assert relevance_level(0.87, 0.82) == "high" and relevance_level(0.83, 0.82) == "medium"
    assert relevance_level(0.80, 0.82) == "low" and relevance_level(0.1, None) == "high"
    assert inject_head(b"<html><head><title>x</title>", "<script>s</script>") == (
        b"<html><head><script>s</script><title>x</title>"
    )
    assert inject_head(b"no head", "<script>s</script>") == b"no head"
    # progress bars count in Brazilian too (the attributes tests read stay plain)
    from oracle.config import Workspace
    from oracle.jobs import JobStatus
    from oracle.ui.context import UIContext
    from oracle.ui.widgets import progress_html

    running = JobStatus(job_id="index-000000000000", kind="index", state="running", total=5000, step=1234,
                        elapsed_s=3.0)  # fmt: skip
    bar = progress_html(UIContext(workspace=Workspace(Path.cwd())), running, "pt")
    assert "1.234 de 5.000 trechos" in bar and 'data-done="1234" data-total="5000"' in bar


def test_qa_table_fills_while_pairs_are_generated(app, workspace, tmp_path):
    """A generator that stalls on its second chunk: the review table already shows the first
    chunk's pair while the task is still running."""
    import threading

    from oracle.llm import FakeGenerator, register_generator

    gate, calls = threading.Event(), []

    def reply(messages):
        """A pair grounded in the chunk asked about (a fact of the notice it holds)."""
        calls.append(1)
        if len(calls) > 1:
            gate.wait(60)
        prompt = " ".join(m["content"] for m in messages)
        for question, fact in FACTS.items():
            if fact["evidence"] in prompt:
                pair = {"question": question, "answer": fact["answer"]}
                return json.dumps({"pairs": [pair]}, ensure_ascii=False)
        return QA_REPLY

    register_generator("slow", lambda model, adapter=None, **kw: FakeGenerator(fn=reply, name=f"slow:{model}"))
    _, client = app
    _upload(client, make_pt_pdf(tmp_path))
    from oracle.ingest import list_documents

    (doc,) = list_documents(workspace)
    client.predict([doc.doc_id], "slow:x", "", "", "", 1, 2, api_name="/qa_generate")
    deadline = time.monotonic() + 60
    try:
        while True:
            html, _, table = client.predict("", api_name="/qa_status")[:3]  # bar, timer, table
            assert 'data-state="running"' in html or 'data-state="queued"' in html, html
            rows = table.get("data") or [] if isinstance(table, dict) else []  # else: no update
            if rows:
                break
            assert time.monotonic() < deadline, "no pair shown while generating"
            time.sleep(0.3)
        assert len(rows) == 1 and rows[0][3] in FACTS and len(calls) == 2  # the second chunk still waits
    finally:
        gate.set()
    _wait(client, "/qa_status", "")


def test_chat_thumbs_show_the_ratings_of_the_workspace():
    """The chatbot's 👍/👎 highlight: one entry per assistant message, from the latest rating of
    its answer (so it survives a reload and follows the big buttons)."""
    from oracle.ui.chat import feedback_values

    messages = [{"role": "user", "content": "q1"}, {"role": "assistant", "content": "a1"},
                {"role": "user", "content": "q2"}, {"role": "assistant", "content": "a2"},
                {"role": "user", "content": "q3"}, {"role": "assistant", "content": "a3"}]  # fmt: skip
    answers = [{"index": 1, "answer": {"answer_id": "A"}}, {"index": 3, "answer": {"answer_id": "B"}},
               {"index": 5, "answer": {"answer_id": "C"}}]  # fmt: skip
    assert feedback_values(messages, answers, {"A": True, "B": False}) == ["Like", "Dislike", None]
    assert feedback_values(messages, [], {"A": True}) == [None, None, None]


def test_finetune_metrics_are_written_with_the_languages_decimal_mark():
    """The per-stage tab's metrics (losses, MRR@10, tokens/s) read "0,537" in Portuguese, "0.537" in English."""
    from oracle.ui.finetune import _fmt

    assert _fmt(0.53712, 3, "pt") == "0,537" and _fmt(0.53712, 3, "en") == "0.537"
    assert _fmt(2.5e-05, 2, "pt") == "2,5e-05"
    assert _fmt(None, 3, "pt") == _fmt(float("nan"), 3, "pt") == "–" and _fmt(12, 3, "pt") == "12"


def test_a_runaway_unsupported_claim_is_shown_cut():
    """The chat names the claims that made it discard an answer; a runaway number is cut to
    CLAIM_MAX_CHARS characters, so the notice stays readable."""
    from oracle.config import Workspace
    from oracle.schema import Answer
    from oracle.ui.chat import CLAIM_MAX_CHARS, render_answer
    from oracle.ui.context import UIContext

    runaway = "12.000" + ",000" * 60
    answer = Answer(question="Quanto custa?", text="Os documentos não contêm a resposta para esta pergunta.",
                    verdict="unsupported", unsupported=[runaway, "R$ 1.200"], grounded=False)
    shown = render_answer(UIContext(workspace=Workspace(Path.cwd())), answer, "pt")
    assert "“R$ 1.200”" in shown and runaway not in shown
    assert f"“{runaway[:CLAIM_MAX_CHARS - 1]}…”" in shown
    assert "não aparece(m) nas fontes" in shown


def test_an_answer_the_generator_judged_unanswerable_says_so():
    """The self-check's refusal (verdict unanswerable) tells the reader who refused, in Portuguese."""
    from oracle.config import Workspace
    from oracle.schema import Answer
    from oracle.ui.chat import render_answer
    from oracle.ui.context import UIContext

    answer = Answer(question="Qual é a senha padrão do root?", grounded=False, verdict="unanswerable",
                    text="Os documentos não contêm a resposta para esta pergunta.", p_answerable=0.41)
    shown = render_answer(UIContext(workspace=Workspace(Path.cwd())), answer, "pt")
    assert shown.startswith("ℹ️ O próprio modelo, relendo os trechos encontrados")
    assert shown.endswith("Os documentos não contêm a resposta para esta pergunta.")


def test_an_answer_refused_for_giving_no_email_says_what_was_missing():
    """Verdict no_email: the reader learns that the question asks for an e-mail address and the
    model's answer held none, in Portuguese, before the not-found sentence."""
    from oracle.config import Workspace
    from oracle.schema import Answer
    from oracle.ui.chat import render_answer
    from oracle.ui.context import UIContext

    answer = Answer(question="Qual é o e-mail da equipe de segurança?", grounded=False, verdict="no_email",
                    text="Os documentos não contêm a resposta para esta pergunta.",
                    draft="A equipe pode ser encontrada em http://security.debian.org/ [4].")
    shown = render_answer(UIContext(workspace=Workspace(Path.cwd())), answer, "pt")
    assert shown.startswith(
        "ℹ️ A pergunta pede um endereço de e-mail, e a resposta do modelo não trazia nenhum.")
    assert shown.endswith("Os documentos não contêm a resposta para esta pergunta.")


def test_while_the_model_reads_the_chat_names_the_passages_by_document_and_page():
    from oracle.config import Workspace
    from oracle.schema import Chunk, Hit, Retrieved
    from oracle.ui.chat import reading_message
    from oracle.ui.context import UIContext

    def hit(doc, start, end, rank):
        chunk = Chunk(chunk_id=f"{doc}:{rank}:x", doc_id=doc, doc_name=doc, text="…", page_start=start,
                      page_end=end, char_start=0, char_end=1)  # fmt: skip
        return Hit(chunk=chunk, score=0.9, rank=rank)

    hits = [hit("edital.pdf", 3, 3, 1), hit("manual.pdf", 7, 8, 2), hit("edital.pdf", 1, 1, 3),
            hit("edital.pdf", 3, 3, 4)]
    ctx = UIContext(workspace=Workspace(Path.cwd()))
    shown = reading_message(ctx, Retrieved(hits=hits), "pt")
    assert shown.startswith("Lendo os trechos encontrados (edital.pdf, p. 3, 1; manual.pdf, p. 7-8).")
    in_english = reading_message(ctx, Retrieved(hits=hits), "en")
    assert in_english.startswith("Reading the passages found (edital.pdf")


def test_a_second_answer_after_a_disputed_refusal_asks_to_check_the_source():
    """Verdict reconsidered (the model said 'not found', judged that the sources hold the answer,
    and answered again): the notice says so and points at the cited source."""
    from oracle.config import Workspace
    from oracle.schema import Answer, Citation
    from oracle.ui.chat import render_answer
    from oracle.ui.context import UIContext

    cited = Citation(n=1, doc_id="manual", doc_name="manual.pdf", page=40, chunk_id="manual:0:a",
                     snippet="O DNS é atualizado a partir do LDAP a cada hora.", verified=True)
    answer = Answer(question="De quanto em quanto tempo o DNS é atualizado?", verdict="reconsidered",
                    text="O DNS é atualizado a partir do LDAP a cada hora [1].", citations=[cited],
                    draft="Os documentos não contêm a resposta para esta pergunta.", p_answerable=0.6)
    shown = render_answer(UIContext(workspace=Workspace(Path.cwd())), answer, "pt")
    assert shown.startswith("ℹ️ O modelo primeiro respondeu que não encontrou a resposta")
    assert "Confira a fonte citada." in shown and "a cada hora [1]" in shown and "manual.pdf" in shown
