"""``oracle eval``: gold files, per-question scores, the run summary, resume, the CLI table.
The tiny embedder and a fake generator whose replies are chosen per question make every
figure computable by hand."""

from __future__ import annotations

import json

import pytest
from docs import make_pt_pdf
from tiny_embedder import tiny_embedder_dir  # noqa: F401

from oracle.config import RAGConfig
from oracle.errors import GoldError
from oracle.gold_eval import EvalRun, GoldItem, evaluate, load_gold, spread
from oracle.llm import FakeGenerator, register_generator
from oracle.rag import NOT_FOUND
from oracle.schema import Chunk

DOC = "edital-12-2026.pdf"

GOLD = [
    {"id": "g1", "question": "Qual é o valor total destinado ao edital?", "reference": "R$ 250.000,00",
     "keyfacts": [["250.000,00", "250 mil"]], "doc": DOC, "page": 1, "answerable": True},
    {"id": "g2", "question": "Quando será publicado o resultado final?", "reference": "15 de maio de 2026",
     "keyfacts": [["15 de maio"]], "doc": DOC, "page": 3, "answerable": True},
    {"id": "g3", "question": "Qual é o e-mail para dúvidas sobre o edital?",
     "reference": "cultura@saojoaodasaguas.example.gov.br",
     "keyfacts": [["cultura@saojoaodasaguas.example.gov.br"]], "doc": DOC, "page": 3, "answerable": True},
    {"id": "u1", "question": "Qual é o valor máximo por projeto aprovado do edital de 2025?", "reference": "-",
     "keyfacts": [], "doc": DOC, "page": None, "answerable": False},
    {"id": "u2", "question": "Quando será publicado o resultado da prova?", "reference": "-",
     "keyfacts": [], "doc": DOC, "page": None, "answerable": False},
]

#: question -> the fake model's reply: right; echo (then the same echo on retry); right but with a
#: name absent from the sources; an invented figure; the model's own "not found".
REPLIES = {
    "Qual é o valor total destinado ao edital?": "O valor total é de R$ 250.000,00.",
    "Quando será publicado o resultado final?": "Quando será publicado o resultado final?",
    "Qual é o e-mail para dúvidas sobre o edital?": "Escreva para cultura@saojoaodasaguas.example.gov.br.",
    "Qual é o valor máximo por projeto aprovado do edital de 2025?": "O valor máximo é R$ 31.000,00.",
    "Quando será publicado o resultado da prova?": NOT_FOUND["pt"],
}


def _reply(messages):
    user = messages[-1]["content"]
    for question, reply in REPLIES.items():
        if question in user:
            return reply
    return "Olá"


@pytest.fixture
def gold_file(tmp_path):
    make_pt_pdf(tmp_path)
    path = tmp_path / "edital.gold.jsonl"
    path.write_text("\n".join(json.dumps(g, ensure_ascii=False) for g in GOLD) + "\n", encoding="utf-8")
    return path


def test_load_gold_reads_items_and_names_the_bad_line(tmp_path, gold_file):
    items = load_gold(gold_file)
    assert [i.id for i in items] == ["g1", "g2", "g3", "u1", "u2"]
    assert items[0].keyfacts == [["250.000,00", "250 mil"]] and items[0].pages == {1}
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(GOLD[0]) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(GoldError, match="bad.jsonl:2"):
        load_gold(bad)
    bad.write_text(json.dumps({**GOLD[0], "keyfacts": ["250"]}) + "\n", encoding="utf-8")
    with pytest.raises(GoldError, match="keyfacts"):
        load_gold(bad)
    with pytest.raises(GoldError):
        load_gold(tmp_path / "missing.jsonl")


def test_relevance_by_page_or_evidence():
    item = GoldItem(id="x", question="q", doc=DOC, page=[2, 3], evidence="cinco dias úteis")
    chunk = Chunk(chunk_id="c", doc_id="d", doc_name=DOC, text="...", page_start=1, page_end=2,
                  char_start=0, char_end=3)
    assert item.relevant(chunk)
    chunk.page_end = 1
    assert not item.relevant(chunk)
    chunk.text = "Recursos em até CINCO dias uteis."
    assert item.relevant(chunk)
    chunk.doc_name = "outro.pdf"
    assert not item.relevant(chunk)


