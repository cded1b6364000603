"""QA generation: parsing, repair, retries, filters, deduplication, resume, files.

Driven by FakeGenerator (canned replies), so every case is exact and fast. One slow test
runs the real bundled generator on a Portuguese chunk.
"""

from __future__ import annotations

import json

import pytest
from tiny_lm import tiny_lm_dir  # noqa: F401

from oracle.config import QAConfig
from oracle.errors import GenerationError
from oracle.llm import FakeGenerator
from oracle.qa_generation import (
    QA_SCHEMA,
    QAParseError,
    done_chunks,
    done_file,
    generate_qa,
    is_grounded,
    load_qa,
    normalize_question,
    parse_qa_reply,
    qa_messages,
    save_qa,
)
from oracle.schema import Chunk, Document, Page, QAPair, read_jsonl

TEXTS = [
    ("A inscrição no programa de bolsas deve ser feita até 15 de março pelo portal da universidade. "
     "O candidato precisa anexar o histórico escolar e uma carta de motivação."),
    ("O resultado da seleção será publicado no dia 30 de abril. Os aprovados assinam o termo de "
     "compromisso na secretaria do departamento, que funciona das 9h às 17h."),
    ("A bolsa tem valor mensal de 700 reais e duração de doze meses. O pagamento é feito por depósito "
     "em conta corrente no nome do bolsista."),
]

PAIRS = [
    [("Até quando deve ser feita a inscrição no programa de bolsas?", "Até 15 de março, pelo portal da universidade."),
     ("Quais documentos o candidato precisa anexar?", "O histórico escolar e uma carta de motivação.")],
    [("Quando será publicado o resultado da seleção?", "No dia 30 de abril."),
     ("Onde os aprovados assinam o termo de compromisso?", "Na secretaria do departamento.")],
    [("Qual é o valor mensal da bolsa?", "700 reais por mês."),
     ("Como é feito o pagamento da bolsa?", "Por depósito em conta corrente no nome do bolsista.")],
]


def reply(pairs) -> str:
    return json.dumps({"pairs": [{"question": q, "answer": a} for q, a in pairs]}, ensure_ascii=False)


def make_doc(language: str = "pt") -> tuple[Document, list[Chunk]]:
    pages = [Page(number=i + 1, text=t) for i, t in enumerate(TEXTS)]
    doc = Document(doc_id="edital-1234abcd", name="edital.pdf", sha256="0" * 64, pages=pages,
                   language=language, kind="pdf")
    chunks, offset = [], 0
    for i, text in enumerate(TEXTS):
        chunks.append(Chunk(chunk_id=f"{doc.doc_id}:{offset}:{i:08x}", doc_id=doc.doc_id, doc_name=doc.name,
                            text=text, page_start=i + 1, page_end=i + 1, char_start=offset,
                            char_end=offset + len(text), n_tokens=50, language=language))
        offset += len(text) + 2
    return doc, chunks


def by_chunk(pairs_per_chunk):
    """A fn(messages) that answers with the canned pairs of the chunk quoted in the prompt."""

    def fn(messages):
        user = messages[-1]["content"]
        for text, pairs in zip(TEXTS, pairs_per_chunk):
            if text in user:
                return reply(pairs)
        raise AssertionError("prompt does not quote a known chunk")

    return fn


CFG = QAConfig(pairs_per_chunk=2, max_retries=2, temperature=0.0, min_chunk_tokens=10)


# --- parsing -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '{"pairs": [{"question": "Qual é o prazo?", "answer": "15 de março."}]}',
        'Claro! Aqui estão os pares:\n```json\n{"pairs": [{"question": "Qual é o prazo?", "answer": "15 de março."}]}\n```\nEspero ter ajudado.',
        'Resposta: {"pairs": [{"question": "Qual é o prazo?", "answer": "15 de março."}]} Fim.',
        "{'pairs': [{'question': 'Qual é o prazo?', answer: '15 de março.',},]}",  # broken: json_repair
        '[{"pergunta": "Qual é o prazo?", "resposta": "15 de março."}]',  # bare list, Portuguese keys
    ],
)
def test_parse_accepts_valid_fenced_and_repairable(text):
    assert parse_qa_reply(text) == [{"question": "Qual é o prazo?", "answer": "15 de março."}]


