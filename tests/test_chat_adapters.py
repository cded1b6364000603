"""The chat's LoRA adapters and its conversation kept across page reloads.

* core: an adapter trained on one base model is refused on another with a clear error naming
  both (tiny LMs of two shapes: peft itself would fail deep inside on mismatched tensors),
  while other spellings of the same base (a symbolic link, a bundled name vs its cache folder)
  still load;
* widgets: the chat's adapter list (generator adapters only, labelled with their base model)
  and the generator an adapter calls for;
* the app, through ``gradio_client``: choosing an adapter switches the generator to its base,
  choosing another generator removes the adapter, a mismatched pair is refused by ``/ask``,
  a matching one answers;
* the conversation saved in the browser: what is stored and what is restored (the
  ``gr.BrowserState`` itself needs a browser).

Offline and fast: tiny models built from config, adapter folders written with peft or by hand.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import tiny_lm
from served import serve
from tiny_embedder import tiny_embedder_path
from tiny_lm import make_tiny_lm

from oracle.errors import GenerationError, OracleError

tiny_lm_dir = tiny_lm.tiny_lm_dir  # the session fixture: a tiny LM folder

QWEN = "qwen2.5-coder-0.5b-instruct"
SMOL = "smollm2-135m-instruct"


# --- helpers ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def other_lm_dir(tmp_path_factory) -> str:
    """A second tiny LM of another shape (hidden size 48 instead of 32)."""
    return make_tiny_lm(tmp_path_factory.mktemp("other_lm"), seed=1, hidden_size=48)


def make_lora(base_dir: str, out_dir: Path, train_info: dict | None = None) -> Path:
    """A real peft LoRA adapter of ``base_dir`` in ``out_dir`` (random B, so it changes outputs);
    peft writes ``base_model_name_or_path = base_dir``; ``train_info`` becomes ``train.json``."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    cfg = LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM",
                     init_lora_weights=False)  # fmt: skip
    get_peft_model(model, cfg).save_pretrained(str(out_dir))
    if train_info is not None:
        (out_dir / "train.json").write_text(json.dumps(train_info), encoding="utf-8")
    return out_dir


def fake_adapter(folder: Path, base: str | None, train: dict | None = None, task_type: str = "CAUSAL_LM",
                 extra: tuple[str, ...] = ()) -> Path:  # fmt: skip
    """An adapter folder with only its JSON files (enough to list it and check its base)."""
    folder.mkdir(parents=True, exist_ok=True)
    cfg = {"peft_type": "LORA", "task_type": task_type, "r": 2}
    if base is not None:
        cfg["base_model_name_or_path"] = base
    (folder / "adapter_config.json").write_text(json.dumps(cfg), encoding="utf-8")
    if train is not None:
        (folder / "train.json").write_text(json.dumps(train), encoding="utf-8")
    for name in extra:
        (folder / name).write_text("{}", encoding="utf-8")
    return folder


# --- core: oracle.llm ------------------------------------------------------------------------


def test_adapter_on_another_base_is_refused_naming_both_models(tiny_lm_dir, other_lm_dir, tmp_path,
                                                               monkeypatch):  # fmt: skip
    import torch

    from oracle import llm, models

    adapter = make_lora(tiny_lm_dir, tmp_path / "meu-adaptador")
    assert not (adapter / "train.json").exists()  # the base comes from adapter_config.json
    assert json.loads((adapter / "adapter_config.json").read_text())["base_model_name_or_path"] == tiny_lm_dir

    # Without the check, peft fails deep inside on the mismatched shapes (32 vs 48).
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    with pytest.raises(Exception) as deep:
        PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(other_lm_dir), str(adapter))
    assert not isinstance(deep.value, OracleError)

    loads = []
    monkeypatch.setattr(models, "load_generator", lambda *a, **k: loads.append(a))
    with pytest.raises(GenerationError) as err:
        llm.TransformersGenerator(other_lm_dir, adapter=str(adapter), device="cpu", dtype=torch.float32)
    assert err.value.key == "err.adapter_base_mismatch"
    for lang in ("pt", "en"):
        text = err.value.message(lang)
        assert "meu-adaptador" in text and Path(tiny_lm_dir).name in text and Path(other_lm_dir).name in text
    assert "foi treinado sobre o modelo" in err.value.message("pt")
    assert "was trained on model" in err.value.message("en")
    # the factory the app and the command line use refuses too, before anything loads
    with pytest.raises(GenerationError, match="meu-adaptador"):
        llm.get_generator(f"local:{other_lm_dir}", adapter=str(adapter))
    assert loads == []


