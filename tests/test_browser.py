"""The app in a real browser: Playwright driving Debian's Chromium (headless) clicks through
upload -> index -> chat -> 👍 as a person would, checks what the page shows and the JSONL
written, and saves a screenshot of each step under the test's tmp dir.

Needs ``/usr/bin/chromium`` (``apt-get install chromium``); skipped with that reason otherwise.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket

import pytest
from docs import make_corrupt_pdf, make_pt_pdf
from tiny_embedder import tiny_embedder_path

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("ORACLE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
QUESTION = "Qual é o valor total destinado a esta chamada?"
ANSWER = "O valor total destinado é R$ 250.000,00 [1]."
TIMEOUT_MS = 60_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def browser():
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)) and not shutil.which("chromium"):
        pytest.skip(f"Chromium not found at {CHROMIUM}: apt-get install chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    sync_api.expect.set_options(timeout=TIMEOUT_MS)
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def url(workspace):
    from oracle.config import RAGConfig
    from oracle.llm import FakeGenerator, register_generator
    from oracle.ui import create_app, launch_kwargs

    def factory(model, adapter=None, **kw):
        return FakeGenerator(fn=lambda messages: ANSWER, name=f"fake:{model}", adapter=adapter)

    register_generator("fake", factory)
    # The tiny embedder's similarities are not e5's: let every retrieved chunk count.
    demo = create_app(workspace=workspace, generator="fake:x", embedder=tiny_embedder_path(),
                      rag=RAGConfig(min_score=-1.0))  # fmt: skip
    port = _free_port()
    demo.queue().launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True,
                        **launch_kwargs())  # fmt: skip
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


def _expect_or_toast(page, check) -> None:
    """Run an ``expect`` check; on failure, report the error toasts the page shows."""
    try:
        check()
    except AssertionError as err:
        toasts = page.locator(".toast-body").all_inner_texts()
        raise AssertionError(f"{err}\npage toasts: {toasts}") from None


def test_upload_index_chat_and_rate_in_a_browser(browser, url, workspace, tmp_path):
    from playwright.sync_api import expect

    shots = tmp_path / "screenshots"
    shots.mkdir()
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="pt-BR")
    page.set_default_timeout(TIMEOUT_MS)
    pdf, bad = make_pt_pdf(tmp_path), make_corrupt_pdf(tmp_path)

    page.goto(url)
    expect(page.get_by_role("tab", name="Documentos")).to_be_visible()
    page.screenshot(path=str(shots / "0-start.png"), full_page=True)

    # Documents: pick two files (one corrupt), send them, read the outcome next to each
    page.locator("#oracle-upload-files input[type=file]").set_input_files([str(pdf), str(bad)])
    expect(page.locator("#oracle-upload-files a")).to_have_count(2)  # both uploaded (download links)
    page.locator("#oracle-upload-btn").click()
    results = page.locator("#oracle-upload-results")
    _expect_or_toast(page, lambda: expect(results).to_contain_text("✅"))
    expect(results).to_contain_text("corrompido")
    expect(page.locator("#oracle-documents-table")).to_contain_text(pdf.name)
    expect(page.locator("#oracle-documents-table")).not_to_contain_text(bad.name)
    page.screenshot(path=str(shots / "1-uploaded.png"), full_page=True)

    # Index: build with the defaults (the tiny embedder) and wait for the bar to finish
    page.get_by_role("tab", name="Índice").click()
    page.locator("#oracle-index-build").click()
    expect(page.locator('#oracle-index-progress [data-state="done"]')).to_be_attached()
    expect(page.locator("#oracle-index-stats")).to_contain_text("Trechos:")
    page.screenshot(path=str(shots / "2-indexed.png"), full_page=True)

    # Chat: ask, see the streamed answer and its source with the page
    page.get_by_role("tab", name="Chat").click()
    page.locator("#oracle-chat-question textarea").fill(QUESTION)
    page.locator("#oracle-chat-send").click()
    chat = page.locator("#oracle-chatbot")
    expect(chat).to_contain_text("R$ 250.000,00")
    expect(chat).to_contain_text("Fontes")
    expect(chat).to_contain_text(f"{pdf.name}, p. ")
    page.screenshot(path=str(shots / "3-answer.png"), full_page=True)

    # 👍 with a comment
    page.get_by_text("Corrigir ou comentar (opcional)").click()
    page.get_by_label("Comentário").fill("ótima resposta")
    page.locator("#oracle-rate-up").click()
    expect(page.locator("#oracle-rating-status")).to_contain_text("Avaliação registrada")
    page.screenshot(path=str(shots / "4-rated.png"), full_page=True)

    (rating,) = [json.loads(line) for line in workspace.validated.read_text("utf-8").splitlines()]
    assert rating["question"] == QUESTION and rating["answer"] == ANSWER and rating["valid"] is True
    assert rating["comment"] == "ótima resposta" and rating["user"] == "anonymous"
    assert rating["citations"] and rating["citations"][0]["doc_name"] == pdf.name

    # the chatbot's own 👎 under the answer rates that answer as invalid
    dislike = re.compile(r"^(Dislike|Não gostei)$")  # gradio labels it in the browser's language
    page.locator("#oracle-chatbot").get_by_role("button", name=dislike).first.click()
    expect(page.locator("#oracle-rating-status")).to_contain_text("errada")
    (bad_rating,) = [json.loads(line) for line in workspace.invalid.read_text("utf-8").splitlines()]
    assert bad_rating["answer_id"] == rating["answer_id"] and bad_rating["valid"] is False

    # Ratings tab lists them
    page.get_by_role("tab", name="Avaliações").click()
    expect(page.locator("#oracle-ratings-counts")).to_contain_text("1 válidas · 1 inválidas")
    expect(page.locator("#oracle-ratings-table")).to_contain_text("ótima resposta")
    expect(page.locator("#oracle-dl-valid")).to_be_enabled()
    expect(page.locator("#oracle-dl-invalid")).to_be_enabled()
    page.screenshot(path=str(shots / "5-ratings.png"), full_page=True)
    assert len(list(shots.glob("*.png"))) == 6


def test_english_page_with_lang_query(browser, url, tmp_path):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url + "?lang=en")
    expect(page.get_by_role("tab", name="Documents")).to_be_visible()
    expect(page.locator("#oracle-upload-btn")).to_have_text("Upload")
    page.get_by_role("tab", name="Ratings").click()
    expect(page.get_by_text("Download validated.jsonl")).to_be_visible()
    page.screenshot(path=str(tmp_path / "english.png"), full_page=True)

    # switching the language from the page reloads it in Portuguese
    page.goto(url + "?lang=en")
    expect(page.get_by_role("tab", name="Documents")).to_be_visible()
    page.locator("#oracle-language input").click()
    page.get_by_role("option", name="Português (Brasil)").click()
    page.wait_for_url("**lang=pt**")
    expect(page.get_by_role("tab", name="Documentos")).to_be_visible()
