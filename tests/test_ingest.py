"""Ingestion: encodings, PDF pages, text repair, errors naming the file, the batch, the workspace."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

import docs
from oracle.config import IngestConfig
from oracle.errors import (
    CorruptFileError,
    DocumentNotFoundError,
    EmptyDocumentError,
    EncryptedPDFError,
    FileTooLargeError,
    IngestError,
    NoTextLayerError,
    UnsupportedFileError,
)
from oracle.ingest import (
    clean_pdf_pages,
    decode_text,
    delete_document,
    detect_language,
    ingest_file,
    ingest_files,
    is_toc_line,
    list_documents,
    load_document,
    make_doc_id,
    normalize_text,
    rejoin_lines,
    repair_hyphenation,
    safe_filename,
    slugify,
)


def squash(text: str) -> str:
    """Whitespace-insensitive form: PDFs have no blank lines between paragraphs."""
    return re.sub(r"\s+", " ", text).strip()


# --- text files: every encoding keeps every accent -------------------------------------------


@pytest.mark.parametrize(
    "maker, expected, encoding",
    [
        (docs.make_utf8_txt, docs.PT_TEXT, "utf-8"),
        (docs.make_utf8_bom_txt, docs.PT_TEXT, "utf-8-sig"),
        (docs.make_latin1_txt, docs.PT_TEXT, "latin-1"),
        (docs.make_cp1252_txt, docs.CP1252_TEXT, "cp1252"),
        (docs.make_en_txt, docs.EN_TEXT, "utf-8"),
    ],
)
def test_text_encodings_keep_every_character(tmp_path, maker, expected, encoding):
    doc = ingest_file(maker(tmp_path))
    assert doc.encoding == encoding
    assert doc.kind == "txt"
    assert len(doc.pages) == 1 and doc.pages[0].number == 1 and doc.pages[0].start == 0
    assert doc.text == expected  # exact: accents, smart quotes, dashes; \r\n -> \n; no BOM
    assert "\ufeff" not in doc.text and "\r" not in doc.text


def test_latin1_is_not_read_as_cp1250(tmp_path):
    # charset-normalizer left alone says cp1250 for this file, which turns "ã" into "ă".
    doc = ingest_file(docs.make_latin1_txt(tmp_path))
    assert "ă" not in doc.text and "ação" in doc.text and "Ônibus" in doc.text


def test_decode_text_other_encodings():
    text = "Ação, lições e exceções: pão, maçã, avô. " * 3
    assert decode_text(text.encode("utf-16")) == (text, "utf-16")
    assert decode_text(docs.PT_TEXT.encode("cp850")) == (docs.PT_TEXT, "cp850")  # old DOS files
    # a UTF-8 file cut inside its last character: the cut character is dropped, the rest kept
    cut = text.encode("utf-8") + "ã".encode("utf-8")[:1]
    assert decode_text(cut) == (text, "utf-8")
    # mostly UTF-8 with one stray Latin-1 byte: stays UTF-8, the stray byte repaired through cp1252
    mixed = (text * 5).encode("utf-8") + b"caf\xe9 " + text.encode("utf-8")
    decoded, enc = decode_text(mixed)
    assert enc == "utf-8" and decoded == text * 5 + "café " + text
    with pytest.raises(UnicodeError):
        decode_text(b"abc\x00def")


def test_type_is_decided_by_content_not_name(tmp_path):
    pdf_named_txt = docs.make_pt_pdf(tmp_path, "na-verdade-pdf.txt")
    doc = ingest_file(pdf_named_txt)
    assert doc.kind == "pdf" and len(doc.pages) == 3


# --- PDFs ------------------------------------------------------------------------------------


def test_pdf_pages_numbers_and_offsets(tmp_path):
    doc = ingest_file(docs.make_pt_pdf(tmp_path))
    assert doc.kind == "pdf" and doc.encoding is None and doc.language == "pt"
    assert [p.number for p in doc.pages] == [1, 2, 3]
    text = doc.text
    for page in doc.pages:
        assert text[page.start : page.start + len(page.text)] == page.text
        assert doc.page_at(page.start) == page.number
        # same words as written, accents included, hyphenation repaired
        assert squash(page.text) == squash(docs.pt_page_clean(page.number))
    for question, fact in docs.FACTS.items():
        holders = [p.number for p in doc.pages if fact["evidence"] in p.text]
        assert holders == [fact["page"]], question


def test_pdf_hyphenation_repaired_and_lines_rejoined(tmp_path):
    doc = ingest_file(docs.make_pt_pdf(tmp_path))
    assert "\ufffe" not in doc.text and "\r" not in doc.text
    for word in docs.HYPHENATED_WORDS:
        assert word in doc.pages[0].text
    assert "inscri-" not in doc.text and "inscri ções" not in doc.text
    # the lines fpdf2 wrapped inside a paragraph are joined again: each paragraph is one line
    page1_lines = doc.pages[0].text.split("\n")
    assert len(page1_lines) == len(docs.PT_PAGES[0].split("\n\n"))
    assert "Procuradoria-Geral" in doc.pages[2].text


# --- page cleaning: running headers/footers, page numbers, tables of contents ---------------------


def _footer_lines() -> set[str]:
    return set(docs.MANUAL_FOOTERS)


def test_manual_headers_footers_and_toc_are_removed(tmp_path, caplog):
    with caplog.at_level("INFO", logger="oracle.ingest"):
        doc = ingest_file(docs.make_manual_pdf(tmp_path))
    # page numbering unchanged: page n is the PDF's n-th page, emptied pages included
    assert [p.number for p in doc.pages] == [1, 2, 3, 4, 5]
    assert doc.pages[0].text == ""  # the table of contents
    assert doc.pages[docs.MANUAL_EMPTY_PAGE - 1].text == ""  # header and footer only
    for page in doc.pages:
        assert doc.text[page.start : page.start + len(page.text)] == page.text
        assert docs.MANUAL_HEADER not in page.text
        assert not _footer_lines() & {line.strip() for line in page.text.split("\n")}
        if page.number in docs.MANUAL_BODY:  # body text intact, word for word
            assert squash(page.text) == squash(docs.MANUAL_BODY[page.number])
    for line in docs.MANUAL_TOC[1:]:
        assert line not in doc.text
    assert "Sumário" not in doc.text
    assert not re.search(r"\.{4,}|(\. ){3,}|·", doc.text)
    # the printed numbers of the footers become the pages' labels
    assert [p.label for p in doc.pages] == ["i", "1", "2", "3", "4"]
    # one log line with the counts: 5 headers + 5 footers, 7 TOC lines, 2 empty pages
    [message] = [r.getMessage() for r in caplog.records if "page cleaning" in r.getMessage()]
    assert "10 header/footer line(s)" in message and "7 table-of-contents line(s)" in message
    assert "2 page(s) emptied" in message


def test_labels_survive_the_workspace_and_old_json_loads(tmp_path, workspace):
    doc = ingest_file(docs.make_manual_pdf(tmp_path), workspace=workspace)
    again = load_document(workspace, doc.doc_id)
    assert [p.label for p in again.pages] == [p.label for p in doc.pages]
    old = doc.to_dict()
    for page in old["pages"]:
        del page["label"]  # saved before labels existed
    from oracle.schema import Document

    assert [p.label for p in Document.from_dict(old).pages] == [None] * 5


def test_clean_pages_can_be_switched_off(tmp_path):
    doc = ingest_file(docs.make_manual_pdf(tmp_path), cfg=IngestConfig(clean_pages=False))
    assert all(docs.MANUAL_HEADER in p.text for p in doc.pages)
    assert "Sumário" in doc.pages[0].text and "2 / 4" in doc.pages[2].text
    assert all(p.label is None for p in doc.pages)  # the PDF has no /PageLabels


@pytest.mark.parametrize("maker", [docs.make_pt_pdf])
def test_pdf_without_headers_loses_no_line(tmp_path, maker):
    path = maker(tmp_path)
    cleaned = ingest_file(path)
    raw = ingest_file(path, cfg=IngestConfig(clean_pages=False))
    assert [p.text for p in cleaned.pages] == [p.text for p in raw.pages]
    assert all(p.label is None for p in cleaned.pages)


def test_text_files_are_never_cleaned(tmp_path):
    text = "\n".join(["Manual do Sistema", "1 Introdução ........ 7", "1 / 3", "Texto da página."] * 4)
    path = tmp_path / "paginas.txt"
    path.write_text(text, encoding="utf-8")
    doc = ingest_file(path)
    assert doc.text == text and doc.pages[0].label is None


def test_is_toc_line():
    for line in ["Introdução ........ 7", "3.1 Rede . . . . . . . . . 2", "Prefácio · · · · · xiii",
                 "11.10Lista de ferramentas . . . . . . . . . . 212", "Anexo ....... 101  "]:
        assert is_toc_line(line), line
    for line in ["Veja a seção 3.1 na página 7.", "Aguarde... 10", "O valor é R$ 1.000,00 em 2 parcelas",
                 "$ ls ..", "Introdução ........"]:
        assert not is_toc_line(line), line


#: Distinct prose lines for hand-made pages (lines that differ only in their digits would
#: recur, by design, and be taken for running headers).
_PROSE = [
    "A escola abre às 7h.", "O ginásio fica no bloco B.", "Cada turma tem 30 alunos.",
    "A biblioteca empresta livros.", "O recreio dura 20 minutos.", "A cantina serve almoço.",
    "Os pais votam no conselho.", "A horta é cuidada pelo 5º ano.", "Há aulas de música.",
    "O laboratório tem microscópios.", "A quadra é coberta.", "O ônibus passa às 6h40.",
]


def _book(n: int, header: str = "Relatório Anual 2024", footer: str = "Página {n} de {N}") -> list[str]:
    """n pages of two distinct prose lines between a running header and a footer."""
    return ["\n".join([header.format(n=i, N=n), *_page_body(i), footer.format(n=i, N=n)])
            for i in range(1, n + 1)]


def _page_body(i: int) -> list[str]:
    return [_PROSE[(2 * i - 2) % len(_PROSE)], _PROSE[(2 * i - 1) % len(_PROSE)]]


def test_clean_pdf_pages_rules():
    texts = _book(6)
    cleaned = clean_pdf_pages(texts)
    assert cleaned.texts == ["\n".join(_page_body(i)) for i in range(1, 7)]
    # labels come from the footer whose numbers increase, not from the header's constant year
    assert cleaned.labels == ["1", "2", "3", "4", "5", "6"]
    assert len(cleaned.header_footer) == 12 and cleaned.toc == [] and cleaned.emptied == []
    # the PDF's own /PageLabels win
    assert clean_pdf_pages(texts, ["a", "b", "c", "d", "e", "f"]).labels == ["a", "b", "c", "d", "e", "f"]
    # a repeated number is not a page label: no labels, but the lines still go
    same = clean_pdf_pages(_book(6, footer="Edição 7"))
    assert same.labels == [None] * 6 and all("Edição" not in t for t in same.texts)


def test_clean_pdf_pages_leaves_short_or_unrepeated_documents_alone():
    # under RUNNING_MIN_PAGES pages nothing recurs often enough
    two = _book(2, footer="Fim da página")
    assert clean_pdf_pages(two).texts == two
    # a line that recurs on fewer than 30% of the pages stays
    pages = ["\n".join(_page_body(i)) for i in range(1, 11)]
    pages[0], pages[3] = "Nota importante\n" + pages[0], "Nota importante\n" + pages[3]
    assert clean_pdf_pages(pages).texts == pages
    # a bare number larger than the page's index is content, not a page number
    numbers = ["Outra página com texto.", "Total de alunos:\n3", "Mais texto aqui."]
    assert clean_pdf_pages(numbers).texts[1] == "Total de alunos:\n3"
    # a lone page number at the top or the bottom goes, and becomes the label
    lone = clean_pdf_pages(["Texto de uma página.\n\ni", "- 2 -\nOutra página.",
                            "Mais uma.\nPágina 1 de 3"])
    assert lone.texts == ["Texto de uma página.", "Outra página.", "Mais uma."]
    assert lone.labels == ["i", "2", "1"]


def test_clean_pdf_pages_toc_block_inside_a_page():
    page = "\n".join([
        "Introdução ao guia, escrita em texto corrido.",
        "Conteúdo",
        "1 Começo . . . . . . . . . . 3",
        "1.1 Primeiros passos . . . . . . . 4",
        "2 Uso diário",
        "2.1 Tarefas . . . . . . . . . 9",
        "O guia começa no capítulo seguinte.",
    ])
    cleaned = clean_pdf_pages([page, "Outra página.", "Mais uma página."])
    # the block (with the un-dotted entry between dotted ones) and its title go; the prose
    # around it stays, with a paragraph break where the block was
    assert cleaned.texts[0] == ("Introdução ao guia, escrita em texto corrido.\n\n"
                                "O guia começa no capítulo seguinte.")
    assert [line for _p, line in cleaned.toc][0] == "Conteúdo" and len(cleaned.toc) == 5
    # a "Sumário" page without dot leaders is a table of contents too
    plain = clean_pdf_pages(["Sumário\n1 Artigos 3\n2 Base de conhecimento 31\n3 Leitura adicional 49",
                             "Texto."])
    assert plain.texts[0] == "" and plain.emptied == [1]


def test_same_file_same_id_different_bytes_different_id(tmp_path):
    a = ingest_file(docs.make_pt_pdf(tmp_path / "a"))
    b = ingest_file(docs.make_pt_pdf(tmp_path / "b"))
    c = ingest_file(docs.make_pt_txt(tmp_path, "edital-12-2026.pdf.txt"))
    assert a.doc_id == b.doc_id and a.sha256 == b.sha256
    assert re.fullmatch(r"edital-12-2026-[0-9a-f]{8}", a.doc_id)
    assert a.doc_id.endswith(a.sha256[:8])
    assert c.doc_id != a.doc_id


# --- text repair -----------------------------------------------------------------------------


def test_repair_hyphenation_rules():
    assert repair_hyphenation("inscri\ufffeções") == "inscrições"
    assert repair_hyphenation("Procuradoria\ufffeGeral") == "Procuradoria-Geral"
    assert repair_hyphenation("informa-\nção") == "informação"
    assert repair_hyphenation("Rio-\nGrande") == "Rio-\nGrande"  # capital: a real hyphen, kept
    assert repair_hyphenation("lista:\n- item") == "lista:\n- item"
    assert repair_hyphenation("docu\u00admento e pro\u00ad\ncesso") == "documento e processo"


def test_normalize_text_line_ends_nfc_and_blank_lines():
    decomposed = unicodedata.normalize("NFD", "ação")
    assert decomposed != "ação"
    raw = f"Título\r\n\r\n\r\n\r\n{decomposed}  \rfim\x0c\x07novo"
    assert normalize_text(raw) == "Título\n\nação\nfim\n\nnovo"


def test_rejoin_lines_joins_wrapped_prose_only():
    wrapped = (
        "O valor total destinado a esta chamada é de duzentos e cinquenta mil reais, pagos\n"
        "em duas parcelas iguais durante a execução do projeto aprovado pela comissão.\n"
        "1.2 Documentos exigidos\n"
        "• cópia do estatuto\n"
        "# chvt 3\n"
        "Esta linha também é longa o bastante para parecer um parágrafo inteiro de texto.\n"
        "Outra frase começa aqui, com letra maiúscula, depois de um ponto final no fim."
    )
    out = rejoin_lines(wrapped).split("\n")
    assert out[0].endswith(
        "reais, pagos em duas parcelas iguais durante a execução do projeto aprovado pela comissão.")
    assert out[1:5] == ["1.2 Documentos exigidos", "• cópia do estatuto", "# chvt 3",
                        "Esta linha também é longa o bastante para parecer um parágrafo inteiro de texto."]
    assert len(out) == 6


# --- errors name the file and say what to do -------------------------------------------------


@pytest.mark.parametrize(
    "maker, error, hint_pt, hint_en",
    [
        (docs.make_corrupt_pdf, CorruptFileError, "envie de novo", "upload it again"),
        (docs.make_encrypted_pdf, EncryptedPDFError, "sem senha", "without a password"),
        (docs.make_scanned_pdf, NoTextLayerError, "OCR", "OCR"),
        (docs.make_empty_txt, EmptyDocumentError, "vazio", "empty"),
        (docs.make_binary_named_txt, UnsupportedFileError, ".pdf ou .txt", ".pdf or .txt"),
        (docs.make_docx_named_pdf, UnsupportedFileError, ".pdf ou .txt", ".pdf or .txt"),
    ],
)
def test_each_error_names_the_file(tmp_path, maker, error, hint_pt, hint_en):
    path = maker(tmp_path)
    with pytest.raises(error) as info:
        ingest_file(path)
    err = info.value
    assert isinstance(err, IngestError)
    assert err.params["file"] == path.name
    pt, en = err.message("pt"), err.message("en")
    assert path.name in pt and path.name in en
    assert hint_pt in pt and hint_en in en
    assert pt != en
    assert path.name in str(err)  # default language (pt in tests)


def test_unsupported_names_the_detected_kind(tmp_path):
    with pytest.raises(UnsupportedFileError) as info:
        ingest_file(docs.make_binary_named_txt(tmp_path))
    assert info.value.params["kind"] == "image/png"  # detected and kept for logs...
    assert "image/png" not in info.value.message("pt")  # ...but the person reads plain words (issue 11 U3)
    assert "corrompido ou é de outro tipo" in info.value.message("pt")
    unknown = tmp_path / "dados.txt"
    unknown.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(UnsupportedFileError):
        ingest_file(unknown)


def test_too_large(tmp_path):
    path = docs.make_pt_pdf(tmp_path)
    cfg = IngestConfig(max_file_mb=0.001)  # ~1 KB; the PDF is ~3.7 KB
    with pytest.raises(FileTooLargeError) as info:
        ingest_file(path, cfg=cfg)
    err = info.value
    assert err.params["size_mb"] > err.params["limit_mb"] == 0.001
    assert path.name in err.message("pt") and "ORACLE_MAX_UPLOAD_MB" in err.message("en")


def test_too_large_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("ORACLE_MAX_UPLOAD_MB", "0.001")
    with pytest.raises(FileTooLargeError):
        ingest_file(docs.make_pt_pdf(tmp_path))


def test_whitespace_only_text_is_empty(tmp_path):
    path = tmp_path / "espacos.txt"
    path.write_bytes(b" \r\n\t\n   \n")
    with pytest.raises(EmptyDocumentError):
        ingest_file(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(IngestError) as info:
        ingest_file(tmp_path / "nao-existe.pdf")
    assert info.value.key == "err.file_not_found"
    assert "nao-existe.pdf" in info.value.message("pt") and "not found" in info.value.message("en")
    with pytest.raises(IngestError):
        ingest_file(tmp_path)


def test_display_name_is_used_in_errors(tmp_path):
    path = docs.make_corrupt_pdf(tmp_path, "tmp8123.pdf")
    with pytest.raises(CorruptFileError) as info:
        ingest_file(path, name="Relatório anual.pdf")
    assert "Relatório anual.pdf" in info.value.message("en")


# --- the batch -------------------------------------------------------------------------------


def test_batch_goes_on_after_a_bad_file(tmp_path, workspace):
    bad = docs.make_corrupt_pdf(tmp_path)
    good = docs.make_pt_pdf(tmp_path)
    scanned = docs.make_scanned_pdf(tmp_path)
    txt = docs.make_latin1_txt(tmp_path)
    calls = []
    result = ingest_files([bad, good, scanned, txt], workspace=workspace,
                          progress=lambda done, total, name: calls.append((done, total, name)))
    assert [d.name for d in result.documents] == [good.name, txt.name]
    assert [(name, type(err)) for name, err in result.errors] == [
        (bad.name, CorruptFileError), (scanned.name, NoTextLayerError)]
    assert calls[0] == (0, 4, bad.name) and calls[-1][:2] == (4, 4)
    assert [c[0] for c in calls] == [0, 1, 2, 3, 4]
    assert {d.doc_id for d in list_documents(workspace)} == {d.doc_id for d in result.documents}


def test_batch_wraps_unexpected_exceptions(tmp_path, monkeypatch, caplog):
    import oracle.ingest as ingest

    good = docs.make_en_txt(tmp_path)
    boom = docs.make_utf8_txt(tmp_path)
    real = ingest.parse_bytes

    def flaky(data, name, cfg=None, **kwargs):
        if name == boom.name:
            raise RuntimeError("disk on fire")
        return real(data, name, cfg, **kwargs)

    monkeypatch.setattr(ingest, "parse_bytes", flaky)
    with caplog.at_level("ERROR", logger="oracle.ingest"):
        result = ingest_files([boom, good])
    assert [d.name for d in result.documents] == [good.name]
    (name, err), = result.errors
    assert name == boom.name and type(err) is IngestError
    assert "disk on fire" in err.message("en") and boom.name in err.message("en")
    assert "Traceback" in caplog.text or any(r.exc_info for r in caplog.records)


def test_batch_accepts_display_names(tmp_path):
    path = docs.make_en_txt(tmp_path, "upload-4f2a.txt")
    result = ingest_files([(path, "Guia de licenças.txt")])
    assert result.documents[0].name == "Guia de licenças.txt"
    assert result.documents[0].doc_id.startswith("guia-de-licencas-")


# --- the workspace ---------------------------------------------------------------------------


def test_save_list_load_delete(tmp_path, workspace):
    pdf = ingest_file(docs.make_pt_pdf(tmp_path), workspace=workspace)
    txt = ingest_file(docs.make_cp1252_txt(tmp_path), workspace=workspace,
                      name="../../Relatório “final”.txt")
    assert txt.name == "Relatório “final”.txt"
    assert (workspace.documents / f"{pdf.doc_id}.json").is_file()
    stored = Path(txt.path)
    assert stored.parent == workspace.documents / txt.doc_id
    assert stored.name == "Relatorio_final.txt"
    assert stored.read_bytes() == docs.CP1252_TEXT.encode("cp1252")

    assert [d.doc_id for d in list_documents(workspace)] == [pdf.doc_id, txt.doc_id]  # by name
    loaded = load_document(workspace, pdf.doc_id)
    assert loaded.text == pdf.text and loaded.pages == pdf.pages and Path(loaded.path).is_file()
    # the JSON keeps a workspace-relative path, so the workspace can move
    raw = (workspace.documents / f"{pdf.doc_id}.json").read_text(encoding="utf-8")
    assert str(workspace.home) not in raw

    delete_document(workspace, pdf.doc_id)
    assert not (workspace.documents / pdf.doc_id).exists()
    with pytest.raises(DocumentNotFoundError):
        load_document(workspace, pdf.doc_id)
    with pytest.raises(DocumentNotFoundError):
        delete_document(workspace, pdf.doc_id)
    assert [d.doc_id for d in list_documents(workspace)] == [txt.doc_id]


def test_ids_that_escape_the_folder_are_refused(workspace, tmp_path):
    (workspace.home / "secret.json").write_text("{}", encoding="utf-8")
    for bad in ["../secret", "", "a/b", "X"]:
        with pytest.raises(DocumentNotFoundError):
            load_document(workspace, bad)
        with pytest.raises(DocumentNotFoundError):
            delete_document(workspace, bad)
    assert (workspace.home / "secret.json").exists()


def test_reingest_replaces_same_document(tmp_path, workspace):
    path = docs.make_pt_pdf(tmp_path)
    first = ingest_file(path, workspace=workspace)
    second = ingest_file(path, workspace=workspace)
    assert first.doc_id == second.doc_id
    assert len(list_documents(workspace)) == 1


# --- names, ids, language --------------------------------------------------------------------


def test_slug_and_safe_names():
    assert slugify("Edital nº 12/2026 — São João") == "edital-no-12-2026-sao-joao"
    assert slugify("§§§") == "doc"
    assert len(slugify("á" * 200)) <= 48
    assert safe_filename("../Relatório Final (v2).PDF") == "Relatorio_Final_v2.pdf"
    assert safe_filename("..\\..\\.bashrc") == "file.bashrc"  # no folders, no hidden file
    assert "/" not in safe_filename("a/b/c.txt")
    assert make_doc_id("Ação Civil.pdf", "ab" * 32) == "acao-civil-abababab"


def test_detect_language():
    assert detect_language(docs.PT_TEXT) == "pt"
    assert detect_language(docs.EN_TEXT) == "en"
    assert detect_language("ok") == "und"
    assert detect_language("") == "und"
    # a long text: sampled in windows, the majority language wins
    long_pt = (docs.PT_TEXT + "\n\n") * 30 + docs.EN_TEXT
    assert detect_language(long_pt) == "pt"