def test_retrieval_scores_by_hand():
    """hit@1, hit@5, MRR@10 over the answerable items, a hit relevant by page: first relevant at
    rank 1, at rank 3 (two chunks of the right page), at rank 7; a miss; the unanswerable item
    is not scored."""
    from oracle.gold_eval import retrieval_scores
    from oracle.schema import Hit

    def chunk(n, page, doc=DOC):
        return Chunk(chunk_id=f"c{n}", doc_id="d", doc_name=doc, text="...", page_start=page, page_end=page,
                     char_start=0, char_end=3)

    pages = {"q1": [1, 2, 3], "q2": [5, 6, 2, 2, 9], "q3": [9, 9, 9, 9, 9, 9, 4], "q4": [7, 8]}
    items = [GoldItem(id=q, question=q, doc=DOC, page=want) for q, want in
             (("q1", 1), ("q2", 2), ("q3", 4), ("q4", 1))] + [GoldItem(id="u", question="u", answerable=False)]

    class Fixed:
        def search_batch(self, questions, top_k=10, hybrid=False):
            assert "u" not in questions and top_k == 10
            return [[Hit(chunk=chunk(i, p), score=1.0, rank=i + 1) for i, p in enumerate(pages[q])] for q in questions]

    scores = retrieval_scores(items, Fixed(), hybrid=False)
    assert scores["n_retrieval"] == 4
    assert scores["hit@1"] == pytest.approx(1 / 4) and scores["hit@5"] == pytest.approx(2 / 4)
    assert scores["mrr@10"] == pytest.approx((1 + 1 / 3 + 1 / 7 + 0) / 4)

def test_sentences_cited_counts_the_claims_that_carry_a_source():
    """Two claims of three carry a ``[n]``; the bare list numbers "1." and "2." are no claims. An abstention
    has no sentence, and an unanswerable question's answer is not counted."""
    from oracle.gold_eval import score_row, summarize

    chunk = Chunk(chunk_id="e:0:a", doc_id="e", doc_name=DOC, page_start=1, page_end=1, char_start=0,
                  char_end=60, text="O valor total é de R$ 250.000,00. O prazo é 31 de março.")
    chunks = {chunk.chunk_id: chunk}
    item = GoldItem(id="a", question="Qual é o valor e o prazo?", keyfacts=[["250.000,00"]], doc=DOC, page=1)
    unanswerable = GoldItem(id="u", question="Qual é o salário?", doc=DOC, answerable=False)
    text = "O valor total é de R$ 250.000,00 [1]. 1. Ler o edital com calma. 2. O prazo é 31 de março [1]."
    result = {"text": text, "abstained": False, "sources": [chunk.chunk_id], "first_token_s": 1.0,
              "total_s": 2.0,
              "citations": [{"chunk_id": chunk.chunk_id, "quote": "O valor total é de R$ 250.000,00."}]}
    scores = score_row(item, result, chunks)
    assert (scores["sentences_cited"], scores["sentences_n"]) == (2, 3)
    refused = score_row(item, {**result, "text": NOT_FOUND["pt"], "abstained": True, "citations": []}, chunks)
    assert (refused["sentences_cited"], refused["sentences_n"]) == (0, 0)
    other = score_row(unanswerable, {**result, "text": "Não cito nada aqui."}, chunks)
    rows = [{"id": "a", "result": result, "scores": scores}, {"id": "u", "result": result, "scores": other}]
    summary = summarize([item, unanswerable], rows)
    assert summary["citation_coverage"] == pytest.approx(2 / 3)
    assert summary["citation_precision"] == 1.0


def test_spread_takes_items_across_the_file():
    items = [GoldItem(id=str(i), question="q") for i in range(10)]
    assert [i.id for i in spread(items, 3)] == ["0", "3", "6"]
    assert len(spread(items, 20)) == 10 and spread(items, 0) == []


