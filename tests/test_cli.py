"""The command line drives the same core as the app: every stage end to end, offline,
with a fake generator and the tiny embedder."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from oracle.cli import main
from tiny_embedder import tiny_embedder_path
from docs import FACTS, make_corrupt_pdf, make_pt_pdf

QA_REPLY = json.dumps({"pairs": [{"question": "Qual é o valor total destinado ao edital?",
                                  "answer": "R$ 250.000,00"}]}, ensure_ascii=False)


def _fake_reply(messages):
    text = " ".join(m["content"] for m in messages)
    if "pairs" in text:  # the QA-generation prompt asks for {"pairs": [...]}
        return QA_REPLY
    return "O valor total é R$ 250.000,00 [1]."


@pytest.fixture
def fake_generator():
    from oracle.llm import FakeGenerator, register_generator

    calls = []

    def factory(model, adapter=None, **kw):
        def fn(messages):
            calls.append(messages)
            return _fake_reply(messages)
        return FakeGenerator(fn=fn, name=f"fake:{model}")

    register_generator("fake", factory)
    return calls


@pytest.mark.parametrize("command", ["ingest", "qa", "index", "ask", "rate", "demo"])
def test_every_subcommand_has_help(command):
    out = subprocess.run([sys.executable, "-m", "oracle", command, "--help"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "usage: python -m oracle " + command in out.stdout


def test_help_does_not_import_torch():
    code = "import sys; from oracle.cli import build_parser; build_parser(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False"


def test_whole_chain_from_the_command_line(tmp_path, workspace, fake_generator, capsys):
    pdf = make_pt_pdf(tmp_path)
    bad = make_corrupt_pdf(tmp_path)
    home = ["--home", str(workspace.home)]
    embedder = tiny_embedder_path()

    assert main(home + ["ingest", str(pdf), str(bad)]) == 1  # one failed, one ingested
    out = capsys.readouterr()
    assert bad.name in out.err and pdf.name in out.out

    assert main(home + ["qa", "--generator", "fake:x", "--max-chunks", "5"]) == 0
    pairs = [json.loads(line) for f in workspace.data_qa.glob("*.qa.jsonl") for line in f.open()]
    assert pairs and all(p["generator"] == "fake:x" for p in pairs)
    assert pairs[0]["question"] in FACTS and pairs[0]["page"] == 1

    assert main(home + ["index", "--embedder", embedder]) == 0
    assert (workspace.index_dir() / "index.faiss").exists()
    capsys.readouterr()

    assert main(home + ["ask", "Qual é o valor total destinado ao edital?", "--generator", "fake:x",
                        "--min-score", "-1", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["text"].endswith("[1].") and answer["citations"][0]["n"] == 1
    assert answer["citations"][0]["doc_name"] == pdf.name

    assert main(home + ["rate", "last", "valid", "--comment", "ok", "--user", "ana"]) == 0
    rows = [json.loads(line) for line in workspace.validated.open()]
    assert len(rows) == 1 and rows[0]["user"] == "ana" and rows[0]["answer_id"] == answer["answer_id"]
    assert rows[0]["citations"][0]["page"] == answer["citations"][0]["page"]

    assert main(home + ["rate", "nope", "invalid"]) == 2
    assert not workspace.invalid.exists()


def test_errors_are_one_line_in_portuguese(workspace, capsys):
    assert main(["--home", str(workspace.home), "ask", "?", "--name", "missing"]) == 2
    err = capsys.readouterr().err
    assert "não existe" in err and "Traceback" not in err