@pytest.mark.parametrize(
    "text",
    ["", "Não sei.", '{"pairs": []}', '{"pairs": [{"question": "Qual?"}]}', '{"pairs": "nenhum"}',
     '{"pairs": [{"question": 3, "answer": "x"}]}'],
)
def test_parse_rejects_invalid(text):
    with pytest.raises(QAParseError):
        parse_qa_reply(text)


def test_parse_cut_off_reply_drops_last_pair():
    text = '{"pairs": [{"question": "Qual é o prazo?", "answer": "15 de março."}, {"question": "Qual o val'
    assert parse_qa_reply(text) == [{"question": "Qual é o prazo?", "answer": "15 de março."}]


class EndlessGenerator:
    """Streams a JSON reply with 1000 pairs and then prose; records how much was consumed."""

    name = "endless"
    adapter = None

    def __init__(self, prose_only_after: bool = False):
        self.consumed = 0
        self.closed = False
        self.prose_only_after = prose_only_after

    def stream(self, messages, max_new_tokens=256, temperature=0.0):
        try:
            head = '```json\n{"pairs": ['
            yield head
            n = 2 if self.prose_only_after else 1000
            for i in range(n):
                q = f"Qual é o item {{número}} [{i}] da lista de documentos exigidos?"
                self.consumed += 1
                yield ("" if i == 0 else ", ") + json.dumps({"question": q, "answer": "O histórico escolar."},
                                                           ensure_ascii=False)
            yield "]}\n```\n"
            for _ in range(1000):
                self.consumed += 1
                yield "Espero ter ajudado! "
        finally:
            self.closed = True

    def generate(self, messages, max_new_tokens=256, temperature=0.0):
        return "".join(self.stream(messages, max_new_tokens, temperature))


def test_streaming_stops_after_requested_pairs(workspace):
    doc, chunks = make_doc()
    gen = EndlessGenerator()
    report = generate_qa(doc, gen, workspace, cfg=CFG, chunks=chunks[:1])
    assert [p.question for p in report.pairs] == [
        "Qual é o item {número} [0] da lista de documentos exigidos?",
        "Qual é o item {número} [1] da lista de documentos exigidos?",
    ]  # brackets inside strings did not confuse the watcher
    assert gen.consumed == 2 and gen.closed


def test_streaming_stops_at_end_of_json(workspace):
    doc, chunks = make_doc()
    gen = EndlessGenerator(prose_only_after=True)
    cfg = QAConfig(pairs_per_chunk=3, min_chunk_tokens=10)
    report = generate_qa(doc, gen, workspace, cfg=cfg, chunks=chunks[:1])
    assert len(report.pairs) == 2 and gen.consumed == 2 and gen.closed


def test_schema_is_a_valid_json_schema():
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(QA_SCHEMA)


def test_normalize_question_and_grounding():
    assert normalize_question("  Qual é o PRAZO da inscrição?! ") == normalize_question("qual e o prazo da inscricao")
    assert normalize_question("Qual é o prazo?") != normalize_question("Qual é o valor?")
    assert is_grounded("O histórico escolar e a carta de motivação.", TEXTS[0])
    assert not is_grounded("Paris é a capital da França.", TEXTS[0])
    assert not is_grounded("Sim.", TEXTS[0])


def test_prompt_language_and_count():
    _, chunks = make_doc("pt")
    pt = qa_messages(chunks[0], 3)
    assert [m["role"] for m in pt] == ["system", "user"]
    assert "exatamente 3 pares" in pt[1]["content"] and "português" in pt[1]["content"]
    assert chunks[0].text in pt[1]["content"]
    en_chunk = Chunk.from_dict({**chunks[0].to_dict(), "language": "en", "text": "The grant pays 700 reais."})
    en = qa_messages(en_chunk, 2)
    assert "exactly 2 question and answer pairs in English" in en[1]["content"]
    und = qa_messages(Chunk.from_dict({**chunks[0].to_dict(), "language": "und"}), 2)
    assert "português" in und[1]["content"]


# --- generation --------------------------------------------------------------------