def test_evaluate_scores_every_figure_and_resumes(tmp_path, gold_file, workspace, tiny_embedder_dir):  # noqa: F811
    calls = []

    def fn(messages):
        calls.append(messages)
        return _reply(messages)

    gen = FakeGenerator(fn=fn, name="fake:x")
    runs = [EvalRun(label="rag", generator="fake:x"), EvalRun(label="vanilla", generator="fake:x", mode="vanilla")]
    report = evaluate([gold_file], runs, out_dir=tmp_path / "out", embedder=tiny_embedder_dir,
                      workspace=workspace, generators={"fake:x": gen})
    rag, vanilla = (r["summary"] for r in report.runs)
    assert rag["n_answerable"] == 3 and rag["n_unanswerable"] == 2
    # g1 right; g2 echo -> retried (echo again) -> the sentence of the sources quoted, which holds
    # "15 de maio de 2026"; g3 right. u1's invented figure becomes "not found"; u2 is "not found".
    assert rag["keyfact_accuracy"] == 1.0
    assert rag["abstention"] == 1.0 and rag["over_abstention"] == 0.0
    assert rag["unsupported"] == 0.0 and rag["echo"] == 0.0
    rows = {r["id"]: r for r in report.rows["rag"]}
    assert rows["g2"]["result"]["verdict"] == "quoted"
    assert rows["u1"]["result"]["verdict"] == "unsupported"
    assert rows["u1"]["result"]["unsupported_guard"] == ["31.000,00"]
    # vanilla: no guards, so the echo stays (key fact missed) and the invented figure is answered
    assert vanilla["keyfact_accuracy"] == pytest.approx(2 / 3)
    assert vanilla["echo"] == pytest.approx(1 / 3)
    assert vanilla["abstention"] == 0.5
    assert vanilla["unsupported"] == pytest.approx(1 / 4)  # 4 answers not abstaining, 1 invents a figure
    # retrieval is scored on answerable questions by gold page; latencies are measured
    retrieval = report.runs[0]["retrieval"]
    assert retrieval["n_retrieval"] == 3 and 0.0 <= retrieval["mrr@10"] <= 1.0
    assert rag["answer_p50"] >= 0.0 and rag["first_token_p50"] <= rag["answer_p95"] + 1e-9
    # citations: every citation of an answer to an answerable question is a verified quote on the gold page
    assert rag["n_citations"] >= 2 and rag["citation_precision"] == 1.0
    md = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert "| rag |" in md and "| vanilla |" in md and "key facts" in md
    saved = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert [r["label"] for r in saved["runs"]] == ["rag", "vanilla"]

    # a second evaluation reuses the stored answers: the generator is not called again
    n_calls = len(calls)
    again = evaluate([gold_file], runs, out_dir=tmp_path / "out", embedder=tiny_embedder_dir,
                     workspace=workspace, generators={"fake:x": gen})
    assert len(calls) == n_calls
    assert again.runs[0]["summary"]["keyfact_accuracy"] == 1.0


def test_norag_baseline_has_no_retrieval(tmp_path, gold_file, workspace, tiny_embedder_dir):  # noqa: F811
    gen = FakeGenerator(fn=lambda m: "Não sei.", name="fake:x")
    report = evaluate([gold_file], [EvalRun(label="sem RAG", generator="fake:x", mode="norag")],
                      out_dir=tmp_path / "out", embedder=tiny_embedder_dir, workspace=workspace,
                      generators={"fake:x": gen})
    run = report.runs[0]
    assert run["retrieval"] == {} and run["summary"]["abstention"] == 1.0
    assert run["summary"]["over_abstention"] == 1.0 and run["summary"]["keyfact_accuracy"] == 0.0
    assert "| sem RAG | – | – | – |" in report.markdown()


def test_cli_eval_prints_the_table(tmp_path, gold_file, tiny_embedder_dir, capsys):  # noqa: F811
    from oracle.cli import main

    register_generator("fake", lambda model, adapter=None, **kw: FakeGenerator(fn=_reply, name=f"fake:{model}"))
    code = main(["--home", str(tmp_path / "home"), "eval", "--gold", str(gold_file), "--embedder",
                 tiny_embedder_dir, "--generator", "fake:x", "--mode", "rag", "--mode", "norag",
                 "--out", str(tmp_path / "cli-out")])
    out = capsys.readouterr().out
    assert code == 0
    assert "| rag |" in out and "| norag |" in out and "fatos-chave" in out
    assert (tmp_path / "cli-out" / "rows.jsonl").is_file()


def test_cli_eval_missing_document_is_a_clear_error(tmp_path, capsys):
    from oracle.cli import main

    path = tmp_path / "g.jsonl"
    path.write_text(json.dumps({**GOLD[0], "doc": "nao-existe.pdf"}) + "\n", encoding="utf-8")
    assert main(["--home", str(tmp_path / "home"), "eval", "--gold", str(path)]) == 2
    err = capsys.readouterr().err
    assert "nao-existe.pdf" in err and "--docs" in err


def test_retrieval_mode_scores_retrieval_without_generating(tmp_path, gold_file, workspace,
                                                            tiny_embedder_dir):  # noqa: F811
    def fail(messages):
        raise AssertionError("retrieval mode must not generate")

    runs = [EvalRun(label="dense", generator="fake:x", mode="retrieval", rag=RAGConfig(hybrid=False)),
            EvalRun(label="hybrid", generator="fake:x", mode="retrieval", rag=RAGConfig(hybrid=True))]
    report = evaluate([gold_file], runs, out_dir=tmp_path / "out", embedder=tiny_embedder_dir,
                      workspace=workspace, generators={"fake:x": FakeGenerator(fn=fail, name="fake:x")})
    dense, hybrid = report.runs
    assert dense["retrieval"]["n_retrieval"] == 3 and "keyfact_accuracy" not in dense["summary"]
    # BM25 ranks the pages holding the questions' words: hybrid finds all three gold pages in the top 5
    assert hybrid["retrieval"]["hit@5"] == 1.0
    assert "| dense | " in report.markdown() and " – |" in report.markdown()


