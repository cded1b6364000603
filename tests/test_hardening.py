"""Issue 11, reliability and security (F1-F6): the proofs, kept as tests.

F1 a PDF decompression bomb fails alone, in a bounded child process, with its own message;
F2 UTF-8 with a few Latin-1 bytes keeps its UTF-8 and says what it repaired; F3 UTF-16
without a BOM is read; F4 uploads with the same name keep their own results; F5 control
and bidi characters leave document names; F6 nothing describes the API before login.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import docs
import pytest
from served import serve

from oracle.config import IngestConfig
from oracle.errors import EncodingRepairedWarning, PdfTooComplexError, UnsupportedFileError
from oracle.ingest import ingest_file, ingest_files, list_documents

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent

# --- F1: the PDF bomb ---------------------------------------------------------------------

#: The child's address-space limit in these tests (MB): the bomb reaches it in well under 1 s.
CHILD_LIMIT_MB = 256
#: The parent (a fresh Python with the ingest stack loaded) must stay under this peak RSS
#: (MB). In-process, the same 4 MB bomb took PDFium past 4 GB (bench/RESULTS.md).
PARENT_BOUND_MB = 400

_BATCH_SCRIPT = """
import json, resource, sys
sys.path.insert(0, sys.argv[1])


def peak_rss_mb():
    # VmHWM: this process's own peak since exec. ru_maxrss is not: Linux carries the peak of the
    # process it was forked from across execve (a pytest process that loaded models reads ~6 GB).
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