def test_generates_pairs_with_provenance(workspace):
    doc, chunks = make_doc()
    gen = FakeGenerator(fn=by_chunk(PAIRS), name="fake:model")
    seen = []
    report = generate_qa(doc, gen, workspace, cfg=CFG, chunks=chunks, progress=lambda d, t, s: seen.append((d, t, s)))

    assert report.n_done == 3 and report.n_invalid == 0 and report.n_duplicates == 0
    assert len(report.pairs) == 6 and len(gen.calls) == 3
    assert [d for d, _, _ in seen] == [0, 1, 2, 3] and all(t == 3 for _, t, _ in seen)
    assert all(isinstance(s, str) and s for _, _, s in seen)

    path = workspace.qa_file(doc.doc_id)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 6
    rows = [json.loads(line) for line in lines]  # valid JSONL
    for row, chunk_i in zip(rows, [0, 0, 1, 1, 2, 2]):
        pair = QAPair.from_dict(row)
        assert pair.generator == "fake:model"
        assert pair.chunk_id == chunks[chunk_i].chunk_id
        assert pair.page == chunks[chunk_i].page_start == chunk_i + 1
        assert pair.doc_id == doc.doc_id and pair.doc_name == "edital.pdf"
        assert pair.language == "pt" and pair.status == "generated"
    assert [(p.question, p.answer) for p in load_qa(workspace, doc.doc_id)] == [qa for ps in PAIRS for qa in ps]


def test_invalid_then_valid_on_retry_with_higher_temperature(workspace):
    doc, chunks = make_doc()
    gen = FakeGenerator(replies=['{"pairs": [{"question": "sem resposta"}]}', "desculpe, não consigo", reply(PAIRS[0])])
    report = generate_qa(doc, gen, workspace, cfg=CFG, chunks=chunks[:1])
    assert len(report.pairs) == 2 and report.n_invalid == 0 and report.n_retries == 2
    temps = [kw["temperature"] for kw in gen.call_kwargs]
    assert temps[0] == 0.0 and temps[0] < temps[1] < temps[2]


def test_always_invalid_is_dropped_counted_and_not_redone(workspace):
    doc, chunks = make_doc()
    gen = FakeGenerator(fn=lambda m: "não é JSON")
    report = generate_qa(doc, gen, workspace, cfg=CFG, chunks=chunks[:2])
    assert report.pairs == [] and report.n_invalid == 2 and report.n_done == 2
    assert len(gen.calls) == 2 * (CFG.max_retries + 1)
    assert load_qa(workspace, doc.doc_id) == []
    marks = read_jsonl(done_file(workspace, doc.doc_id))
    assert [(m["chunk_id"], m["n_pairs"], m["n_invalid"]) for m in marks] == [(c.chunk_id, 0, 1) for c in chunks[:2]]

    again = FakeGenerator(fn=lambda m: "não é JSON")
    report2 = generate_qa(doc, again, workspace, cfg=CFG, chunks=chunks[:2])
    assert again.calls == [] and report2.n_skipped == 2


def test_filters_short_ungrounded_trivial_and_text_referring_pairs(workspace):
    doc, chunks = make_doc()
    cases = [  # (question, answer, kept)
        ("Prazo?", "15 de março.", False),  # too short
        ("Qual é a capital da França?", "Paris é a capital da França.", False),  # not grounded
        ("Segundo o texto, o que o candidato anexa?", "O histórico escolar.", False),  # refers to the text
        ("Qual é a carta que o candidato anexa?", "A carta de motivação.", True),  # "motivação" is new
        ("Qual é o nome do portal da universidade?", "Portal da universidade.", False),  # trivial
        ("Quais documentos o candidato precisa anexar?", "O histórico escolar e uma carta de motivação.", True),
    ]
    gen = FakeGenerator(replies=[reply([(q, a) for q, a, _ in cases])])
    report = generate_qa(doc, gen, workspace, cfg=QAConfig(pairs_per_chunk=6, min_chunk_tokens=10), chunks=chunks[:1])
    assert [p.question for p in report.pairs] == [q for q, _, kept in cases if kept]
    assert report.n_rejected == sum(not kept for _, _, kept in cases)