def test_adapter_on_its_own_base_loads_under_another_spelling(tiny_lm_dir, tmp_path):
    import torch

    from oracle import llm

    adapter = make_lora(tiny_lm_dir, tmp_path / "ok")
    link = tmp_path / "same-model-link"
    os.symlink(tiny_lm_dir, link)
    messages = [{"role": "user", "content": "Qual é o nome?"}]
    base = llm.TransformersGenerator(tiny_lm_dir, device="cpu", dtype=torch.float32)
    tuned = llm.TransformersGenerator(str(link), adapter=str(adapter), device="cpu", dtype=torch.float32)
    assert tuned.model.oracle_precision["adapter"] in ("peft", "merged")
    assert tuned.generate(messages, max_new_tokens=6) != base.generate(messages, max_new_tokens=6)


def test_train_json_base_model_wins_and_bundled_names_are_not_converted(tiny_lm_dir, tmp_path, monkeypatch):
    from oracle import llm, models

    from oracle.models import loading

    for holder in (models, loading):  # callers, and load_generator in its own module
        monkeypatch.setattr(holder, "resolve_generator", lambda name: pytest.fail("no conversion expected"))
    adapter = fake_adapter(tmp_path / "smol-run", tiny_lm_dir,
                           train={"kind": "lora", "base_model": SMOL,
                                  "base_model_path": f"/home/x/.cache/oracle/models/{SMOL}"})  # fmt: skip
    assert llm.adapter_base_model(adapter) == SMOL
    assert llm.adapter_base_models(adapter) == [SMOL, f"/home/x/.cache/oracle/models/{SMOL}", tiny_lm_dir]
    with pytest.raises(GenerationError) as err:
        llm.get_generator(f"local:{QWEN}", adapter=str(adapter))
    text = err.value.message("en")
    assert f"'{SMOL}'" in text and f"generator '{QWEN}'" in text and "smol-run" in text
    # the same adapter fits its base however that base is spelled
    for spelling in (SMOL, "SmolLM2-135M-Instruct", str(models.cache_dir() / "models" / SMOL),
                     "HuggingFaceTB/SmolLM2-135M-Instruct", tiny_lm_dir):  # fmt: skip
        llm.check_adapter_base(spelling, str(adapter))
    # an adapter that says nothing about its base, or a missing folder, is not refused here
    llm.check_adapter_base(QWEN, str(fake_adapter(tmp_path / "anonymous", None)))
    llm.check_adapter_base(QWEN, str(tmp_path / "missing"))


def test_model_identity_spellings(tiny_lm_dir, tmp_path):
    from oracle import llm, models

    same = [QWEN, f"local:{QWEN}", QWEN.upper(), str(models.cache_dir() / "models" / QWEN),
            f"/another/machine/.cache/oracle/models/{QWEN}", "Qwen/Qwen2.5-Coder-0.5B-Instruct",
            "/root/.cache/huggingface/hub/models--Qwen--Qwen2.5-Coder-0.5B-Instruct/snapshots/0123abcd"]  # fmt: skip
    assert {llm.model_identity(s) for s in same} == {f"bundled:{QWEN}"}
    assert {llm.model_label(s) for s in same} == {QWEN}
    assert not llm.same_model(QWEN, SMOL)
    assert not llm.same_model(QWEN, "Qwen/Qwen2.5-0.5B-Instruct")  # another model of the family
    assert llm.same_model("Org/Model", "org/model") and not llm.same_model("org/model", "org/other")
    link = tmp_path / "link"
    os.symlink(tiny_lm_dir, link)
    assert llm.same_model(str(link), tiny_lm_dir) and not llm.same_model(str(tmp_path), tiny_lm_dir)
    assert llm.model_label(tiny_lm_dir) == Path(tiny_lm_dir).name