import docs
from oracle.config import IngestConfig
from oracle.ingest import ingest_files
folder = sys.argv[2]
bomb = docs.make_pdf_bomb(folder)  # ~4 MB, inflates to ~4 GiB
valid = docs.make_pt_pdf(folder)
result = ingest_files([bomb, valid], cfg=IngestConfig(pdf_memory_mb=int(sys.argv[3])))
print(json.dumps({
    "bomb_size": bomb.stat().st_size,
    "outcomes": [
        {"name": o.name, "pages": len(o.document.pages) if o.document else None,
         "error": type(o.error).__name__ if o.error else None,
         "key": o.error.key if o.error else None, "message": o.error.message("pt") if o.error else None}
        for o in result.outcomes
    ],
    "parent_maxrss_mb": peak_rss_mb(),
    "children_maxrss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
}))
"""


def test_pdf_bomb_fails_alone_and_the_valid_pdf_after_it_is_read(tmp_path):
    """A 4 MB bomb then a valid PDF, in a fresh process: the process survives, the valid PDF
    is read, the bomb gets the "muito complexo" message (not "sem camada de texto"), and
    neither the parent nor the reader grows past its bound."""
    out = subprocess.run(
        [sys.executable, "-c", _BATCH_SCRIPT, str(TESTS), str(tmp_path), str(CHILD_LIMIT_MB)],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "ORACLE_HOME": str(tmp_path / "home")},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]  # before: PDFium aborted the process (134)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["bomb_size"] > 4_000_000
    bomb, valid = report["outcomes"]
    assert bomb["error"] == "PdfTooComplexError" and bomb["key"] == "err.pdf_too_complex"
    assert "PDF muito complexo ou malformado" in bomb["message"] and "bomba.pdf" in bomb["message"]
    assert "camada de texto" not in bomb["message"]
    assert valid == {"name": "edital-12-2026.pdf", "pages": 3, "error": None, "key": None, "message": None}
    assert report["parent_maxrss_mb"] < PARENT_BOUND_MB, report
    assert report["children_maxrss_mb"] <= CHILD_LIMIT_MB + 8, report


def test_pdf_reader_timeout_stops_the_reader_and_the_next_file_is_read(tmp_path):
    """Out of time: the reader is killed, the file gets the time message, the next file is read."""
    from oracle import pdf_worker

    bomb, valid = docs.make_pdf_bomb(tmp_path), docs.make_pt_pdf(tmp_path)
    slow = IngestConfig(pdf_memory_mb=1024, pdf_timeout_s=0.3)  # the bomb needs ~3 s to reach 1 GB
    with pytest.raises(PdfTooComplexError) as info:
        ingest_file(bomb, cfg=slow)
    assert info.value.key == "err.pdf_too_slow" and "0.3 s" in info.value.message("pt")
    assert pdf_worker._WORKER is not None and pdf_worker._WORKER.proc is None  # killed, not left running
    assert len(ingest_file(valid).pages) == 3


def test_one_reader_process_serves_many_pdfs_and_is_replaced_when_it_dies(tmp_path):
    from oracle import pdf_worker

    cfg = IngestConfig(pdf_memory_mb=CHILD_LIMIT_MB)
    pdf = docs.make_pt_pdf(tmp_path)
    ingest_file(pdf, cfg=cfg)
    first = pdf_worker._WORKER.proc.pid
    for _ in range(3):
        ingest_file(pdf, cfg=cfg)
    assert pdf_worker._WORKER.proc.pid == first  # reused, not one process per file (or page)
    with pytest.raises(PdfTooComplexError):
        ingest_file(docs.make_pdf_bomb(tmp_path), cfg=cfg)
    assert len(ingest_file(pdf, cfg=cfg).pages) == 3
    assert pdf_worker._WORKER.proc.pid != first


def test_encrypted_and_corrupt_pdfs_keep_their_messages_through_the_reader(tmp_path):
    from oracle.errors import CorruptFileError, EncryptedPDFError

    with pytest.raises(EncryptedPDFError):
        ingest_file(docs.make_encrypted_pdf(tmp_path))
    with pytest.raises(CorruptFileError):
        ingest_file(docs.make_corrupt_pdf(tmp_path))


# --- F2, F3: encodings ----------------------------------------------------------------------

UTF8_PART = "Edital de inscrição: as inscrições começam em março.\nAção cultural e lições.\n"
LATIN1_PART = "Inscrição até sexta-feira, às 17h."


def test_utf8_with_a_few_latin1_bytes_keeps_utf8_and_warns(tmp_path):
    path = tmp_path / "misto.txt"
    path.write_bytes(UTF8_PART.encode("utf-8") + LATIN1_PART.encode("latin-1") + b"\n" + UTF8_PART.encode("utf-8"))
    result = ingest_files([path])
    (outcome,) = result.outcomes
    doc = outcome.document
    assert doc.encoding == "utf-8"
    assert LATIN1_PART in doc.text and "inscrição" in doc.text and "Ã" not in doc.text
    (warning,) = outcome.warnings
    assert isinstance(warning, EncodingRepairedWarning)
    assert warning.params == {"file": "misto.txt", "count": 4, "line": 3}  # ç ã é à: four bytes
    message = warning.message("pt")
    assert "misto.txt" in message and "4 byte(s)" in message and "linha 3" in message and "UTF-8" in message
    assert result.warnings == [("misto.txt", warning)]


def test_clean_files_carry_no_warning(tmp_path):
    result = ingest_files([docs.make_utf8_txt(tmp_path), docs.make_latin1_txt(tmp_path)])
    assert [o.document.encoding for o in result.outcomes] == ["utf-8", "latin-1"]
    assert result.warnings == []


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_read(tmp_path, codec):
    path = tmp_path / "utf16.txt"
    path.write_bytes(docs.PT_TEXT.encode(codec))  # no byte-order mark
    doc = ingest_file(path)
    assert doc.encoding == codec and doc.text == docs.PT_TEXT


def test_binary_with_nul_bytes_is_still_refused(tmp_path):
    path = tmp_path / "dados.txt"
    path.write_bytes(bytes(range(256)) * 8)  # NULs on both sides: not UTF-16
    with pytest.raises(UnsupportedFileError):
        ingest_file(path)
    path.write_bytes(b"".join(i.to_bytes(2, "little") for i in range(1, 30)) * 40)  # small integers
    with pytest.raises(UnsupportedFileError):  # NULs where UTF-16 puts them, but control characters
        ingest_file(path)


def test_undecodable_text_asks_to_save_it_as_utf8(tmp_path):
    """A .txt in an encoding the reader does not recognise (UTF-32 without a byte-order mark)
    is refused with a message saying how to fix it, not only "corrupt or of another type"."""
    from oracle.errors import TextEncodingError

    path = tmp_path / "edital.txt"
    path.write_bytes(docs.PT_TEXT.encode("utf-32-le"))  # no BOM: three NULs per character
    with pytest.raises(TextEncodingError) as info:
        ingest_file(path)
    pt, en = info.value.message("pt"), info.value.message("en")
    assert "edital.txt" in pt and "salve como UTF-8" in pt and "save it as UTF-8" in en
    png = tmp_path / "foto.txt"  # a recognised binary kind keeps the plain "not a text" message
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    with pytest.raises(UnsupportedFileError) as info:
        ingest_file(png)
    assert not isinstance(info.value, TextEncodingError)


# --- F5: names ------------------------------------------------------------------------------

FORGED = "relatorio\nOK: arquivo.txt lido\x00\x1b[31m\u202etxt.exe\u200b.txt"


def _has_controls(text: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in text)


def test_control_and_bidi_characters_leave_document_names(tmp_path, workspace):
    path = docs.make_utf8_txt(tmp_path)
    result = ingest_files([(path, FORGED)], workspace)
    doc = result.documents[0]
    assert not _has_controls(doc.name)
    assert doc.name == "relatorio OK: arquivo.txt lido [31mtxt.exe.txt"
    assert [d.name for d in list_documents(workspace)] == [doc.name]


def test_names_stored_by_older_versions_are_read_clean(tmp_path, workspace):
    """A document and its chunks saved with a forged name before names were cleaned at ingest
    are listed and cited without the control characters."""
    from oracle.ingest import list_documents, load_document
    from oracle.schema import Chunk, read_jsonl, write_json_atomic

    doc = ingest_file(docs.make_utf8_txt(tmp_path), workspace)
    stored = workspace.documents / f"{doc.doc_id}.json"
    data = json.loads(stored.read_text(encoding="utf-8"))
    data["name"] = FORGED  # as a version before F5 wrote it
    write_json_atomic(stored, data)
    assert json.loads(stored.read_text(encoding="utf-8"))["name"] == FORGED  # stored as is
    for loaded in (load_document(workspace, doc.doc_id), list_documents(workspace)[0]):
        assert not _has_controls(loaded.name) and loaded.name.startswith("relatorio OK: arquivo.txt lido")
    lines = tmp_path / "chunks.jsonl"
    lines.write_text(json.dumps({"chunk_id": "c", "doc_id": doc.doc_id, "doc_name": FORGED, "text": "t",
                                 "page_start": 1, "page_end": 1, "char_start": 0, "char_end": 1}) + "\n",
                     encoding="utf-8")  # fmt: skip
    (chunk,) = read_jsonl(lines, Chunk)
    assert not _has_controls(chunk.doc_name) and chunk.doc_name == loaded.name


def test_cli_prints_one_line_per_file_whatever_its_name(tmp_path, workspace, capsys):
    from oracle.cli import main

    folder = tmp_path / "in"
    folder.mkdir()
    path = folder / "linha1\nERRO FORJADO\u202e.txt"
    path.write_text(docs.PT_TEXT, encoding="utf-8")
    assert main(["--home", str(workspace.home), "ingest", str(path)]) == 0
    out = capsys.readouterr().out
    assert len(out.strip().splitlines()) == 1 and not _has_controls(out.strip())


# --- F4 and F6: the app ---------------------------------------------------------------------


@pytest.fixture
def launched(workspace, monkeypatch):
    """Start the app (ORACLE_AUTH as the test set it); yields its base URL."""
    from oracle.ui import create_app

    with serve(create_app(workspace=workspace)) as url:
        yield url.rstrip("/")


def test_same_name_uploads_keep_their_own_results(tmp_path, launched):
    """A valid text and an image, both "documento.txt", in one upload: each row says its own outcome."""
    from gradio_client import Client, handle_file

    valid = docs.make_pt_txt(tmp_path / "a", "documento.txt")
    image = docs.make_binary_named_txt(tmp_path / "b", "documento.txt")
    client = Client(launched + "/", verbose=False)
    try:
        results, _, _, _ = client.predict([handle_file(str(valid)), handle_file(str(image))], api_name="/upload")
    finally:
        client.close()
    rows = results["data"]
    assert [r[0] for r in rows] == ["documento.txt", "documento.txt"]
    assert rows[0][1].startswith("✅") and rows[1][1].startswith("❌")  # before: swapped


def _get(url: str, opener=None) -> tuple[int, str]:
    opener = opener or urllib.request.build_opener()
    try:
        with opener.open(url, timeout=30) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


@pytest.fixture
def auth_env(monkeypatch):
    monkeypatch.setenv("ORACLE_AUTH", "ana:s3nha-de-teste")


def test_nothing_describes_the_api_before_login(auth_env, launched):
    status, page = _get(launched + "/")
    assert status == 200 and "auth_required" in page  # the login page itself is served
    assert "named_endpoints" not in page and "/upload" not in page and "delete_document" not in page
    assert "window.gradio_api_info = null" in page
    for route in ("/openapi.json", "/gradio_api/openapi.json", "/gradio_api/info", "/config"):
        status, body = _get(launched + route)
        assert status in (401, 404), (route, status)
        assert "named_endpoints" not in body and "delete_document" not in body, route

    # After login the page is whole again (the API page of the footer needs it).
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = urllib.parse.urlencode({"username": "ana", "password": "s3nha-de-teste"}).encode()
    with opener.open(urllib.request.Request(launched + "/login", data=form), timeout=30) as resp:
        assert resp.status == 200
    status, page = _get(launched + "/", opener)
    assert status == 200 and "named_endpoints" in page and "/upload" in page
    status, _ = _get(launched + "/gradio_api/info", opener)
    assert status == 200


def test_without_auth_the_page_is_untouched_but_openapi_json_is_off(launched):
    status, page = _get(launched + "/")
    assert status == 200 and "named_endpoints" in page
    assert _get(launched + "/openapi.json")[0] == 404


def test_cli_reports_a_repaired_encoding(tmp_path, workspace, capsys):
    from oracle.cli import main

    path = tmp_path / "misto.txt"
    path.write_bytes(UTF8_PART.encode("utf-8") + LATIN1_PART.encode("latin-1") + b"\n")
    assert main(["--home", str(workspace.home), "ingest", str(path)]) == 0
    err = capsys.readouterr().err
    assert "misto.txt" in err and "4 byte(s)" in err and "linha 3" in err


# --- Spaces: persistent storage -------------------------------------------------------------


def test_space_with_persistent_storage_uses_it(tmp_path, monkeypatch):
    from oracle import config

    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setattr(config, "SPACES_DATA", data)
    monkeypatch.delenv("ORACLE_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SPACE_ID", raising=False)
    assert config.default_home() == tmp_path  # not a Space: the current folder
    monkeypatch.setenv("SPACE_ID", "ana/oraculo")
    assert config.default_home() == data and config.Workspace().home == data
    data.rmdir()  # a Space without persistent storage
    assert config.default_home() == tmp_path
    monkeypatch.setenv("ORACLE_HOME", str(tmp_path / "home"))  # an explicit home always wins
    assert config.default_home() == tmp_path / "home"


def test_space_front_matter_pins_python_3_11():
    front = (ROOT / "README.md").read_text(encoding="utf-8").split("---")[1]
    assert 'python_version: "3.11"' in front.splitlines()


@pytest.mark.browser
def test_login_still_works_in_a_browser_with_the_schema_hidden(auth_env, launched):
    """The login page renders without the embedded schema, and logging in opens the app."""
    import shutil

    chromium = os.environ.get("ORACLE_CHROMIUM", "/usr/bin/chromium")
    if not os.access(chromium, os.X_OK) and not shutil.which("chromium"):
        pytest.skip(f"Chromium not found at {chromium}: apt-get install chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])  # fmt: skip
        try:
            page = browser.new_page()
            page.goto(launched + "/")
            assert page.evaluate("window.gradio_api_info") is None
            page.locator("input[type=text]").first.fill("ana")
            page.locator("input[type=password]").fill("s3nha-de-teste")
            page.keyboard.press("Enter")
            sync_api.expect(page.get_by_role("tab", name="Documentos")).to_be_visible(timeout=60_000)
            assert page.evaluate("window.gradio_api_info") is not None
        finally:
            browser.close()
