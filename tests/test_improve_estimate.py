"""The time estimate of a "Melhorar o Oráculo" run before it starts (oracle.improve.estimate): the work
counted from the workspace's data, seconds per unit from the documented defaults when no run was made
here, and from the earlier runs' own stage times when there are some. Offline, no model."""

from __future__ import annotations

import json

import pytest
from fake_teacher import make_workspace
from test_improve import fake_teacher, small_cfg

from oracle.defaults import ChatDefaults, write_defaults
from oracle.improve import Hooks, ImproveConfig, run_pipeline
from oracle.improve.estimate import (
    DEFAULT_UNIT_SECONDS,
    DISTILL_ANSWER_SECONDS,
    LLAMA_CPP_PAIR_SECONDS,
    estimate,
    estimate_text,
    history,
    rough_duration,
    run_units,
)

TEACHER = "qwen2.5-coder-1.5b-instruct"


def cfg(**kw) -> ImproveConfig:
    return ImproveConfig(**{"min_chunk_tokens": 5, "pairs_per_chunk": 2, "teacher": TEACHER, **kw})


def test_units_follow_the_data_and_the_settings(workspace, tmp_path):
    make_workspace(workspace, tmp_path)  # 10 chunks, no pair, no rating
    units = run_units(workspace, cfg())
    # 10 chunks x 2 pairs asked, a quarter expected kept; 5 questions: 1 held out (20%), 4 to train
    assert (units.n_chunks, units.n_asked, units.n_new) == (10, 20, 5)
    assert (units.n_questions, units.n_heldout, units.n_train) == (5, 1, 4)
    assert units.embedder_pair_epochs == 0  # under 20 training questions the embedder stage skips
    assert units.generator_passes == 4  # 1 epoch: ceil(4 / 1 / 4) = 1 step of 1 x 4 examples
    # 1 held-out + 8 off-topic questions, by the chat's chain (the 1.5B), the bare student and the
    # student with its adapter; by two chains when the chat already runs the bare student
    assert units.n_answers == 3 * (1 + 8)
    write_defaults(workspace, ChatDefaults(generator=cfg().student, adapter=None))
    assert run_units(workspace, cfg()).n_answers == 2 * (1 + 8)
    write_defaults(workspace, ChatDefaults())
    assert units.n_distill == 0
    # distilled targets: the teacher first answers the examples that keep their gold chunk
    distilled = cfg(distill=True)
    distilled.lora.p_no_gold = 0.25
    assert run_units(workspace, distilled).n_distill == 3  # 4 training questions x 0.75
    gen = estimate(workspace, distilled).stages["generator"].seconds
    assert gen == pytest.approx(estimate(workspace, cfg()).stages["generator"].seconds + 3 * DISTILL_ANSWER_SECONDS, abs=0.1)
    few = run_units(workspace, cfg(max_chunks=3, pairs_per_chunk=4))
    assert (few.n_chunks, few.n_asked, few.n_new) == (3, 12, 3)
    more = cfg(stages=["generator", "evaluate"])
    more.lora.max_steps = 12
    units = run_units(workspace, more)
    assert units.n_asked == 0 and units.n_questions == 0 and units.generator_passes == 0  # no data: nothing
    # only reviewed questions: the new ones are not reviewed, so they do not count
    assert run_units(workspace, cfg(reviewed_only=True)).n_questions == 0