def test_duplicates_removed_within_run_and_against_file(workspace):
    doc, chunks = make_doc()
    q = PAIRS[0][0][0]
    existing = QAPair(question=q, answer="Até 15 de março.", doc_id=doc.doc_id, doc_name=doc.name,
                      chunk_id="other", page=1, language="pt", generator="earlier")
    save_qa(workspace, doc.doc_id, [existing])
    variants = [
        # chunk 0: the file's question in other case/accents/punctuation, and a new one
        [(q.upper().replace("Ç", "C").rstrip("?") + " ?", "Até 15 de março."), PAIRS[0][1]],
        # chunk 1: a new one, and chunk 0's new question again (within the run)
        [PAIRS[1][0], (PAIRS[0][1][0].lower(), "O histórico escolar e uma carta de motivação.")],
    ]
    # the second chunk's repeat must be grounded in its own chunk to reach the dedup step
    chunks[1] = Chunk.from_dict({**chunks[1].to_dict(), "text": chunks[1].text + " " + TEXTS[0]})
    texts = [chunks[0].text, chunks[1].text]

    def fn(messages):
        # chunk 1's text contains chunk 0's: test the longer one first
        i = 1 if texts[1] in messages[-1]["content"] else 0
        return reply(variants[i])

    report = generate_qa(doc, FakeGenerator(fn=fn), workspace, cfg=CFG, chunks=chunks[:2])
    assert report.n_duplicates == 2
    assert [p.question for p in report.pairs] == [PAIRS[0][1][0], PAIRS[1][0][0]]
    stored = [normalize_question(p.question) for p in load_qa(workspace, doc.doc_id)]
    assert len(stored) == len(set(stored)) == 3


def test_resume_generates_only_new_chunks(workspace):
    doc, chunks = make_doc()
    first = FakeGenerator(fn=by_chunk(PAIRS))
    r1 = generate_qa(doc, first, workspace, cfg=CFG, chunks=chunks, max_chunks=1)
    assert len(first.calls) == 1 and r1.n_done == 1 and len(r1.pairs) == 2
    assert done_chunks(workspace, doc.doc_id) == {chunks[1].chunk_id}  # spread: the middle one of 3

    second = FakeGenerator(fn=by_chunk(PAIRS))
    r2 = generate_qa(doc, second, workspace, cfg=CFG, chunks=chunks)
    assert len(second.calls) == 2 and r2.n_skipped == 1 and r2.n_done == 2
    assert all(chunks[1].text not in m[-1]["content"] for m in second.calls)
    assert len(load_qa(workspace, doc.doc_id)) == 6

    third = FakeGenerator(fn=by_chunk(PAIRS))
    r3 = generate_qa(doc, third, workspace, cfg=CFG, chunks=chunks)
    assert third.calls == [] and r3.n_skipped == 3 and r3.pairs == []


def test_interrupted_run_keeps_finished_chunks(workspace):
    doc, chunks = make_doc()
    gen = FakeGenerator(replies=[reply(PAIRS[0])])  # the second call raises GenerationError
    with pytest.raises(GenerationError):
        generate_qa(doc, gen, workspace, cfg=CFG, chunks=chunks)
    assert [p.chunk_id for p in load_qa(workspace, doc.doc_id)] == [chunks[0].chunk_id] * 2

    rest = FakeGenerator(fn=by_chunk(PAIRS))
    report = generate_qa(doc, rest, workspace, cfg=CFG, chunks=chunks)
    assert len(rest.calls) == 2 and report.n_skipped == 1
    assert len(load_qa(workspace, doc.doc_id)) == 6


def test_chunk_with_pairs_but_no_done_mark_is_not_redone(workspace):
    doc, chunks = make_doc()
    generate_qa(doc, FakeGenerator(fn=by_chunk(PAIRS)), workspace, cfg=CFG, chunks=chunks[:1])
    done_file(workspace, doc.doc_id).unlink()  # as if killed between the two appends
    gen = FakeGenerator(fn=by_chunk(PAIRS))
    generate_qa(doc, gen, workspace, cfg=CFG, chunks=chunks[:1])
    assert gen.calls == []


def test_short_chunks_skipped(workspace):
    doc, chunks = make_doc()
    short = Chunk.from_dict({**chunks[0].to_dict(), "n_tokens": 5})
    gen = FakeGenerator(fn=by_chunk(PAIRS))
    report = generate_qa(doc, gen, workspace, cfg=CFG, chunks=[short, chunks[1]])
    assert report.n_short == 1 and report.n_done == 1 and len(gen.calls) == 1
    assert {p.chunk_id for p in report.pairs} == {chunks[1].chunk_id}