# --- widgets -----------------------------------------------------------------------------------


def _adapters_workspace(ws, tiny_dir: str) -> None:
    a = ws.adapters
    fake_adapter(a / "qwen-lora", str(Path("/x/.cache/oracle/models") / QWEN),
                 train={"kind": "lora", "base_model": QWEN, "created_at": "2025-01-02T10:00:00"})  # fmt: skip
    fake_adapter(
        a / "smol-lora", SMOL, train={"kind": "lora", "base_model": SMOL, "created_at": "2025-03-01T10:00:00"}
    )
    fake_adapter(a / "plain", tiny_dir)  # a peft folder without train.json
    fake_adapter(a / "gone-lora", "/no/such/folder/base-model")
    # not generator adapters:
    emb = a / "emb-run"
    emb.mkdir()
    (emb / "train.json").write_text(json.dumps({"kind": "embedding", "base_model": "multilingual-e5-small"}))
    (emb / "modules.json").write_text("[]")
    fake_adapter(a / "st-peft", "intfloat/e5", task_type="FEATURE_EXTRACTION", extra=("modules.json",))
    fake_adapter(a / "st-plain-peft", "intfloat/e5", extra=("config_sentence_transformers.json",))
    fake_adapter(a / "emb-with-peft", "intfloat/e5", train={"kind": "embedding", "base_model": "e5"})
    merged = a / "merged-run"
    merged.mkdir()
    (merged / "merge.json").write_text(json.dumps({"base_model": QWEN}))
    (merged / "config.json").write_text("{}")
    fake_adapter(a / ".hidden", QWEN)
    (a / "empty").mkdir()


def test_adapter_list_labels_with_base_and_leaves_out_embedders(workspace, tiny_lm_dir):
    from oracle.ui import widgets

    _adapters_workspace(workspace, tiny_lm_dir)
    assert widgets.adapter_choices(workspace) == [
        (f"smol-lora ({SMOL})", "smol-lora"),  # newest training first
        (f"qwen-lora ({QWEN})", "qwen-lora"),
        ("gone-lora (base-model)", "gone-lora"),  # then those without train.json, by name
        (f"plain ({Path(tiny_lm_dir).name})", "plain"),
    ]
    found = widgets.find_adapter(workspace, "qwen-lora")
    assert found.base_model == QWEN and found.bases == (QWEN, str(Path("/x/.cache/oracle/models") / QWEN))
    assert found.path == str((workspace.adapters / "qwen-lora").resolve())
    for name in (
        "emb-run",
        "st-peft",
        "emb-with-peft",
        "merged-run",
        ".hidden",
        "empty",
        "../qwen-lora",
        "nope",
    ):
        assert widgets.find_adapter(workspace, name) is None, name


def test_generator_for_adapter_keeps_switches_or_refuses(tiny_lm_dir, tmp_path):
    from oracle.ui.widgets import generator_for_adapter

    choices = [f"local:{QWEN}", f"local:{SMOL}", "local:/ws/adapters/merged-1", "openai"]
    keep = generator_for_adapter(f"local:{QWEN}", [QWEN], choices)
    assert (keep.action, keep.generator, keep.base) == ("keep", f"local:{QWEN}", QWEN)
    for current in (f"local:{SMOL}", "openai", "fake:x", tiny_lm_dir):
        switch = generator_for_adapter(current, [QWEN, "/elsewhere/models/" + QWEN], choices)
        assert (switch.action, switch.generator) == ("switch", f"local:{QWEN}"), current
    # the dropdown's own entry is preferred (a merged model listed by its folder)
    merged = generator_for_adapter(f"local:{QWEN}", ["/ws/adapters/merged-1"], choices)
    assert (merged.action, merged.generator) == ("switch", "local:/ws/adapters/merged-1")
    # a base folder that exists, a hub id, a folder that is gone, no base at all
    assert (
        generator_for_adapter(f"local:{QWEN}", [tiny_lm_dir]).generator
        == f"local:{Path(tiny_lm_dir).resolve()}"
    )
    assert generator_for_adapter(f"local:{QWEN}", ["org/some-model"]).generator == "local:org/some-model"
    gone = generator_for_adapter("openai", [str(tmp_path / "gone")], choices)
    assert (gone.action, gone.generator) == ("unavailable", "openai")
    assert generator_for_adapter("", []).action == "unknown"
    assert generator_for_adapter(f"local:{tiny_lm_dir}", [tiny_lm_dir]).action == "keep"