def test_without_earlier_runs_the_documented_defaults_are_used(workspace, tmp_path):
    make_workspace(workspace, tmp_path)
    est = estimate(workspace, cfg())
    assert est.source == "default"
    assert est.stages["pairs"].seconds == pytest.approx(20 * DEFAULT_UNIT_SECONDS["pairs"], abs=0.1)  # 16 min 47 s
    assert est.stages["embedder"].seconds == 0 and est.stages["embedder"].source == "none"
    assert est.stages["generator"].seconds == pytest.approx(4 * 954 / 76, abs=0.1)
    assert est.stages["evaluate"].seconds == pytest.approx(27 * 559 / 44, abs=0.1)
    assert est.seconds == pytest.approx(1007 + 50.2 + 343.0, abs=0.5)  # 23 min 20 s
    text = estimate_text(est, "pt")
    assert text.startswith("⏱️ **Tempo estimado de uma execução:** cerca de 25 min num computador de 2 núcleos sem placa de vídeo")
    assert "(perguntas de treino 17 min, respostas 50 s, antes e depois 6 min)" in text
    assert "É uma estimativa" in text and "." not in text.split("(")[1].split(")")[0]
    assert estimate_text(est, "en").startswith("⏱️ **Estimated time of a run:** about 25 min on a 2-core computer")


def _report(workspace, run_id: str, stages: dict, **config) -> None:
    folder = workspace.home / "improve" / run_id
    folder.mkdir(parents=True)
    report = {"run_id": run_id, "config": {**cfg().to_dict(), **config}, "stages": stages}
    (folder / "report.json").write_text(json.dumps(report), encoding="utf-8")


def test_earlier_runs_give_the_seconds_per_unit(workspace, tmp_path):
    make_workspace(workspace, tmp_path)
    # a run here: 10 chunks x 2 pairs in 400 s (16 kept), LoRA 8 steps of 1 x 4 in 320 s, 15 questions
    # answered before and after in 300 s; another teacher's pairs (fast server) must not count
    _report(workspace, "a", {
        "pairs": {"state": "completed", "seconds": 400.0,
                  "output": {"n_done": 10, "n_kept": 16, "teacher": f"local:{TEACHER}"}},
        "embedder": {"state": "skipped", "seconds": 0.0, "output": {"reason": "no_validation"}},
        "generator": {"state": "completed", "seconds": 320.0, "output": {"metrics": {"steps": 8}}},
        "evaluate": {"state": "completed", "seconds": 300.0,
                     "output": {"before": {"summary": {"n_answerable": 5, "n_unanswerable": 10}}}},
    })
    _report(workspace, "b", {"pairs": {"state": "completed", "seconds": 1.0,
                                       "output": {"n_done": 10, "n_kept": 0, "teacher": "openai:rapido"}}})
    _report(workspace, "c", {"pairs": {"state": "failed", "seconds": 9999.0, "output": {}}})  # no units
    past = history(workspace, TEACHER)
    assert past["units"]["pairs"] == 20 and past["seconds"]["pairs"] == 400.0 and past["kept"] == 16
    est = estimate(workspace, cfg())
    assert est.source == "history"
    assert est.units.kept_share == pytest.approx(0.8) and est.units.n_new == 16  # this teacher keeps 80%
    assert est.stages["pairs"].per_unit == pytest.approx(20.0) and est.stages["pairs"].seconds == 400.0
    assert est.stages["generator"].per_unit == pytest.approx(10.0)  # 320 s / 32 passes
    assert est.stages["evaluate"].per_unit == pytest.approx(10.0)  # 300 s / 30 answers
    # 16 questions: 3 held out, 13 train: 4 steps x 4 = 16 passes; 3 + 8 questions x 3 chains (the
    # chat's, the bare student, the student with its adapter)
    assert est.units.generator_passes == 16 and est.units.n_answers == 33
    assert est.seconds == pytest.approx(400 + 160 + 330)
    text = estimate_text(est, "pt")
    assert text.startswith("⏱️ **Tempo estimado de uma execução:** cerca de 15 min neste computador")
    assert "execuções anteriores" in text
    # a server teacher never timed here: its pairs are not counted, and the text says so
    server = estimate(workspace, cfg(teacher="openai:outro"))
    assert server.stages["pairs"].seconds is None and server.unknown_pairs == 20
    # a run that also scored the bare student answered each question three times
    _report(workspace, "d", {"evaluate": {"state": "completed", "seconds": 450.0, "output": {
        "before": {"summary": {"n_answerable": 5, "n_unanswerable": 10}}, "student": {"summary": {}}}}})
    past = history(workspace, TEACHER)
    assert past["units"]["evaluate"] == 2 * 15 + 3 * 15 and past["seconds"]["evaluate"] == 750.0
    assert "Sem contar o tempo do servidor que vai escrever as 20 perguntas" in estimate_text(server, "pt")


