""""Melhorar o Oráculo" (oracle.improve): stage order, cancel and resume between stages, the gate,
quote-verified pairs with rejection counts, concurrency through an OpenAI-compatible server, the
job, the CLI. Offline and fast: a fake teacher, tiny models built from config."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from fake_teacher import TOPICS, chunk_of, make_workspace, teacher_reply, teacher_server
from tiny_embedder import tiny_embedder_dir  # noqa: F401 - fixture
from tiny_lm import tiny_lm_dir  # noqa: F401 - fixture

from oracle.defaults import ChatDefaults, read_defaults, write_defaults
from oracle.errors import ConfigError
from oracle.improve import (
    STAGES,
    Hooks,
    ImproveConfig,
    gate,
    generate_pairs,
    list_runs,
    rollback,
    run_pipeline,
)
from oracle.improve.pairs import PAIRS_DONE_FILE, REJECT_REASONS, pair_reject_reason
from oracle.improve.runs import comparison_headers, read_report, read_stages
from oracle.llm import FakeGenerator, OpenAIGenerator
from oracle.schema import Chunk, iter_jsonl

CHUNK = Chunk(chunk_id="d:0:x", doc_id="d", doc_name="d.txt", page_start=1, page_end=1, char_start=0, char_end=10,
              language="pt",
              text="O prazo de inscrição termina em 31 de março de 2026. A taxa de inscrição custa 80 reais.")


def small_cfg(**kw) -> ImproveConfig:
    return ImproveConfig(**{"min_chunk_tokens": 5, "pairs_per_chunk": 3, "eval_limit": 0, "n_offtopic": 3, **kw})


def fake_teacher(cfg=None) -> FakeGenerator:
    return FakeGenerator(fn=teacher_reply, name="fake-teacher")


# --- config --------------------------------------------------------------------------------------


def test_config_is_the_job_spec_and_validates():
    cfg = ImproveConfig(max_chunks=5, eval_fraction=0.3, stages=["evaluate", "pairs"])
    again = ImproveConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert again.to_dict() == cfg.to_dict()
    assert again.stages == ["pairs", "evaluate"]  # the order is the pipeline's, whatever was given
    # one held-out split for every stage
    assert again.embedding.eval_fraction == again.lora.eval_fraction == 0.3
    with pytest.raises(ConfigError):
        ImproveConfig(stages=["pairs", "dance"])
    with pytest.raises(ConfigError):
        ImproveConfig(concurrency=0)
    with pytest.raises(ConfigError):
        ImproveConfig(target_style="resumo")
    with pytest.raises(ConfigError):
        ImproveConfig.from_dict({"lora": {"rank": 0}})


def test_settings_apply_to_a_copy_by_field_path():
    from oracle.errors import OracleError
    from oracle.improve import with_settings

    base = ImproveConfig(teacher="openai:t", eval_fraction=0.2)
    base.lora.max_steps = 12  # no control sets it: it stays
    cfg = with_settings(base, {"lora.rank": 4.0, "lora.bf16": "off", "embedding.epochs": 2, "eval_fraction": 0.3,
                               "use_ratings": False, "student": "outro-modelo", "lora.alpha": None})
    assert cfg.lora.rank == 4 and isinstance(cfg.lora.rank, int)  # number widgets send floats
    assert cfg.lora.bf16 == "off" and cfg.embedding.epochs == 2.0 and cfg.use_ratings is False
    assert cfg.student == "outro-modelo" and cfg.teacher == "openai:t" and cfg.lora.max_steps == 12
    assert cfg.lora.alpha == base.lora.alpha  # None leaves a field as it is
    assert cfg.eval_fraction == cfg.lora.eval_fraction == cfg.embedding.eval_fraction == 0.3
    assert base.lora.rank == 8 and base.eval_fraction == 0.2  # the config given is not changed
    for bad in ({"lora.rank": 2.5}, {"lora.rank": 0}, {"lora.nope": 1}, {"nope": 1}, {"lora.dropout": "x"}):
        with pytest.raises(ConfigError):
            with_settings(base, bad)
    with pytest.raises(OracleError) as err:
        with_settings(base, {"eval_fraction": 0.0})
    assert err.value.key == "improve.err.eval_fraction" and "Avançado" in err.value.message("pt")


# --- stage 1: quote-verified pairs -------------------------------------------------------------------


def test_each_check_drops_pairs_for_its_own_reason():
    ok = {"question": "Quando termina o prazo de inscrição?", "answer": "Termina em 31 de março de 2026.",
          "quote": "o PRAZO de inscricao   termina em 31 de marco de 2026"}  # case, accents, spaces differ
    assert pair_reject_reason(ok, CHUNK, "pt") is None
    cases = {
        "no_quote": {**ok, "quote": ""},
        "quote_not_found": {**ok, "quote": "O prazo termina em abril."},
        "refers_to_text": {**ok, "question": "Segundo o texto, quando termina o prazo?"},
        "short_question": {**ok, "question": "Prazo?"},
        "not_grounded": {**ok, "answer": "Os candidatos estrangeiros recebem bolsas integrais automaticamente."},
        "trivial": {**ok, "question": "Quando termina o prazo de inscrição de 31 de março?", "answer": "31 de março."},
        "language": {**ok, "question": "When does the registration period end for the course?"},
        # the quote is in the chunk but is another sentence than the answer's
        "quote_unsupported": {**ok, "quote": "A taxa de inscrição custa 80 reais."},
    }
    for reason, item in cases.items():
        assert pair_reject_reason(item, CHUNK, "pt") == reason, reason
    assert set(cases) | {"no_quote"} <= set(REJECT_REASONS)


def test_the_training_snapshot_leaves_out_unreviewed_pairs_whose_quote_does_not_state_the_answer(workspace):
    from oracle.improve.stages import RunContext, ensure_snapshot
    from oracle.schema import write_jsonl_atomic

    question = "Quando termina o prazo de inscrição?"
    rows = [  # pairs an earlier run kept, before stage 1 checked that the quote states the answer
        {"qa_id": "a", "question": question, "answer": "Em 31 de março.", "quote": CHUNK.text, "status": "generated"},
        {"qa_id": "b", "question": "Qual é a taxa?", "answer": "Custa 95 reais.", "quote": "A taxa custa 80 reais.",
         "status": "generated"},
        {"qa_id": "c", "question": "Qual é o valor?", "answer": "São 95 reais.", "quote": "A taxa custa 80 reais.",
         "status": "approved"},  # a reviewer's judgement stands
        {"qa_id": "d", "question": "Quem organiza?", "answer": "A reitoria.", "status": "generated"},  # no quote
    ]
    workspace.data_qa.mkdir(parents=True, exist_ok=True)
    write_jsonl_atomic(workspace.data_qa / "d.qa.jsonl", rows)
    run_dir = workspace.home / "improve" / "r"
    ctx = RunContext(workspace=workspace, cfg=small_cfg(), run_id="r", run_dir=run_dir, state_dir=run_dir,
                     log=lambda record: None, should_stop=lambda: False)
    assert [r["qa_id"] for r in iter_jsonl(ensure_snapshot(ctx))] == ["a", "c", "d"]


def test_pairs_keep_only_verified_quotes_count_rejections_and_resume(workspace, tmp_path):
    make_workspace(workspace, tmp_path)
    teacher = fake_teacher()
    run = workspace.home / "improve" / "r1"
    report = generate_pairs(workspace, small_cfg(), run, teacher, "r1")
    assert report.n_selected == report.n_done == 10 and len(teacher.calls) == 10
    # per chunk: the deadline (quote upper-cased, verified after normalisation) and the fee are kept;
    # the invented fact's quote is in no chunk
    assert report.n_kept == 20
    assert report.rejections["quote_not_found"] == 10
    assert sum(report.rejections.values()) == 10
    kept = list(iter_jsonl(run / "pairs.jsonl"))
    assert all(p["quote"] and p["run_id"] == "r1" and p["generator"] == "fake-teacher" for p in kept)
    assert not any("Maria Souza" in p["answer"] for p in kept)
    dropped = list(iter_jsonl(run / "pairs.rejected.jsonl"))  # each dropped pair with its reason
    assert len(dropped) == 10 and {d["reason"] for d in dropped} == {"quote_not_found"}
    assert all("Maria Souza" in d["answer"] for d in dropped)
    # the prompt asks for the quote
    assert '"quote"' in teacher.calls[0][-1]["content"]
    # a rerun asks nothing again and reports the same totals
    again = fake_teacher()
    second = generate_pairs(workspace, small_cfg(), run, again, "r1")
    assert again.calls == [] and second.n_kept == 20 and second.rejections == report.rejections
    # a new run finds the pairs of data_qa (published) and drops them as duplicates
    from oracle.improve.pairs import publish_pairs

    assert publish_pairs(workspace, kept) == 20 and publish_pairs(workspace, kept) == 0
    third = generate_pairs(workspace, small_cfg(use_existing_pairs=False), workspace.home / "improve" / "r2",
                           fake_teacher(), "r2")
    assert third.n_kept == 0 and third.rejections["duplicate"] == 20


def test_a_question_that_leads_the_search_to_another_passage_is_dropped(
        workspace, tmp_path, tiny_embedder_dir):
    """Round trip (``round_trip_k``): a pair whose question, asked of the chat's index, does not bring back
    its own passage is dropped as ``not_retrieved``; off by default, and skipped without an index."""
    from oracle.index import load_index

    make_workspace(workspace, tmp_path, embedder=tiny_embedder_dir)

    def teacher(messages):  # the usual pairs, plus the fee asked about another course than the chunk's
        pairs = json.loads(teacher_reply(messages))["pairs"]
        topic = re.search(r"O curso de (\w+)", chunk_of(messages)).group(1)
        other = TOPICS[(TOPICS.index(topic) + 5) % len(TOPICS)]
        pairs.append({**pairs[1], "question": f"Quanto custa a taxa do curso de {other} na secretaria?"})
        return json.dumps({"pairs": pairs}, ensure_ascii=False)

    index = load_index(workspace, "default")
    cfg = small_cfg(pairs_per_chunk=4, round_trip_k=1, use_existing_pairs=False)
    report = generate_pairs(workspace, cfg, workspace.home / "improve" / "rt", FakeGenerator(fn=teacher),
                            "rt", index=index)
    assert report.n_kept == 20 and report.rejections["not_retrieved"] == 10
    assert report.rejections["quote_not_found"] == 10
    dropped = [d for d in iter_jsonl(workspace.home / "improve" / "rt" / "pairs.rejected.jsonl")
               if d["reason"] == "not_retrieved"]
    assert len(dropped) == 10 and all("Quanto custa a taxa do curso de" in d["question"] for d in dropped)
    off = generate_pairs(workspace, small_cfg(pairs_per_chunk=4, use_existing_pairs=False),
                         workspace.home / "improve" / "off", FakeGenerator(fn=teacher), "off", index=index)
    assert ImproveConfig().round_trip_k == 0 and off.n_kept == 30 and off.rejections["not_retrieved"] == 0
    no_index = generate_pairs(workspace, cfg, workspace.home / "improve" / "none", FakeGenerator(fn=teacher),
                              "none")
    assert no_index.n_kept == 30


def test_the_teacher_is_released_after_the_training_questions(workspace, tmp_path, monkeypatch):
    """The pairs stage frees the models it loaded (a llama.cpp teacher is closed) before training."""
    from oracle import llm, models

    class FakeLlama:
        closed = False

        def close(self):
            self.closed = True

    fake = FakeLlama()
    monkeypatch.setitem(llm._LLAMA_MODELS, "teacher.gguf", fake)
    monkeypatch.setitem(llm._LLAMA_LOCKS, "teacher.gguf", __import__("threading").Lock())
    cleared = []
    monkeypatch.setattr(models, "clear_cache", lambda: cleared.append(True))
    make_workspace(workspace, tmp_path)
    out = run_pipeline(workspace, small_cfg(stages=["pairs"]), run_id="free", hooks=Hooks(teacher=fake_teacher))
    assert out["status"] == "completed"
    assert fake.closed and "teacher.gguf" not in llm._LLAMA_MODELS and cleared == [True]
    assert llm.release_llama_models() == 0  # nothing left to release


def test_pairs_spread_over_the_document_and_stop_when_asked(workspace, tmp_path):
    make_workspace(workspace, tmp_path)
    teacher = fake_teacher()
    run = workspace.home / "improve" / "r1"
    report = generate_pairs(workspace, small_cfg(max_chunks=3), run, teacher, "r1")
    asked = [next(t for t in TOPICS if f"curso de {t} " in call[-1]["content"]) for call in teacher.calls]
    assert report.n_selected == 3 and asked[0] != TOPICS[0] and asked[-1] != TOPICS[0]  # not the first three
    assert TOPICS.index(asked[-1]) >= 6  # reaches the end of the document
    stop_after = iter([False, True])
    other = workspace.home / "improve" / "r2"
    cut = generate_pairs(workspace, small_cfg(use_existing_pairs=False), other, fake_teacher(), "r2",
                         should_stop=lambda: next(stop_after, True))
    assert cut.status == "cancelled" and cut.n_done == 2
    assert len(list(iter_jsonl(other / PAIRS_DONE_FILE))) == 2


def test_requests_run_concurrently_through_an_openai_compatible_server(workspace, tmp_path):
    make_workspace(workspace, tmp_path)
    for concurrency, expected in ((4, 4), (1, 1)):
        with teacher_server(delay_s=0.2) as server:
            teacher = OpenAIGenerator("fake-teacher", base_url=server.url, timeout_s=10, max_retries=0)
            report = generate_pairs(workspace, small_cfg(concurrency=concurrency, use_existing_pairs=False),
                                    workspace.home / "improve" / f"c{concurrency}", teacher, "c")
        assert report.concurrency == concurrency
        assert server.n_requests == 10 and server.max_in_flight == expected
        assert report.n_kept == 20 and report.rejections["quote_not_found"] == 10


def test_a_local_model_is_asked_one_chunk_at_a_time(workspace, tmp_path):
    make_workspace(workspace, tmp_path, n=3)
    report = generate_pairs(workspace, small_cfg(concurrency=4), workspace.home / "improve" / "r", fake_teacher(), "r")
    assert report.concurrency == 1


# --- stage order, cancel, resume --------------------------------------------------------------------


def recorder(calls: list, stop_after: str | None = None, flag: dict | None = None):
    def make(name):
        def fn(ctx):
            calls.append(name)
            if name == stop_after:
                flag["stop"] = True
            return {"status": "completed", "seen": sorted(ctx.outputs)}

        return fn

    return {name: make(name) for name in STAGES}


def test_stages_run_in_order_and_a_resume_does_not_redo_finished_ones(workspace):
    calls: list[str] = []
    flag = {"stop": False}
    fns = recorder(calls, stop_after="embedder", flag=flag)
    out = run_pipeline(workspace, ImproveConfig(), run_id="run-a", stage_functions=fns,
                       should_stop=lambda: flag["stop"])
    assert out["status"] == "cancelled" and calls == ["pairs", "embedder"]
    records = read_stages(workspace.home / "improve" / "run-a")
    assert [records[s]["state"] for s in ("pairs", "embedder")] == ["completed", "completed"]
    assert "generator" not in records
    assert read_report(workspace, "run-a")["state"] == "running"
    flag["stop"] = False
    out = run_pipeline(workspace, ImproveConfig(), run_id="run-a", stage_functions=fns,
                       should_stop=lambda: flag["stop"])
    assert out["status"] == "completed"
    assert calls == ["pairs", "embedder", "generator", "evaluate"]  # nothing done twice
    records = read_stages(workspace.home / "improve" / "run-a")
    assert records["evaluate"]["output"]["seen"] == ["embedder", "generator", "pairs"]  # earlier outputs reloaded
    assert read_report(workspace, "run-a")["state"] == "completed"


def test_unselected_stages_are_skipped_with_a_reason_and_a_failed_stage_is_rerun(workspace):
    calls: list[str] = []
    fns = recorder(calls)

    def boom(ctx):
        calls.append("generator!")
        raise RuntimeError("out of memory")

    out = run_pipeline(workspace, ImproveConfig(stages=["pairs", "evaluate"]), run_id="run-b", stage_functions=fns)
    assert out["status"] == "completed" and calls == ["pairs", "evaluate"]
    records = read_stages(workspace.home / "improve" / "run-b")
    assert records["embedder"]["state"] == "skipped" and records["embedder"]["output"]["reason"] == "not_selected"
    calls.clear()
    with pytest.raises(RuntimeError):
        run_pipeline(workspace, ImproveConfig(), run_id="run-c", stage_functions={**fns, "generator": boom})
    records = read_stages(workspace.home / "improve" / "run-c")
    assert records["generator"]["state"] == "failed" and "out of memory" in records["generator"]["error"]
    run_pipeline(workspace, ImproveConfig(), run_id="run-c", stage_functions=fns)
    assert calls == ["pairs", "embedder", "generator!", "generator", "evaluate"]


# --- the gate and promotion ---------------------------------------------------------------------------


def summary(keyfacts: float, abstention: float) -> dict:
    return {"summary": {"keyfact_accuracy": keyfacts, "abstention": abstention, "n_unanswerable": 3,
                        "n_answerable": 4, "unsupported": 0.0, "over_abstention": 0.1, "answer_p50": 2.0},
            "retrieval": {"mrr@10": 0.5}}


def test_gate_needs_more_key_facts_and_no_fewer_refusals():
    assert gate({"keyfact_accuracy": 0.3, "abstention": 0.8}, {"keyfact_accuracy": 0.4, "abstention": 0.8})[0]
    assert gate({"keyfact_accuracy": 0.3, "abstention": 0.8},
                {"keyfact_accuracy": 0.3, "abstention": 0.9})[1] == "keyfacts_not_better"
    assert gate({"keyfact_accuracy": 0.3, "abstention": 0.8, "n_unanswerable": 5},
                {"keyfact_accuracy": 0.5, "abstention": 0.6, "n_unanswerable": 5})[1] == "abstention_fell"
    assert not gate({"keyfact_accuracy": 0.3}, {"keyfact_accuracy": 0.32}, min_keyfact_gain=0.05)[0]


def fake_lora(ctx):
    """Stage 3 replaced by a finished adapter folder (the gate is under test, not training)."""
    name = f"improve-{ctx.run_id}-lora"
    folder = ctx.workspace.adapters / name
    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text("{}")
    return {"status": "completed", "adapter": name, "adapter_dir": str(folder), "student": ctx.cfg.student}


def scripted_evaluation(after_keyfacts: float, after_abstention: float = 0.8):
    seen = []

    def evaluate(ctx, label, generator, adapter, index, gold_files, out_dir):
        seen.append({"label": label, "generator": generator, "adapter": adapter, "gold": gold_files})
        if label == "aluno":  # the student without its adapter
            return summary(0.35, 0.8)
        return summary(0.5, 0.8) if label == "antes" else summary(after_keyfacts, after_abstention)

    return evaluate, seen


def test_a_worse_model_is_refused_and_the_old_defaults_stay(workspace, tmp_path, tiny_embedder_dir):
    make_workspace(workspace, tmp_path, embedder=tiny_embedder_dir)
    write_defaults(workspace, ChatDefaults(adapter=None))
    before = read_defaults(workspace)
    evaluate, seen = scripted_evaluation(after_keyfacts=0.4)
    cfg = small_cfg(stages=["pairs", "generator", "evaluate"])
    out = run_pipeline(workspace, cfg, run_id="worse", hooks=Hooks(teacher=fake_teacher, evaluate=evaluate),
                       stage_functions={"generator": fake_lora})
    assert out["status"] == "completed" and out["promoted"] is False and out["reason"] == "keyfacts_not_better"
    assert read_defaults(workspace) == before  # nothing promoted
    # before: the chat's defaults; then the student without the adapter (the chat runs another
    # generator); after: the student with the new adapter; same questions
    assert before.generator != cfg.student
    assert [s["label"] for s in seen] == ["antes", "aluno", "depois"]
    assert seen[0]["adapter"] is None and seen[2]["adapter"].endswith("improve-worse-lora")
    assert (seen[1]["generator"], seen[1]["adapter"]) == (cfg.student, None)
    assert seen[0]["gold"] == seen[1]["gold"] == seen[2]["gold"]
    gold = [json.loads(line) for line in Path(seen[0]["gold"][0]).read_text(encoding="utf-8").splitlines()]
    answerable = [g for g in gold if g["answerable"]]
    assert sum(not g["answerable"] for g in gold) == 3 and answerable
    assert all(g["keyfacts"] for g in answerable)
    from oracle.training.data import split_of

    assert all(split_of(g["question"], cfg.eval_fraction) == "eval" for g in answerable)  # never trained on
    report = read_report(workspace, "worse")
    assert report["before"]["keyfact_accuracy"] == 0.5 and report["after"]["keyfact_accuracy"] == 0.4
    md = (workspace.home / "improve" / "worse" / "report.md").read_text(encoding="utf-8")
    assert "Não promovido" in md and "| Medida | Antes | Aluno sem adaptador | Depois |" in md
    assert "| acertos (fatos-chave na resposta) | 50% | 35% | 40% |" in md  # the adapter's own gain: +5
    assert report["student_base"]["keyfact_accuracy"] == 0.35
    # the report names the chains it compared
    assert f"Antes: {before.generator}, índice default." in md
    assert f"Depois: {cfg.student} + adaptador improve-worse-lora, índice default." in md
    assert f"Aluno sem adaptador: {cfg.student}, índice default" in md
    # a better one is promoted; rolling back to the first run restores the old defaults
    evaluate, _ = scripted_evaluation(after_keyfacts=0.7)
    out = run_pipeline(workspace, cfg, run_id="better", hooks=Hooks(teacher=fake_teacher, evaluate=evaluate),
                       stage_functions={"generator": fake_lora})
    assert out["promoted"] is True
    now = read_defaults(workspace)
    assert now.adapter == "improve-better-lora" and now.run_id == "better"
    runs = {r["run_id"]: r for r in list_runs(workspace)}
    assert runs["better"]["current"] and runs["better"]["keyfacts_after"] == 0.7
    assert not runs["worse"]["promoted"] and runs["worse"]["keyfacts_before"] == 0.5
    rollback(workspace, "worse")
    assert read_defaults(workspace).adapter is None
    rollback(workspace, "better")
    assert read_defaults(workspace).adapter == "improve-better-lora"


def test_fewer_correct_refusals_block_promotion(workspace, tmp_path, tiny_embedder_dir):
    make_workspace(workspace, tmp_path, embedder=tiny_embedder_dir)
    cfg = small_cfg(stages=["pairs", "generator", "evaluate"])
    write_defaults(workspace, ChatDefaults(generator=cfg.student, adapter=None))  # the chat runs the bare student
    evaluate, seen = scripted_evaluation(after_keyfacts=0.9, after_abstention=0.5)
    out = run_pipeline(workspace, cfg, run_id="r",
                       hooks=Hooks(teacher=fake_teacher, evaluate=evaluate), stage_functions={"generator": fake_lora})
    assert out["promoted"] is False and out["reason"] == "abstention_fell"
    assert read_defaults(workspace).adapter is None
    # "before" is already the student without an adapter: it is not scored twice
    assert [s["label"] for s in seen] == ["antes", "depois"] and "student" not in out
    assert comparison_headers(read_report(workspace, "r"), "pt") == ["Medida", "Antes", "Depois"]


def scripted_embedder_training(monkeypatch, tiny_embedder_dir, scores: dict) -> None:
    """Embedder training replaced by a copy of the base whose validation MRR@10 goes from
    ``scores["before"]`` to ``scores["best"]`` (read at each run, so a test can change them)."""
    from oracle.training import embedding
    from oracle.training.embedding import EmbedResult

    monkeypatch.setattr(embedding, "MIN_TRAIN_FOR_VALIDATION", 5)  # 20 pairs: enough for a validation split

    def fake_train(ws, base, name, cfg, **kw):
        folder = ws.embedders / name
        shutil.copytree(tiny_embedder_dir, folder)
        metrics = {"validation": {"before": {"mrr@10": scores["before"]}, "best": {"mrr@10": scores["best"]}},
                   "n_pairs": 12}
        (folder / "train.json").write_text(json.dumps({"metrics": metrics, "base_model": base}))
        return EmbedResult(name, "completed", str(folder), {"metrics": metrics})

    monkeypatch.setattr(embedding, "train_embedder", fake_train)


def test_embedder_gate_keeps_the_index_unless_validation_improves(workspace, tmp_path, tiny_embedder_dir, monkeypatch):
    """Training is replaced by a copy of the base with scripted validation scores; the gate, the
    re-index into a candidate index, the promotion swap and the rollback are real."""
    from oracle.improve import stages
    from oracle.index import index_stats, load_index

    make_workspace(workspace, tmp_path, embedder=tiny_embedder_dir)
    scores = {"before": 0.50, "best": 0.575}
    scripted_embedder_training(monkeypatch, tiny_embedder_dir, scores)
    evaluate, _ = scripted_evaluation(after_keyfacts=0.7)
    cfg = small_cfg(stages=["pairs", "embedder", "evaluate"])
    out = run_pipeline(workspace, cfg, run_id="small-gain", hooks=Hooks(teacher=fake_teacher, evaluate=evaluate))
    record = read_stages(workspace.home / "improve" / "small-gain")["embedder"]
    assert out["status"] == "completed" and record["state"] == "skipped"
    assert record["output"]["reason"] == "embedder_no_gain"  # +0.075 is under min_mrr_gain (0.1)
    assert out["reason"] == "nothing_new"  # nothing to compare: no evaluation, nothing promoted
    assert not (workspace.embedders / "improve-small-gain-embedder").exists()  # the loser is not kept
    assert not workspace.index_dir("improve-small-gain").exists()
    scores["best"] = 0.65
    out = run_pipeline(workspace, cfg, run_id="win", hooks=Hooks(teacher=fake_teacher, evaluate=evaluate))
    record = read_stages(workspace.home / "improve" / "win")["embedder"]
    assert record["state"] == "completed" and record["output"]["candidate_index"] == "improve-win"
    cand = index_stats(workspace, "improve-win")
    assert cand["exists"] and cand["embedder"].endswith("improve-win-embedder")
    assert cand["n_chunks"] == 10
    # promoted: the chat's index is now the tuned one (swapped in whole), the old one kept beside it
    assert out["promoted"]
    chat = load_index(workspace, "default", cache=False)
    assert chat.embedder.endswith("improve-win-embedder") and len(chat) == 10
    assert index_stats(workspace, "default.prev")["embedder"] == tiny_embedder_dir
    assert read_defaults(workspace).embedder.endswith("improve-win-embedder")
    # back to the first run: the base embedder again, same chunks
    rollback(workspace, "small-gain")
    chat = load_index(workspace, "default", cache=False)
    assert chat.embedder == tiny_embedder_dir and len(chat) == 10
    assert stages.OFFTOPIC_QUESTIONS["pt"]  # the unanswerable questions exist in both languages
    assert len(stages.OFFTOPIC_QUESTIONS["pt"]) == len(stages.OFFTOPIC_QUESTIONS["en"])


def test_a_new_index_that_ranks_lower_is_not_promoted(workspace, tmp_path, tiny_embedder_dir, monkeypatch):
    """The embedder wins on its validation split, the answers gain, but on stage 4's questions the
    new index ranks the right chunks lower than the chat's: nothing is promoted, and the reason
    gives both search scores."""
    from oracle.improve.runs import reason_text
    from oracle.index import load_index

    make_workspace(workspace, tmp_path, embedder=tiny_embedder_dir)
    scripted_embedder_training(monkeypatch, tiny_embedder_dir, {"before": 0.50, "best": 0.65})
    evaluate, _ = scripted_evaluation(after_keyfacts=0.7)

    def lower_search(ctx, label, generator, adapter, index, gold_files, out_dir):
        result = evaluate(ctx, label, generator, adapter, index, gold_files, out_dir)
        return {**result, "retrieval": {"mrr@10": 0.45}} if label == "depois" else result

    before = read_defaults(workspace)
    cfg = small_cfg(stages=["pairs", "embedder", "evaluate"])
    out = run_pipeline(workspace, cfg, run_id="lower", hooks=Hooks(teacher=fake_teacher, evaluate=lower_search))
    assert read_stages(workspace.home / "improve" / "lower")["embedder"]["state"] == "completed"
    assert out["promoted"] is False and out["reason"] == "retrieval_fell"
    report = read_report(workspace, "lower")
    assert (report["params"]["mrr_before"], report["params"]["mrr_after"]) == (0.5, 0.45)
    assert "0,5 → 0,45" in reason_text(report["reason"], report["params"], "pt")
    assert read_defaults(workspace) == before
    assert load_index(workspace, "default", cache=False).embedder == tiny_embedder_dir  # the chat's index stays
    # the same figures with the retriever unchanged (no embedder stage): only the answers count
    assert gate(summary(0.5, 0.8)["summary"], summary(0.7, 0.8)["summary"]) == (
        True, "promoted", {"before": 0.5, "after": 0.7, "abst_before": 0.8, "abst_after": 0.8})
    assert gate(summary(0.5, 0.8)["summary"], summary(0.7, 0.8)["summary"], mrr_before=0.5, mrr_after=0.5)[0]


def test_whole_pipeline_with_tiny_models_promotes_the_adapter(workspace, tmp_path, tiny_embedder_dir, tiny_lm_dir,
                                                           monkeypatch):
    """Real stages 1-3 on tiny models (embedder stage: too few questions for validation, skipped),
    a scripted evaluation that improves: the adapter becomes the default; its RAFT targets carry quotes."""
    make_workspace(workspace, tmp_path, embedder=tiny_embedder_dir)
    evaluate, _ = scripted_evaluation(after_keyfacts=0.8)
    cfg = small_cfg(student=tiny_lm_dir)
    cfg.lora.max_steps, cfg.lora.max_seq_len, cfg.lora.bf16, cfg.lora.save_steps = 2, 512, "off", 100
    cfg.lora.rank, cfg.lora.alpha, cfg.lora.grad_accum = 4, 8, 1
    cfg.embedding.epochs, cfg.embedding.batch_size, cfg.embedding.bf16 = 1, 4, "off"
    cfg.distill = True  # the teacher's own chat answers become targets where they hold the key facts
    targets = []
    from oracle.training import lora

    real = lora.train_lora

    def spy(*args, **kw):
        targets.extend(ex.target for ex in kw["data"].train)
        return real(*args, **kw)

    monkeypatch.setattr(lora, "train_lora", spy)
    logged = []

    def chat_answer(messages):  # asked for pairs: the usual reply; asked a chat question: read the sources
        prompt = messages[-1]["content"]
        if '"quote"' in prompt:
            return teacher_reply(messages)
        topic = re.search(r"curso de (\w+)", prompt.rsplit("Pergunta", 1)[-1])
        day = topic and re.search(rf"O curso de {topic.group(1)} tem inscrições abertas até o dia (\d+)", prompt)
        return f"As inscrições vão até o dia {day.group(1)} de março de 2026 [1]." if day else "Não sei."

    out = run_pipeline(workspace, cfg, run_id="full", log=logged.append,
                       hooks=Hooks(teacher=lambda c: FakeGenerator(fn=chat_answer, name="fake-teacher"),
                                   evaluate=evaluate))
    records = read_stages(workspace.home / "improve" / "full")
    assert out["status"] == "completed", records
    distilled = records["generator"]["output"]["distill"]
    assert distilled["n_asked"] > 0 and distilled["n_kept"] > 0  # the deadline questions
    assert distilled["n_missing_facts"] > 0  # "Não sei." to the fee questions
    assert any(re.search(r"^As inscrições vão até o dia \d+ de março de 2026 \[1\]\.$", t, re.M) for t in targets)
    assert records["embedder"]["state"] == "skipped" and records["embedder"]["output"]["reason"] == "no_validation"
    assert records["generator"]["state"] == "completed"
    assert any(t.startswith("Trecho: \"") for t in targets)  # the target starts with its verified quote
    assert (workspace.adapters / "improve-full-lora" / "adapter_config.json").is_file()
    assert out["promoted"] and read_defaults(workspace).adapter == "improve-full-lora"
    assert read_defaults(workspace).generator == tiny_lm_dir
    stages_logged = [r["stage"] for r in logged if r.get("event") == "start"]
    assert stages_logged == ["pairs", "embedder", "generator", "evaluate"]
    assert any(r.get("stage") == "generator" and r.get("loss") is not None for r in logged)
    # the training questions' progress says how long is left from the second chunk on (the first
    # one's time holds the teacher's loading, not the pace of a chunk)
    pairs_progress = [r for r in logged if r.get("stage") == "pairs" and r.get("step") and "event" not in r]
    assert len(pairs_progress) > 2 and pairs_progress[0]["eta_s"] is None
    assert all(r["eta_s"] is not None and r["eta_s"] >= 0 for r in pairs_progress[1:])
    assert pairs_progress[-1]["eta_s"] == 0  # all done
    # the pairs are in data_qa for review
    from oracle.qa_generation import load_qa

    assert len(load_qa(workspace)) == records["pairs"]["output"]["n_kept"] == 20


# --- job, summary, CLI --------------------------------------------------------------------------------


def test_the_run_is_one_job_that_resumes_after_a_cancel(workspace, tmp_path):
    from tiny_embedder import tiny_embedder_path

    from oracle import jobs
    from oracle.errors import IndexNotFoundError
    from oracle.improve import start, status
    from oracle.index import build_index

    doc = make_workspace(workspace, tmp_path, embedder=None)
    with pytest.raises(IndexNotFoundError):  # no index yet: the app's button says to build it first
        start(workspace, small_cfg())
    from oracle.config import ChunkingConfig

    build_index([doc], workspace, embedder=tiny_embedder_path(), chunking=ChunkingConfig(chunk_size=64, chunk_overlap=0))
    with teacher_server(delay_s=0.3) as server:
        cfg = small_cfg(stages=["pairs", "evaluate"], teacher="openai:fake-teacher", base_url=server.url, concurrency=1)
        job_id = start(workspace, cfg)
        # cancel once a few chunks are done
        import time

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            jobs.reconcile(workspace)
            done = list(iter_jsonl(workspace.home / "improve" / job_id / PAIRS_DONE_FILE))
            if len(done) >= 2:
                break
            time.sleep(0.1)
        jobs.cancel(workspace, job_id)
        final = jobs.wait(workspace, job_id, timeout_s=60)
        assert final.state == jobs.CANCELLED and final.resumable  # the UI offers to resume
        first = server.n_requests
        assert 2 <= first < 10
        jobs.resume(workspace, job_id)
        final = jobs.wait(workspace, job_id, timeout_s=120)
        assert final.state == jobs.COMPLETED, jobs.process_tail(workspace, job_id)
        assert server.n_requests == 10  # no chunk asked twice
    view = status(workspace, job_id)
    assert [s["state"] for s in view["stages"]] == ["completed", "skipped", "skipped", "completed"]
    assert view["report"]["reason"] == "nothing_new"
    assert (jobs.job_dir(workspace, job_id) / "stages.json").is_file()
    assert final.result["run_id"] == job_id


def test_data_summary_in_plain_portuguese_with_warnings(workspace, tmp_path):
    from oracle.improve import data_summary
    from oracle.improve.pairs import load_pairs, publish_pairs

    make_workspace(workspace, tmp_path)
    empty = data_summary(workspace)
    assert empty["text"] == "0 perguntas geradas, 0 avaliações válidas, 0 corrigidas"
    assert any("Poucas perguntas prontas: 0" in w for w in empty["warnings"])
    run = workspace.home / "improve" / "r"
    generate_pairs(workspace, small_cfg(), run, fake_teacher(), "r")
    publish_pairs(workspace, load_pairs(run))
    s = data_summary(workspace)
    assert s["n_pairs"] == s["n_generated"] == 20
    assert s["text"].startswith("20 perguntas geradas")
    assert any("não foram revisadas" in w for w in s["warnings"])


def test_data_summary_counts_agree_with_their_nouns():
    """One question is 'pergunta gerada', not 'perguntas geradas' (i18n.tn picks the form)."""
    from oracle.i18n import t, tn

    def summary(pairs, valid, corrected, lang):
        return t("improve.summary", lang, pairs=tn("improve.summary.pairs", pairs, lang),
                 valid=tn("improve.summary.valid", valid, lang),
                 corrected=tn("improve.summary.corrected", corrected, lang))

    assert summary(1, 1, 1, "pt") == "1 pergunta gerada, 1 avaliação válida, 1 corrigida"
    assert summary(1312, 0, 2, "pt") == "1.312 perguntas geradas, 0 avaliações válidas, 2 corrigidas"
    assert summary(1, 2, 0, "en") == "1 generated question, 2 valid ratings, 0 corrected"


def test_cli_improve_help_and_summary(workspace, tmp_path, capsys):
    from oracle.cli import main

    with pytest.raises(SystemExit):
        main(["improve", "--help"])
    text = capsys.readouterr().out
    assert "--concurrency" in text and "--stage" in text and "--rollback" in text
    make_workspace(workspace, tmp_path)
    assert main(["--home", str(workspace.home), "improve", "--summary", "--teacher", "qwen2.5-coder-1.5b-instruct"]) == 0
    out = capsys.readouterr().out
    assert "perguntas geradas" in out
    assert "⏱️ Tempo estimado de uma execução: cerca de " in out and "É uma estimativa" in out  # before anything runs
    empty = workspace.home.parent / "vazio"
    assert main(["--home", str(empty), "improve", "--stage", "pairs"]) == 2  # no --gold: a message, no TypeError
    assert "aba Documentos" in capsys.readouterr().err
    assert main(["--home", str(workspace.home), "improve", "--list"]) == 0
    assert "Nenhuma execução" in capsys.readouterr().out
    assert main(["--home", str(workspace.home), "improve", "--rollback", "nope"]) == 2
    assert "nope" in capsys.readouterr().err


def test_defaults_record_is_atomic_and_has_built_in_values(workspace):
    assert read_defaults(workspace) == ChatDefaults()
    (workspace.home / "defaults.json").write_text("{not json")
    assert read_defaults(workspace) == ChatDefaults()  # a broken file never breaks the chat
    written = write_defaults(workspace, ChatDefaults(adapter="a", run_id="r"))
    assert read_defaults(workspace) == written and written.updated_at
    assert not [p for p in workspace.home.iterdir() if p.name.startswith(".defaults")]  # no temp file left


def test_key_facts_of_a_generated_pair_and_the_quoted_target():
    from oracle.improve.stages import keyfacts_of, quoted_target

    quote = "O prazo de inscrição termina em 31 de março de 2026."
    # numbers the answer adds and the source states
    assert keyfacts_of("Quando termina o prazo de inscrição?", "Termina em 31 de março de 2026.", quote) == [
        ["2026"], ["31"]]
    # no number: the two longest new words found in the quote; none found: nothing to score
    assert keyfacts_of("Quem aprova o pacote?", "A equipe de segurança aprova.", "A equipe de segurança aprova o "
                       "pacote.") == [["seguranca"], ["equipe"]]
    assert keyfacts_of("Quem aprova o pacote?", "Ninguém.", "Outra frase.") == []
    target = quoted_target("Termina em 31 de março [2].", quote, [2], "pt")
    assert target == 'Trecho: "O prazo de inscrição termina em 31 de março de 2026." [2]\nTermina em 31 de março [2].'
    assert quoted_target("It ends on 31 March [1].", "It ends.", [1], "en").startswith('Excerpt: "It ends." [1]\n')
    assert quoted_target("Sem citação.", "", [1], "pt") == "Sem citação."


def test_sentence_targets_are_the_quote_with_its_citation_and_leave_not_found_alone():
    from oracle.improve.stages import add_quotes, sentence_target
    from oracle.training.data import RaftExample, TrainExample

    quote = "O prazo de inscrição termina em 31 de março de 2026."
    assert sentence_target(quote + " ", [2, 3]) == quote + " [2][3]"

    def example(question: str, positions: list[int], dropped: bool = False) -> RaftExample:
        return RaftExample(example=TrainExample(question=question, answer="31 de março", language="pt"), hits=[],
                           target="31 de março [2]" if positions else "Não encontrei.", gold_positions=positions,
                           dropped_gold=dropped)

    with_gold, without = example("Quando termina o prazo?", [2]), example("Quando termina o prazo?", [], True)
    other = example("Quanto custa a taxa?", [1])
    assert add_quotes([with_gold, without, other], {"quando termina o prazo": quote}, "sentence") == 1
    assert with_gold.target == quote + " [2]"
    assert without.target == "Não encontrei." and other.target == "31 de março [2]"  # no gold, no quote: as they were
    with pytest.raises(ValueError):
        add_quotes([other], {}, "resumo")


def test_comparison_table_in_plain_portuguese_and_english():
    from oracle.improve import comparison

    report = {"before": summary(0.3, 0.8)["summary"], "after": summary(0.45, 0.9)["summary"],
              "retrieval_before": {"mrr@10": 0.5312}, "retrieval_after": {"mrr@10": 0.6}}
    rows = comparison(report, "pt")
    assert comparison_headers(report, "pt") == ["Medida", "Antes", "Depois"]
    assert rows[0] == ["acertos (fatos-chave na resposta)", "30%", "45%"]
    assert ["recusas corretas", "80%", "90%"] in rows and ["respostas sem fonte", "0%", "0%"] in rows
    assert rows[-1] == ["busca: trecho certo entre os primeiros (nota de 0 a 1)", "0,531", "0,600"]  # Brazilian decimal comma
    assert comparison(report, "en")[-1] == ["search: right passage among the first (score from 0 to 1)", "0.531", "0.600"]
    # with the student without its adapter: a middle column, searching the before index
    report["student_base"] = summary(0.2, 0.7)["summary"]
    assert comparison_headers(report, "en") == ["Measure", "Before", "Student without adapter", "After"]
    rows = comparison(report, "pt")
    assert rows[0] == ["acertos (fatos-chave na resposta)", "30%", "20%", "45%"]
    assert rows[-1][1:] == ["0,531", "0,531", "0,600"]


def test_start_refuses_an_empty_workspace_with_an_actionable_message(workspace):
    from oracle.errors import OracleError
    from oracle.improve import start

    with pytest.raises(OracleError) as err:
        start(workspace, ImproveConfig())
    assert err.value.key == "improve.err.no_documents" and "aba Documentos" in str(err.value)


def test_a_second_run_is_refused_while_one_is_queued_or_running(workspace, tmp_path, monkeypatch,
                                                                tiny_embedder_dir):  # noqa: F811
    """After a reload the "Melhorar o Oráculo" button is clickable while a run goes on; a second click
    (or a second ``oracle improve``) must not queue the same hour of work behind it, but say which
    run to follow. Once that run has ended, a new one is queued as before."""
    from oracle import jobs
    from oracle.errors import OracleError
    from oracle.improve import ImproveJob, start

    make_workspace(workspace, tmp_path, embedder=tiny_embedder_dir)
    first = jobs.submit(workspace, ImproveJob(config=ImproveConfig()), start=False)  # queued, no process
    with pytest.raises(OracleError) as err:
        start(workspace, ImproveConfig())
    assert err.value.key == "improve.err.running"
    assert first.job_id in str(err.value) and "train follow" in str(err.value)
    assert [s.job_id for s in jobs.list_jobs(workspace) if s.kind == "improve"] == [first.job_id]

    jobs.cancel(workspace, first.job_id)
    submitted = []
    monkeypatch.setattr(jobs, "submit", lambda ws, spec, name="": submitted.append(spec) or first)
    assert start(workspace, ImproveConfig()) == first.job_id and len(submitted) == 1


def test_the_report_lists_every_file_that_fed_the_run(workspace, tmp_path):
    """The training questions, the pairs they were read from, and both ratings files: invalid.jsonl
    feeds the run too (a 👎 with a correction trains on it, a later 👎 without one takes an answer
    out of training)."""
    from oracle.feedback import record_rating
    from oracle.schema import Rating

    make_workspace(workspace, tmp_path)
    record_rating(Rating(question="Quanto custa a taxa?", answer="80 reais", valid=True, answer_id="a1"), workspace)
    record_rating(Rating(question="Quanto custa a taxa?", answer="80 reais", valid=False, answer_id="a1"), workspace)
    run_pipeline(workspace, small_cfg(stages=["pairs"]), run_id="r", hooks=Hooks(teacher=fake_teacher))
    files = read_report(workspace, "r")["data_files"]
    roles = {Path(f["path"]).name: f["role"] for f in files}
    assert roles["pairs.jsonl"] == "pairs" and roles["validated.jsonl"] == "ratings"
    assert roles["invalid.jsonl"] == "ratings_invalid"
    assert any(name.endswith(".qa.jsonl") and role == "qa" for name, role in roles.items())
    assert all(len(f["sha256"]) == 64 for f in files)
    run_pipeline(workspace, small_cfg(stages=["pairs"], use_ratings=False), run_id="r2",
                 hooks=Hooks(teacher=fake_teacher))
    names = {Path(f["path"]).name for f in read_report(workspace, "r2")["data_files"]}
    assert "invalid.jsonl" not in names and "validated.jsonl" not in names  # ratings not used: not read


def test_reasons_and_texts_of_the_tab_are_plain_portuguese():
    """Numbers in a reason follow the language (0,537 in Portuguese, not 0.537), and no text of the
    improve tab or its core carries an English word, a jargon name or a decimal point."""
    import re

    from oracle.i18n import STRINGS
    from oracle.improve.runs import reason_text

    params = {"before": 0.5372, "best": 0.5431, "min_gain": 0.01}
    pt = reason_text("embedder_no_gain", params, "pt")
    assert "nota da busca 0,537 → 0,543, ganho mínimo 0,01" in pt
    assert "0.537 → 0.543, minimum gain 0.01" in reason_text("embedder_no_gain", params, "en")
    assert "(1.234)" in reason_text("no_validation", {"n": 1234}, "pt")
    assert "ganho mínimo 0,5)" in reason_text("embedder_no_gain", {**params, "min_gain": 0.5}, "pt")
    assert "nota da busca 12 →" in reason_text("embedder_no_gain", {**params, "before": 12.0001}, "pt")
    promoted = {"before": 0.5, "after": 0.7, "abst_before": 0.8, "abst_after": 0.8}
    assert reason_text("promoted", promoted, "pt").startswith("Promovido: acertos 50% → 70%, recusas corretas 80%")
    english = re.compile(r"\b(embeddings?|MRR|loss|estimate|fallback|score|job|hash|batch|steps?|tokens?|eval)\b"
                         r"|\d\.\d|\{\w+:\.\d*f\}", re.IGNORECASE)
    found = {k: v["pt"] for k, v in STRINGS.items()
             if k.startswith(("ui.improve.", "improve.", "cli.improve.")) and english.search(v.get("pt", ""))}
    assert found == {}


def _raft_example(question: str, answer: str, texts: list[str], gold: int | None):
    from oracle.schema import Chunk, Hit
    from oracle.training.data import RaftExample, TrainExample

    hits = [Hit(chunk=Chunk(chunk_id=f"d:{i}:x", doc_id="d", doc_name="d.pdf", text=text, page_start=1, page_end=1,
                            char_start=0, char_end=len(text)), score=0.9, rank=i + 1) for i, text in enumerate(texts)]
    return RaftExample(TrainExample(question=question, answer=answer, language="pt"), hits, target=answer,
                       gold_positions=[gold + 1] if gold is not None else [], dropped_gold=gold is None)


def test_distilled_targets_are_the_teacher_answers_that_hold_the_key_facts(tmp_path):
    """Sequence-level distillation: the teacher answers each example's chat prompt; its answer
    replaces the target only when it holds the pair's key facts and no unsupported figure; a resume
    asks nothing again; examples without their gold chunk keep the not-found target."""
    from oracle.improve.distill import DISTILLED_FILE, distill_targets
    from oracle.improve.stages import keyfacts_of
    from oracle.training.data import question_key

    deadline = "O prazo de inscrição termina em 31 de março de 2026, pelo portal da prefeitura."
    fee = "A taxa de inscrição é de R$ 40,00, paga por boleto."
    other = "O resultado preliminar sai em 20 de abril de 2026."
    examples = [
        _raft_example("Quando termina o prazo de inscrição?", "Em 31 de março de 2026.", [other, deadline], 1),
        _raft_example("Qual é a taxa de inscrição?", "R$ 40,00.", [fee, other], 0),
        _raft_example("Como pago a taxa?", "Por boleto.", [fee, other], 0),
        _raft_example("Quando sai o resultado?", "Os documentos não contêm a resposta.", [deadline], None),
    ]
    replies = {
        "Quando termina o prazo de inscrição?": "O prazo termina em 31 de março de 2026, pelo portal [2].",
        "Qual é a taxa de inscrição?": "A taxa é de R$ 50,00 [1].",  # a figure in no source
        "Como pago a taxa?": "Não encontrei essa informação nos documentos.",
    }

    class Teacher:
        calls: list[str] = []

        def generate(self, messages, max_new_tokens=256, temperature=0.0):
            question = next(q for q in replies if q in messages[-1]["content"])
            self.calls.append(question)
            return replies[question]

    facts = {question_key(e.question): keyfacts_of(e.question, e.example.answer, e.hits[e.gold_positions[0] - 1].chunk.text)
             for e in examples if e.gold_positions}
    facts[question_key("Qual é a taxa de inscrição?")] = [["40,00", "40"]]
    teacher = Teacher()
    stats = distill_targets(examples, teacher, facts, tmp_path)
    assert teacher.calls == list(replies)  # the example without its gold chunk is not asked
    assert examples[0].target == "O prazo termina em 31 de março de 2026, pelo portal [2]."
    assert examples[1].target == "R$ 40,00." and examples[2].target == "Por boleto."  # the pair's answers stay
    assert examples[3].target == "Os documentos não contêm a resposta."
    assert (stats.n_asked, stats.n_kept, stats.n_refused) == (3, 1, 1)
    assert stats.n_unsupported + stats.n_missing_facts == 1
    # a resume reads the answers back and asks nothing
    again = [_raft_example("Quando termina o prazo de inscrição?", "Em 31 de março de 2026.", [other, deadline], 1)]
    teacher.calls = []
    assert distill_targets(again, teacher, facts, tmp_path).n_kept == 1 and teacher.calls == []
    assert again[0].target.startswith("O prazo termina em 31 de março")
    assert len((tmp_path / DISTILLED_FILE).read_text(encoding="utf-8").splitlines()) == 3