# --- the app -------------------------------------------------------------------------------------


@pytest.fixture
def client(workspace, tiny_lm_dir):
    """A gradio_client over an app whose adapters/ holds the folders of :func:`_adapters_workspace`."""
    from gradio_client import Client

    from oracle.llm import FakeGenerator, register_generator
    from oracle.ui import create_app

    register_generator(
        "fake", lambda model, adapter=None, **kw: FakeGenerator(fn=lambda m: "ok [1]", adapter=adapter)
    )
    _adapters_workspace(workspace, tiny_lm_dir)
    demo = create_app(workspace=workspace, generator="fake:x", embedder=tiny_embedder_path())
    with serve(demo) as url:
        c = Client(url, verbose=False)
        try:
            yield c
        finally:
            c.close()


def _text(content) -> str:
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))


def test_choosing_an_adapter_switches_the_generator_or_refuses(client):
    from gradio_client.exceptions import AppError

    choice, adapter, status = client.predict("qwen-lora", f"local:{SMOL}", api_name="/chat_adapter")
    assert (choice, adapter) == (f"local:{QWEN}", "qwen-lora")
    assert "Gerador trocado" in status and QWEN in status and SMOL in status
    choice, adapter, status = client.predict("qwen-lora", "fake:x", api_name="/chat_adapter")
    assert (choice, adapter) == (f"local:{QWEN}", "qwen-lora")
    choice, adapter, status = client.predict("qwen-lora", f"local:{QWEN}", api_name="/chat_adapter")
    assert (choice, adapter) == (f"local:{QWEN}", "qwen-lora") and "trocado" not in status
    # its base folder is gone: refused, the adapter is unset
    choice, adapter, status = client.predict("gone-lora", f"local:{SMOL}", api_name="/chat_adapter")
    assert (choice, adapter) == (f"local:{SMOL}", "") and "não existe mais" in status
    # an embedder is not an adapter of the generator
    choice, adapter, status = client.predict("emb-run", f"local:{SMOL}", api_name="/chat_adapter")
    assert (choice, adapter) == (f"local:{SMOL}", "") and "emb-run" in status

    # another generator chosen by hand: the adapter that does not fit it goes
    adapter, status = client.predict(f"local:{SMOL}", "qwen-lora", api_name="/chat_generator")
    assert adapter == "" and "retirado" in status and QWEN in status
    adapter, status = client.predict("openai", "qwen-lora", api_name="/chat_generator")
    assert adapter == "" and "OpenAI" in status
    adapter, status = client.predict(f"local:{QWEN}", "qwen-lora", api_name="/chat_generator")
    assert adapter == "qwen-lora"

    # asked anyway with a mismatched pair: refused before any model loads, both models named
    with pytest.raises(AppError) as err:
        client.predict("Pergunta?", [], f"local:{SMOL}", "", "", "", "qwen-lora", 2, -1.0, False, 32,
                       api_name="/ask")  # fmt: skip
    assert "qwen-lora" in str(err.value) and QWEN in str(err.value) and SMOL in str(err.value)
    with pytest.raises(AppError, match="emb-run"):
        client.predict("Pergunta?", [], "fake:x", "", "", "", "emb-run", 2, -1.0, False, 32, api_name="/ask")