def test_a_real_run_report_feeds_the_next_estimate(workspace, tmp_path):
    """The stage records the pipeline writes are what :func:`history` reads."""
    make_workspace(workspace, tmp_path)
    run_pipeline(workspace, small_cfg(stages=["pairs"]), run_id="r", hooks=Hooks(teacher=fake_teacher))
    past = history(workspace, "fake-teacher")
    assert past["units"]["pairs"] == 30 and past["kept"] == 20 and past["seconds"]["pairs"] > 0
    assert history(workspace, TEACHER)["units"]["pairs"] == 0  # another teacher's speed is not this one's


def test_durations_are_rounded_as_estimates():
    assert rough_duration(42) == "42 s"
    assert rough_duration(61) == "1 min" and rough_duration(19 * 60 + 31) == "20 min"
    assert rough_duration(23 * 60 + 20) == "25 min"
    assert rough_duration(2 * 3600 + 7 * 60) == "2 h 10 min" and rough_duration(3 * 3600 + 60) == "3 h"


def test_a_server_teacher_alone_is_said_to_be_unknown(workspace, tmp_path):
    make_workspace(workspace, tmp_path)
    est = estimate(workspace, cfg(teacher="openai:servidor", stages=["pairs"]))
    assert est.seconds == 0 and est.unknown_pairs == 20
    assert estimate_text(est, "pt").startswith("⏱️ **Tempo estimado de uma execução:** depende do servidor que vai escrever as 20")
    assert estimate_text(estimate(workspace, cfg(stages=["evaluate"])), "pt") == ""  # nothing to do, nothing said


def test_a_llama_cpp_teacher_has_its_own_measured_speed(workspace, tmp_path):
    make_workspace(workspace, tmp_path)
    est = estimate(workspace, cfg(teacher=f"llamacpp:{TEACHER}", stages=["pairs"]))
    assert est.stages["pairs"].seconds == pytest.approx(20 * LLAMA_CPP_PAIR_SECONDS, abs=0.1)
    assert est.stages["pairs"].source == "default"
    assert LLAMA_CPP_PAIR_SECONDS < DEFAULT_UNIT_SECONDS["pairs"]  # it decodes faster (bench/RESULTS.md)


def test_the_automatic_teacher_runs_on_llama_cpp_when_it_can(monkeypatch):
    from oracle import llm
    from oracle.improve.config import strongest_generator

    monkeypatch.delenv("ORACLE_TEACHER_MODEL", raising=False)
    monkeypatch.delenv("ORACLE_ENGINE", raising=False)
    monkeypatch.setattr(llm, "cpu_has_amx", lambda: True)  # even where the chat's "auto" picks transformers
    monkeypatch.setattr(llm, "llama_cpp_available", lambda: True)
    spec = strongest_generator(ImproveConfig())
    assert spec.startswith("llamacpp:qwen2.5-coder-")
    assert strongest_generator(ImproveConfig(teacher=TEACHER)) == TEACHER  # a named teacher is kept as named
    monkeypatch.setenv("ORACLE_ENGINE", "transformers")
    assert strongest_generator(ImproveConfig()) == spec.removeprefix("llamacpp:")
    monkeypatch.delenv("ORACLE_ENGINE")
    monkeypatch.setattr(llm, "llama_cpp_available", lambda: False)
    assert strongest_generator(ImproveConfig()) == spec.removeprefix("llamacpp:")