def test_extra_pairs_capped_at_requested(workspace):
    doc, chunks = make_doc()
    many = PAIRS[0] + [("Por qual portal a inscrição deve ser feita?", "Pelo portal da universidade.")]
    report = generate_qa(doc, FakeGenerator(replies=[reply(many)]), workspace, cfg=CFG, chunks=chunks[:1])
    assert len(report.pairs) == CFG.pairs_per_chunk


def test_load_all_ignores_other_files_and_save_rewrites(workspace):
    doc, chunks = make_doc()
    generate_qa(doc, FakeGenerator(fn=by_chunk(PAIRS)), workspace, cfg=CFG, chunks=chunks[:1])
    other = QAPair(question="Qual é o valor mensal da bolsa?", answer="700 reais.", doc_id="outro-99",
                   doc_name="outro.txt", chunk_id="outro-99:0:0", page=1, language="pt", generator="x")
    save_qa(workspace, "outro-99", [other.to_dict()])
    (workspace.data_qa / "validated.jsonl").write_text('{"question": "not a QA pair"}\n', encoding="utf-8")
    assert len(load_qa(workspace)) == 3
    assert load_qa(workspace, "missing") == []

    pairs = load_qa(workspace, doc.doc_id)
    pairs[0].answer = "Até 15 de março (editado)."
    pairs[0].status = "approved"
    save_qa(workspace, doc.doc_id, pairs[:1])
    reloaded = load_qa(workspace, doc.doc_id)
    assert len(reloaded) == 1 and reloaded[0].answer.endswith("(editado).") and reloaded[0].status == "approved"
    assert not list(workspace.data_qa.glob("*.tmp"))


def test_workspace_may_be_a_path(workspace, tmp_path):
    doc, chunks = make_doc()
    report = generate_qa(doc, FakeGenerator(fn=by_chunk(PAIRS)), str(workspace.home), cfg=CFG, chunks=chunks[:1])
    assert len(report.pairs) == 2 and len(load_qa(workspace.home, doc.doc_id)) == 2


def test_local_model_gibberish_is_counted_invalid(workspace, tiny_lm_dir):  # noqa: F811
    """The real local backend end to end: a random tiny model never writes valid JSON."""
    import torch

    from oracle.llm import TransformersGenerator

    doc, chunks = make_doc()
    gen = TransformersGenerator(tiny_lm_dir, device="cpu", dtype=torch.float32)
    cfg = QAConfig(pairs_per_chunk=1, max_retries=1, max_new_tokens=12, min_chunk_tokens=10)
    report = generate_qa(doc, gen, workspace, cfg=cfg, chunks=chunks[:1])
    assert report.n_invalid == 1 and report.n_retries == 1 and report.pairs == []
    assert 0 < report.n_tokens <= 2 * 12
    assert read_jsonl(done_file(workspace, doc.doc_id))[0]["n_bad_replies"] == 2


# --- real model (slow) -------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_real_generator_writes_portuguese_pairs(workspace):
    from oracle import models
    from oracle.config import DEFAULT_GENERATOR
    from oracle.llm import get_generator

    try:
        models.resolve_generator(DEFAULT_GENERATOR)
    except NotImplementedError:
        pytest.skip("oracle.models.resolve_generator is not implemented yet")
    import py3langid

    try:
        from docs import PT_PAGES

        text = PT_PAGES[1]  # required documents, appeal deadline
    except ImportError:
        text = TEXTS[0] + " " + TEXTS[2]
    doc, chunks = make_doc()
    chunk = Chunk.from_dict({**chunks[0].to_dict(), "text": text, "n_tokens": 200})
    gen = get_generator(f"local:{DEFAULT_GENERATOR}")
    report = generate_qa(doc, gen, workspace, cfg=QAConfig(pairs_per_chunk=2, max_new_tokens=256), chunks=[chunk])
    assert report.pairs, f"no valid pair (invalid={report.n_invalid}, rejected={report.n_rejected})"
    for pair in report.pairs:
        assert pair.generator == f"local:{DEFAULT_GENERATOR}"
        assert py3langid.classify(pair.question + " " + pair.answer)[0] == "pt"