def test_ask_with_a_matching_adapter_answers_and_rates(client, workspace, tiny_lm_dir, tmp_path):
    from test_training import build_workspace

    make_lora(tiny_lm_dir, workspace.adapters / "tiny-lora",
              {"kind": "lora", "base_model": tiny_lm_dir, "created_at": "2025-06-01T00:00:00"})  # fmt: skip
    build_workspace(workspace, n=6, embedder=tiny_embedder_path())
    chat, cleared = client.predict("Qual é o valor do item 2?", [], f"local:{tiny_lm_dir}", "", "", "",
                                   "tiny-lora", 2, -1.0, False, 32, api_name="/ask")  # fmt: skip
    assert [m["role"] for m in chat] == ["user", "assistant"] and cleared == {"__type__": "update"}
    status, _, _ = client.predict("", "", api_name="/rate_down")
    (rating,) = [json.loads(line) for line in workspace.invalid.read_text("utf-8").splitlines()]
    assert rating["adapter"] == str((workspace.adapters / "tiny-lora").resolve())
    assert rating["model"] == f"local:{tiny_lm_dir}" and "anônimo" in status  # the stored "anonymous", shown in Portuguese


def test_restored_conversation_can_be_rated(client, workspace):
    from oracle.feedback import store_answer
    from oracle.schema import Answer, Citation

    answer = Answer(question="Qual é o prazo?", text="O prazo é 10 dias [1].", model="fake:x",
                    citations=[Citation(1, "d1", "edital.pdf", 2, "prazo de 10 dias", "d1:0:0")])  # fmt: skip
    store_answer(answer, workspace)  # as the chat did when it gave the answer
    stored = {"version": 1,
              "messages": [{"role": "user", "content": "Qual é o prazo?"},
                           {"role": "assistant", "content": "O prazo é 10 dias [1].\n\n**Fontes**"}],
              "answers": [{"index": 1, "answer": answer.to_dict()}]}  # fmt: skip
    messages = client.predict(stored, [], api_name="/chat_restore")
    assert [_text(m["content"]) for m in messages] == [
        "Qual é o prazo?",
        "O prazo é 10 dias [1].\n\n**Fontes**",
    ]
    client.predict("", "certo", api_name="/rate_up")
    (rating,) = [json.loads(line) for line in workspace.validated.read_text("utf-8").splitlines()]
    assert rating["answer_id"] == answer.answer_id and rating["comment"] == "certo"
    assert rating["citations"][0]["doc_name"] == "edital.pdf"


def test_a_restored_answer_is_rated_from_the_servers_record(client, workspace):
    """The browser's copy only names the answer: an answer the server does not hold is refused in
    Portuguese, with nothing written; a changed copy rates the stored answer, not the change."""
    from gradio_client.exceptions import AppError

    from oracle.feedback import store_answer
    from oracle.schema import Answer

    def restore(answer: Answer, shown: str) -> None:
        saved = {"version": 1, "messages": [{"role": "user", "content": answer.question},
                                            {"role": "assistant", "content": shown}],
                 "answers": [{"index": 1, "answer": answer.to_dict()}]}  # fmt: skip
        client.predict(saved, [], api_name="/chat_restore")

    restore(Answer(question="Outra?", text="Sim.", model="fake:x"), "Sim.")
    with pytest.raises(AppError, match="não está registrada no servidor"):
        client.predict("", "", api_name="/rate_up")
    assert not workspace.validated.exists() and not workspace.invalid.exists()

    stored = Answer(question="Qual é o prazo?", text="O prazo é 10 dias.", model="fake:x")
    store_answer(stored, workspace)
    restore(Answer.from_dict({**stored.to_dict(), "text": "O prazo é 99 dias.", "model": "outro"}), "O prazo é 99 dias.")
    client.predict("", "", api_name="/rate_down")
    (rating,) = [json.loads(line) for line in workspace.invalid.read_text("utf-8").splitlines()]
    assert (rating["answer_id"], rating["answer"], rating["model"]) == (stored.answer_id, stored.text, "fake:x")


# --- conversation saved in the browser ----------------------------------------------------------


def _answer(i: int) -> dict:
    from oracle.schema import Answer

    return Answer(question=f"q{i}", text=f"a{i}", model="openai:gpt-4o-mini").to_dict()


