"""End to end on the real bundled models (multilingual-e5-small, Qwen2.5-Coder-0.5B-Instruct)
and a real Portuguese PDF made by the tests: `python -m oracle demo` as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from docs import FACTS, make_pt_pdf

pytestmark = pytest.mark.slow


def test_demo_answers_in_portuguese_citing_the_right_page(tmp_path):
    from oracle.ingest import detect_language

    pdf = make_pt_pdf(tmp_path)
    home = tmp_path / "ws"
    question = "Quais documentos a associação deve apresentar na inscrição?"
    env = dict(os.environ, ORACLE_LANG="pt", HF_HUB_OFFLINE="1")
    out = subprocess.run(
        [sys.executable, "-m", "oracle", "--home", str(home), "demo", str(pdf), "--question", question,
         "--max-chunks", "3"],
        capture_output=True, text=True, timeout=1500, env=env,
    )
    assert out.returncode == 0, out.stderr[-3000:]

    pairs = [json.loads(line) for f in (home / "data_qa").glob("*.qa.jsonl") for line in f.open()]
    assert pairs, out.stdout
    assert all(p["generator"] == "local:qwen2.5-coder-0.5b-instruct" for p in pairs)
    languages = [detect_language(p["question"] + " " + p["answer"]) for p in pairs]
    assert languages.count("pt") >= len(pairs) * 0.8, languages

    index_info = json.loads((home / "indexes" / "default" / "index.json").read_text())
    assert index_info["embedder"] == "multilingual-e5-small"

    answers = [json.loads(line) for line in (home / "data_qa" / "answers.jsonl").open()]
    answer = answers[-1]
    assert answer["grounded"] and detect_language(answer["text"]) == "pt", answer["text"]
    expected_page = FACTS[question]["page"]
    assert answer["sources"][0]["page"] == expected_page  # retriever ranks the right page first
    assert any(c["page"] == expected_page for c in answer["citations"]), answer
    assert "certidão" in answer["text"].lower() or "estatuto" in answer["text"].lower(), answer["text"]
