"""Records round-trip through JSON; files are written atomically; i18n never raises."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from oracle.config import ChunkingConfig, QAConfig, RAGConfig, Workspace
from oracle.errors import ConfigError, EncryptedPDFError
from oracle.i18n import STRINGS, t
from oracle.schema import (
    Answer,
    Chunk,
    Citation,
    Document,
    Page,
    append_jsonl,
    read_jsonl,
    write_json_atomic,
    write_jsonl_atomic,
)


def _doc() -> Document:
    return Document(doc_id="edital-1234abcd", name="edital.pdf", sha256="ab" * 32, kind="pdf",
                    pages=[Page(1, "Página um.", 0), Page(2, "Inscrição até 10 de março.", 12)])


def test_document_round_trip_and_offsets():
    doc = _doc()
    again = Document.from_dict(json.loads(json.dumps(doc.to_dict())))
    assert again == doc
    assert isinstance(again.pages[0], Page)
    assert doc.text[doc.pages[1].start:].startswith("Inscrição")
    assert doc.n_chars == len(doc.text)
    assert doc.page_at(0) == 1 and doc.page_at(15) == 2


def test_answer_round_trip_keeps_nested_citations(tmp_path):
    cit = Citation(n=1, doc_id="d", doc_name="d.pdf", page=2, snippet="até 10 de março", chunk_id="d:0:x")
    answer = Answer(question="Até quando?", text="Até 10 de março [1].", citations=[cit], sources=[cit])
    path = tmp_path / "a.jsonl"
    append_jsonl(path, [answer, answer])
    rows = read_jsonl(path, Answer)
    assert len(rows) == 2 and rows[0].citations[0].page == 2 and isinstance(rows[0].citations[0], Citation)


def test_unknown_keys_are_ignored_on_load():
    data = Chunk("c", "d", "d.pdf", "texto", 1, 1, 0, 5).to_dict() | {"future_field": 1}
    assert Chunk.from_dict(data).text == "texto"


def test_atomic_writes_leave_no_temp_files(tmp_path):
    write_json_atomic(tmp_path / "x.json", {"ação": 1})
    write_jsonl_atomic(tmp_path / "y.jsonl", [{"a": 1}, {"b": "é"}])
    assert json.loads((tmp_path / "x.json").read_text(encoding="utf-8")) == {"ação": 1}
    assert read_jsonl(tmp_path / "y.jsonl") == [{"a": 1}, {"b": "é"}]
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".tmp") == []


def test_torn_last_line_is_skipped(tmp_path):
    path = tmp_path / "z.jsonl"
    path.write_text('{"a": 1}\n{"b": ', encoding="utf-8")
    assert read_jsonl(path) == [{"a": 1}]


@pytest.mark.parametrize("cls,kwargs", [
    (ChunkingConfig, {"chunk_size": 0}),
    (ChunkingConfig, {"chunk_size": 64, "chunk_overlap": 64}),
    (QAConfig, {"pairs_per_chunk": 0}),
    (RAGConfig, {"top_k": 0}),
    (RAGConfig, {"min_score": 2.0}),
])
def test_configs_reject_bad_values(cls, kwargs):
    with pytest.raises(ConfigError) as info:
        cls(**kwargs)
    assert "`" in str(info.value)  # names the offending field


def test_errors_speak_both_languages():
    err = EncryptedPDFError(file="edital.pdf")
    assert "edital.pdf" in err.message("pt") and "senha" in err.message("pt")
    assert "edital.pdf" in err.message("en") and "password" in err.message("en")


def test_every_string_has_portuguese_and_english():
    missing = [k for k, v in STRINGS.items() if not v.get("pt") or not v.get("en")]
    assert missing == []
    assert t("no.such.key") == "no.such.key"
    assert "MB" in t("err.too_large", file="x")  # missing params never raise


def test_workspace_uses_oracle_home(tmp_path, monkeypatch):
    monkeypatch.setenv("ORACLE_HOME", str(tmp_path / "ws"))
    ws = Workspace()
    assert ws.data_qa == tmp_path / "ws" / "data_qa" and ws.data_qa.is_dir()
    assert ws.validated.name == "validated.jsonl" and ws.invalid.name == "invalid.jsonl"


def test_a_resource_held_too_long_raises_a_message_not_filelock_timeout(tmp_path):
    """Another thread holds the index's lock: waiting past the timeout raises
    ResourceBusyError naming the resource in Portuguese; the holder re-enters freely."""
    import threading

    from oracle.errors import ResourceBusyError
    from oracle.schema import resource_lock

    held, release = threading.Event(), threading.Event()

    def holder():
        with resource_lock(tmp_path / ".default"), resource_lock(tmp_path / ".default"):  # re-entrant
            held.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert held.wait(10)
        with pytest.raises(ResourceBusyError) as info:
            with resource_lock(tmp_path / ".default", timeout_s=0.2):
                pass
        assert "'default' está ocupado por outra tarefa" in info.value.message("pt")
    finally:
        release.set()
        thread.join(10)
    with resource_lock(tmp_path / ".default", timeout_s=5):  # free again
        pass


def test_a_folder_found_incomplete_mid_swap_is_waited_for_not_reported_missing(tmp_path, monkeypatch):
    """recover_folder lists the leftovers, then checks the folder: a save can begin between the two
    (staging written, the current version renamed aside). The folder is then whole again once the
    save ends, so it must be reported present, not missing (under load, the chat's index load
    raised "O índice não existe" this way while a build saved the index)."""
    import threading
    import time

    from oracle import schema

    final = tmp_path / "default"
    final.mkdir()
    (final / "index.json").write_text("{}")

    def complete(folder):
        return (folder / "index.json").is_file()

    listings = []
    real_leftovers = schema.folder_leftovers
    swapped = threading.Event()

    def save_in_the_background():
        with schema.folder_lock(final):
            staging = schema.staging_folder(final)
            (staging / "index.json").write_text('{"v": 2}')
            old = staging.with_name(staging.name[: -len(".tmp")] + ".old")
            os.replace(final, old)  # the current version aside: `final` is missing now
            swapped.set()
            time.sleep(0.3)
            os.replace(staging, final)
            shutil.rmtree(old)

    def leftovers_then_a_save_begins(folder):
        found = real_leftovers(folder)
        listings.append(found)
        if len(listings) == 1:  # the first listing came just before the save
            threading.Thread(target=save_in_the_background).start()
            assert swapped.wait(5)
        return found

    monkeypatch.setattr(schema, "folder_leftovers", leftovers_then_a_save_begins)
    assert schema.recover_folder(final, complete)
    assert json.loads((final / "index.json").read_text()) == {"v": 2}
    assert listings[0] == [] and len(listings) >= 2