def test_history_round_trip_with_gradio_parts():
    from oracle.ui.chat import empty_store, history_from_store, history_to_store

    messages = [{"role": "user", "content": [{"type": "text", "text": "q0"}], "metadata": None},
                {"role": "assistant", "content": [{"type": "text", "text": "a0 "}, {"type": "text", "text": "[1]"}]},
                {"role": "user", "content": "q1"}, {"role": "assistant", "content": "a1"}]  # fmt: skip
    answers = [{"index": 1, "answer": _answer(0)}, {"index": 3, "answer": _answer(1)}]
    stored = history_to_store(messages, answers)
    assert set(stored) == {"version", "messages", "answers"} and stored["version"] == 1
    assert stored["messages"] == [{"role": "user", "content": "q0"}, {"role": "assistant", "content": "a0 [1]"},
                                  {"role": "user", "content": "q1"}, {"role": "assistant", "content": "a1"}]  # fmt: skip
    json.dumps(stored)  # what localStorage gets must be JSON
    restored_messages, restored_answers = history_from_store(json.loads(json.dumps(stored)))
    assert restored_messages == stored["messages"]
    assert [(a["index"], a["answer"]["answer_id"]) for a in restored_answers] == [
        (1, answers[0]["answer"]["answer_id"]),
        (3, answers[1]["answer"]["answer_id"]),
    ]
    assert history_to_store([], []) == empty_store() and history_from_store(empty_store()) == ([], [])


def test_history_keeps_the_latest_turns_and_shifts_answer_indexes():
    from oracle.ui.chat import history_from_store, history_to_store

    messages, answers = [], []
    for i in range(6):
        messages += [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}]
        answers.append({"index": len(messages) - 1, "answer": _answer(i)})
    stored = history_to_store(messages, answers, limit=5)  # 5 -> cut at a question: 4 messages
    assert [m["content"] for m in stored["messages"]] == ["q4", "a4", "q5", "a5"]
    assert [(a["index"], a["answer"]["question"]) for a in stored["answers"]] == [(1, "q4"), (3, "q5")]
    # an odd message in the middle (another role) does not misalign the answers
    odd = messages[:2] + [{"role": "system", "content": "x"}, "junk"] + messages[2:4]
    stored = history_to_store(odd, [{"index": 1, "answer": _answer(0)}, {"index": 5, "answer": _answer(1)}])
    assert [(a["index"], a["answer"]["question"]) for a in stored["answers"]] == [(1, "q0"), (3, "q1")]
    assert history_from_store(stored)[1][1]["index"] == 3


def test_history_from_a_tampered_or_old_store_is_cleaned():
    from oracle.ui.chat import history_from_store

    good = {"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}
    for bad in (None, "x", [], {"version": 0, "messages": list(good), "answers": []},
                {"version": 1, "messages": "nope", "answers": []}):  # fmt: skip
        assert history_from_store(bad) == ([], [])
    stored = {"version": 1, "messages": [*good, {"role": "tool", "content": "t"}, {"role": "assistant", "content": 3}],
              "answers": [{"index": 0, "answer": _answer(0)},  # points at a question
                          {"index": 1, "answer": {"question": "q"}},  # no text: not an Answer
                          {"index": 1, "answer": _answer(1)}, {"index": 1, "answer": _answer(2)},  # twice
                          {"index": 9, "answer": _answer(3)}, {"index": "1", "answer": _answer(4)}, "junk"]}  # fmt: skip
    messages, answers = history_from_store(stored)
    assert messages == [*good, {"role": "assistant", "content": ""}]
    assert [(a["index"], a["answer"]["question"]) for a in answers] == [(1, "q1")]


def test_chat_storage_key_is_per_workspace_and_stable(tmp_path):
    from oracle.config import Workspace
    from oracle.ui.chat import storage_key, storage_secret

    a, b = Workspace(tmp_path / "a"), Workspace(tmp_path / "b")
    assert storage_key(a) == storage_key(Workspace(tmp_path / "a")) != storage_key(b)
    assert storage_key(a).startswith("oracle-chat-") and storage_secret(a) != storage_secret(b)
