"""The run card (:mod:`oracle.training.card`): one typed ``train.json``, written and read in one place.

* the card: round trip through ``save``/``load`` (unknown keys kept), a ``train.json`` of an
  older version (no ``kind``) read with its kind inferred from the folder's files, clear errors
  for a folder without a card or with a broken one;
* where runs live: a real (tiny) embedder run lands in ``embedders/`` and is listed as an
  embedder, a real (tiny) LoRA run in ``adapters/`` as an adapter; an embedder an older version
  left in ``adapters/`` is still listed as an embedder, where it is (not moved);
* the one listing feeds the app (chat adapters, embedder choices, runs table), the command line
  (``train list``) and the getting-started counter.

Offline and fast: tiny models built from config, run folders written by hand or by real runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_training import WordIndex, build_workspace, tiny_cfg, topic_workspace
from tiny_lm import tiny_lm_dir  # noqa: F401 - fixture

from oracle.errors import ConfigError
from oracle.training.card import (
    KINDS,
    RunCard,
    RunCardError,
    find_adapter,
    find_run,
    generator_adapters,
    infer_kind,
    list_runs,
    new_card,
)


def _write(folder: Path, files: dict[str, object]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / name).write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return folder


def _old_embedder(folder: Path, train: dict | None = None) -> Path:
    """An embedder as an older version saved it under ``adapters/``: sentence-transformers files
    (``modules.json``...) and, optionally, a ``train.json`` without ``kind``."""
    files: dict[str, object] = {"modules.json": [], "config_sentence_transformers.json": {}}
    if train is not None:
        files["train.json"] = train
    return _write(folder, files)


# --- the card ---------------------------------------------------------------------------------------


def test_card_round_trip_keeps_every_field_and_unknown_keys(tmp_path):
    from oracle import rag

    card = new_card("lora", "meu-adaptador", "qwen2.5-coder-0.5b-instruct", base_model_path="/cache/qwen",
                    data={"files": [{"path": "a.qa.jsonl", "sha256": "ab" * 32, "n_examples": 3}], "n_train": 2},
                    hyperparameters={"rank": 8}, metrics={"eval_loss_before": 2.5, "eval_loss": 1.5},
                    device="cpu", precision="fp32", qlora=False, wall_time_s=12.3,
                    cost={"usd": 0.01, "brl": 0.05}, versions={"oracle": "0.1"}, extra={"future_field": [1, 2]})
    assert card.prompt_version == rag.PROMPT_VERSION and card.prompt_style == rag.DEFAULT_PROMPT
    assert card.created_at  # now, ISO 8601
    path = card.save(tmp_path / "run")
    text = path.read_text(encoding="utf-8")
    saved = json.loads(text)
    assert list(saved) == sorted(saved) and text.endswith("\n")  # sorted keys, like peft's adapter_config.json
    assert saved["kind"] == "lora" and saved["future_field"] == [1, 2] and "extra" not in saved
    assert "folder" not in saved and "source" not in saved and "prompts" not in saved  # None/not saved: left out
    assert not [p for p in (tmp_path / "run").iterdir() if p.name != "train.json"]  # no temp file left

    back = RunCard.load(tmp_path / "run")
    assert back == card  # every field, extra keys included (folder/source are not compared)
    assert back.folder == tmp_path / "run" and back.source == "train.json" and back.finished
    assert back.data_files == [{"path": "a.qa.jsonl", "sha256": "ab" * 32, "n_examples": 3}]
    assert back.to_dict() == saved
    # an embedder's card records its prompts, not a prompt version
    emb = new_card("embedding", "e", "multilingual-e5-small", prompts={"query": "query: "})
    emb.save(tmp_path / "emb")
    assert RunCard.load(tmp_path / "emb").prompts == {"query": "query: "} and emb.prompt_version is None


def test_card_validates_kind_and_refuses_to_save_what_training_never_writes(tmp_path):
    with pytest.raises(ConfigError) as err:
        RunCard(kind="lorra")
    assert "lorra" in str(err.value.params)
    with pytest.raises(ConfigError):
        RunCard(kind="lora", metrics=[1, 2])  # type: ignore[arg-type]
    for kind in ("merged", "unknown"):
        with pytest.raises(ConfigError):
            RunCard(kind=kind).save(tmp_path / kind)
        assert not (tmp_path / kind / "train.json").exists()
    assert set(KINDS) == {"lora", "embedding", "merged", "unknown"}


def test_old_train_json_without_kind_reads_with_the_kind_its_files_say(tmp_path):
    """``train.json`` files of older versions (and hand-made ones) have no ``kind``: a
    sentence-transformers folder is an embedder, a peft folder of a causal LM a LoRA adapter."""
    old = {"name": "velho", "base_model": "multilingual-e5-small", "created_at": "2025-01-01T00:00:00",
           "metrics": {"before": {"mrr@10": 0.5}, "after": {"mrr@10": 0.6}}, "wall_time_s": 3.0}
    emb = RunCard.load(_old_embedder(tmp_path / "emb", old))
    assert emb.kind == "embedding" and emb.base_model == "multilingual-e5-small"
    assert emb.metrics["after"]["mrr@10"] == 0.6 and emb.wall_time_s == 3.0 and emb.prompt_version is None
    lora = RunCard.load(_write(tmp_path / "lora", {"adapter_config.json": {"task_type": "CAUSAL_LM"},
                                                   "train.json": {"base_model": "x/y"}}))
    assert lora.kind == "lora" and lora.base_model == "x/y"
    bare = RunCard.load(_write(tmp_path / "bare", {"train.json": {}}))
    assert bare.kind == "unknown" and bare.finished
    # an explicit kind wins over the files (a peft folder whose card says embedding)
    explicit = _write(tmp_path / "explicit", {"adapter_config.json": {"task_type": "CAUSAL_LM"},
                                              "train.json": {"kind": "embedding"}})
    assert RunCard.load(explicit).kind == "embedding"
    # a field of the wrong type is dropped, the rest still reads
    odd = RunCard.load(_write(tmp_path / "odd", {"train.json": {"kind": "lora", "metrics": "n/a", "name": "o"}}))
    assert odd.metrics == {} and odd.name == "o"


def test_infer_kind_cases(tmp_path):
    assert infer_kind(_old_embedder(tmp_path / "st")) == "embedding"
    assert infer_kind(_write(tmp_path / "peft", {"adapter_config.json": {}})) == "lora"
    assert infer_kind(_write(tmp_path / "fx", {"adapter_config.json": {"task_type": "FEATURE_EXTRACTION"}})) == "unknown"
    assert infer_kind(_write(tmp_path / "merged", {"merge.json": {}})) == "merged"
    assert infer_kind(_write(tmp_path / "empty", {})) == "unknown"


def test_a_folder_without_a_card_or_with_a_broken_one_is_a_clear_error(tmp_path):
    empty = _write(tmp_path / "vazia", {})
    with pytest.raises(RunCardError) as err:
        RunCard.load(empty)
    assert err.value.key == "err.train.no_card" and str(empty) in err.value.message("pt")
    assert "train.json" in err.value.message("pt") and "embedders/" in err.value.message("en")
    assert RunCard.load(empty, missing_ok=True) is None
    broken = _write(tmp_path / "quebrada", {"train.json": "{not json"})
    with pytest.raises(RunCardError) as err:
        RunCard.load(broken)
    assert err.value.key == "err.train.bad_card" and "JSON" in err.value.message("pt")
    assert RunCard.load(broken, missing_ok=True) is None
    # of_folder never raises: what the files say
    inferred = RunCard.of_folder(_write(tmp_path / "peft", {"adapter_config.json": {"base_model_name_or_path": "b"}}))
    assert (inferred.kind, inferred.base_model, inferred.source, inferred.finished) == ("lora", "b", "", False)


def test_a_merged_model_reads_as_its_adapters_card_of_kind_merged(tmp_path):
    folder = _write(tmp_path / "m-merged", {"merge.json": {
        "base_model": "qwen", "adapter": "/ws/adapters/m", "created_at": "2026-02-02T00:00:00",
        "train": {"kind": "lora", "name": "m", "base_model": "qwen", "metrics": {"eval_loss": 1.0}}}})
    card = RunCard.load(folder)
    assert (card.kind, card.name, card.source, card.created_at) == ("merged", "m-merged", "merge.json",
                                                                    "2026-02-02T00:00:00")
    assert card.metrics == {"eval_loss": 1.0} and card.extra["merge"]["adapter"] == "/ws/adapters/m"


# --- where runs live ---------------------------------------------------------------------------------


def test_old_layout_embedder_in_adapters_is_listed_as_an_embedder_where_it_is(workspace):
    old = _old_embedder(workspace.adapters / "emb-antigo", {"base_model": "multilingual-e5-small",
                                                            "created_at": "2025-05-01T00:00:00"})
    _write(workspace.adapters / "lora-a", {"adapter_config.json": {"task_type": "CAUSAL_LM"},
                                           "train.json": {"kind": "lora", "created_at": "2025-06-01T00:00:00"}})
    new = _old_embedder(workspace.embedders / "emb-novo", {"kind": "embedding", "created_at": "2025-07-01T00:00:00"})
    _write(workspace.adapters / ".escondida", {"train.json": {"kind": "lora"}})

    runs = list_runs(workspace)
    assert [(r.name or r.folder.name, r.kind) for r in runs] == [
        ("emb-novo", "embedding"), ("lora-a", "lora"), ("emb-antigo", "embedding")]  # newest first
    assert [r.folder for r in list_runs(workspace, "embedding")] == [new, old]
    assert old.is_dir() and not (workspace.embedders / "emb-antigo").exists()  # read where it is, not moved
    assert find_run(workspace, "emb-antigo").folder == old
    assert find_run(workspace, "emb-antigo", "lora") is None
    assert [r.folder.name for r in generator_adapters(workspace)] == ["lora-a"]
    for bad in ("../lora-a", ".escondida", "", None, "nada"):
        assert find_run(workspace, bad) is None, bad
    # what merge and re-index check (app and command line) before starting a job
    assert find_run(workspace, "emb-antigo", "embedding").is_embedder
    assert find_run(workspace, "lora-a", "lora").is_generator_adapter and not find_run(workspace, "lora-a").is_embedder
    from oracle.cli import _model_ref

    assert _model_ref(workspace, "emb-antigo", "embedding") == str(old.resolve())
    # one name in both folders: the kind asked for decides
    _write(workspace.adapters / "emb-novo", {"adapter_config.json": {"task_type": "CAUSAL_LM"}})
    assert find_run(workspace, "emb-novo", "lora").folder == workspace.adapters / "emb-novo"
    assert find_run(workspace, "emb-novo", "embedding").folder == new == find_run(workspace, "emb-novo").folder
    # the chat applies only adapters of adapters/ (a peft folder put in embedders/ is not offered)
    _write(workspace.embedders / "stray-lora", {"adapter_config.json": {"task_type": "CAUSAL_LM"}})
    assert find_run(workspace, "stray-lora", "lora") is not None and find_adapter(workspace, "stray-lora") is None
    assert find_adapter(workspace, "lora-a").folder == workspace.adapters / "lora-a"
    assert [r.folder.name for r in generator_adapters(workspace)] == ["lora-a", "emb-novo"]


def test_the_app_the_cli_and_getting_started_use_the_one_listing(workspace, capsys):
    from oracle.cli import main
    from oracle.onboarding import getting_started
    from oracle.ui import widgets
    from oracle.ui.context import UIContext
    from oracle.ui.finetune import run_choices, runs_table

    _old_embedder(workspace.adapters / "emb-antigo", {"base_model": "multilingual-e5-small",
                                                      "metrics": {"before": {"mrr@10": 0.4}, "after": {"mrr@10": 0.5}}})
    _write(workspace.adapters / "lora-a", {"adapter_config.json": {"task_type": "CAUSAL_LM",
                                                                   "base_model_name_or_path": "x/base"},
                                           "train.json": {"kind": "lora", "base_model": "x/base"}})
    _old_embedder(workspace.embedders / "emb-novo", {"kind": "embedding", "base_model": "e5"})

    assert widgets.adapter_choices(workspace) == [("lora-a (x/base)", "lora-a")]  # embedders never offered to chat
    embedders = dict((v, label) for label, v in widgets.embedder_choices(workspace))
    assert str(workspace.adapters / "emb-antigo") in embedders and str(workspace.embedders / "emb-novo") in embedders
    ctx = UIContext(workspace)
    assert sorted(run_choices(ctx, "embedding")) == ["emb-antigo", "emb-novo"]
    rows = runs_table(ctx, "pt").values.tolist()
    assert sorted((r[0], r[1]) for r in rows) == [("emb-antigo", "embedding"), ("emb-novo", "embedding"),
                                                  ("lora-a", "lora")]
    assert main(["--home", str(workspace.home), "train", "list"]) == 0
    out = capsys.readouterr().out
    assert "emb-antigo  [embedding]" in out and "emb-novo  [embedding]" in out and "lora-a  [lora]" in out
    assert main(["--home", str(workspace.home), "train", "list", "--json"]) == 0
    listed = {Path(r["path"]).name: r["kind"] for r in json.loads(capsys.readouterr().out)}
    assert listed == {"emb-antigo": "embedding", "emb-novo": "embedding", "lora-a": "lora"}
    assert getting_started(workspace).n_runs == 3


def test_an_embedder_run_lands_in_embedders_and_a_lora_run_in_adapters(workspace, tmp_path, tiny_lm_dir):
    """Real tiny runs: the embedder's folder is ``embedders/<name>``, the adapter's ``adapters/<name>``,
    each with a card of its kind (the adapter's with the prompt version), listed as such."""
    from oracle import rag
    from oracle.training import data
    from oracle.training.embedding import EmbedTrainConfig, train_embedder
    from oracle.training.lora import train_lora

    topic_workspace(workspace, tmp_path, n=16)
    emb = train_embedder(workspace, name="emb-run", cfg=EmbedTrainConfig(epochs=1, batch_size=4, eval_fraction=0.2,
                                                                         learning_rate=1e-3))
    assert emb.status == "completed" and Path(emb.model_dir) == workspace.embedders / "emb-run"
    assert not (workspace.adapters / "emb-run").exists()
    emb_card = RunCard.load(emb.model_dir)
    assert emb_card.kind == "embedding" and emb_card.to_dict() == emb.info and emb_card.prompt_version is None
    # the app offers tuned embedders as a base by their run's name: it resolves to the folder
    again = train_embedder(workspace, "emb-run", "emb-run-2", EmbedTrainConfig(epochs=1, batch_size=4,
                                                                               eval_fraction=0.2))
    assert RunCard.load(again.model_dir).base_model == str(workspace.embedders / "emb-run")

    chunks = build_workspace(workspace, 20)
    td = data.prepare(workspace, WordIndex(chunks), eval_fraction=0.2)
    lora = train_lora(workspace, tiny_lm_dir, "lora-run", tiny_cfg(max_steps=1), data=td)
    assert lora.status == "completed" and Path(lora.adapter_dir) == workspace.adapters / "lora-run"
    lora_card = RunCard.load(lora.adapter_dir)
    assert lora_card.kind == "lora" and lora_card.prompt_version == rag.PROMPT_VERSION
    assert lora_card.to_dict() == lora.info and lora_card.metrics["steps"] == 1

    kinds = {r.folder.name: r.kind for r in list_runs(workspace)}
    assert kinds == {"emb-run": "embedding", "emb-run-2": "embedding", "lora-run": "lora"}
    assert [r.folder.name for r in generator_adapters(workspace)] == ["lora-run"]