def test_compare_tells_which_questions_changed_and_how(tmp_path, gold_file, workspace,
                                                       tiny_embedder_dir, capsys):  # noqa: F811
    """``oracle compare``: two evaluations question by question, from their --out folders; an older
    report without ``answerable`` in its scores takes it from the gold file it names."""
    from oracle.cli import main
    from oracle.gold_eval import compare_reports, read_report

    def refuses_g1(messages):
        asked = messages[-1]["content"].split("Pergunta:")[-1]
        return NOT_FOUND["pt"] if "valor total destinado" in asked else _reply(messages)

    for out, fn in (("before", _reply), ("after", refuses_g1)):
        evaluate([gold_file], [EvalRun(label="rag", generator="fake:x")], out_dir=tmp_path / out,
                 embedder=tiny_embedder_dir, workspace=workspace,
                 generators={"fake:x": FakeGenerator(fn=fn, name="fake:x")})
    comparison = compare_reports(read_report(tmp_path / "before"), read_report(tmp_path / "after" / "report.json"))
    assert comparison["n"] == 5
    transitions = {(x["before"], x["after"]): x["n"] for x in comparison["transitions"]}
    assert transitions == {("right", "right"): 2, ("right", "refused"): 1, ("abstained", "abstained"): 2}
    assert [c["id"] for c in comparison["changed"]] == ["g1"]
    assert "250.000,00" in comparison["changed"][0]["before_text"]
    assert comparison["changed"][0]["after_text"] == NOT_FOUND["pt"]

    # a report written before the scores said which questions are answerable
    old = json.loads((tmp_path / "before" / "report.json").read_text(encoding="utf-8"))
    for row in old["rows"]["rag"]:
        del row["scores"]["answerable"]
    old["gold"] = [str(gold_file)]
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "report.json").write_text(json.dumps(old), encoding="utf-8")
    assert compare_reports(read_report(tmp_path / "old"), read_report(tmp_path / "after"))["transitions"] == \
        comparison["transitions"]

    assert main(["compare", str(tmp_path / "before"), str(tmp_path / "after")]) == 0
    out = capsys.readouterr().out
    assert "| certa | recusada (tinha resposta) | 1 |" in out and "**g1**" in out
    assert main(["compare", str(tmp_path / "before"), str(tmp_path / "after"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["changed"][0]["id"] == "g1"
    # a run label the report does not have: the error lists the ones it has
    assert main(["compare", str(tmp_path / "before"), str(tmp_path / "after"), "--run", "rag", "vanila"]) == 2
    assert "'vanila'" in (err := capsys.readouterr().err) and "rag" in err
    # not an evaluation folder: a clear error that says what to give
    assert main(["compare", str(tmp_path), str(tmp_path / "after")]) == 2
    assert "report.json" in capsys.readouterr().err
    with pytest.raises(GoldError):
        read_report(tmp_path / "missing")


def test_the_shipped_gold_sets_load_and_their_ids_are_unique():
    """Every set in bench/gold/ parses (:func:`load_gold` raises on a malformed line) with ids
    unique across sets, so that any of them can be pooled in one ``oracle eval`` run; the
    Portuguese sets each hold answerable and unanswerable questions."""
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "bench" / "gold"
    sets = sorted(folder.glob("*.jsonl"))
    assert len(sets) >= 7
    ids: list[str] = []
    for path in sets:
        items = load_gold(path)
        assert items, path.name
        ids += [i.id for i in items]
        if path.name.endswith(".pt.jsonl") and not path.name.startswith("polar-"):
            assert any(i.answerable for i in items) and any(not i.answerable for i in items), path.name
    assert len(ids) == len(set(ids))


def test_the_eval_index_cache_is_keyed_on_the_indexing_code(tmp_path, monkeypatch):
    """A change of how chunks are embedded (oracle/index.py) must not reuse an index built by the
    old code: the cached workspace's key changes with that module's bytes, as with ingest's and
    chunking's, and not otherwise."""
    from pathlib import Path

    import oracle.index
    from oracle.config import ChunkingConfig
    from oracle.gold_eval import eval_workspace

    doc = tmp_path / "a.txt"
    doc.write_text("Um documento.", encoding="utf-8")
    files = {"a.txt": doc}
    first = eval_workspace(tmp_path / "cache", files, "emb", ChunkingConfig())
    assert eval_workspace(tmp_path / "cache", files, "emb", ChunkingConfig()).home == first.home
    changed = tmp_path / "index.py"
    changed.write_bytes(Path(oracle.index.__file__).read_bytes() + b"\n# changed\n")
    monkeypatch.setattr(oracle.index, "__file__", str(changed))
    assert eval_workspace(tmp_path / "cache", files, "emb", ChunkingConfig()).home != first.home
