"""The "Melhorar o Oráculo" tab (oracle/ui/improve.py) and the chat's promoted defaults, offline and
fast: the app served on 127.0.0.1 and driven through ``gradio_client``; the run is the real job of
:mod:`oracle.improve` with the fake teacher behind a local OpenAI-compatible server, or runs made
in-process with the core's own test doubles (a finished adapter folder, a scripted evaluation)."""

from __future__ import annotations

import json
import re
import time
from contextlib import contextmanager

import pytest
from fake_teacher import make_workspace, teacher_server
from served import serve
from test_improve import fake_lora, fake_teacher, scripted_evaluation, small_cfg
from tiny_embedder import tiny_embedder_path

from oracle.defaults import ChatDefaults, read_defaults, write_defaults

# outputs of the tab's view as gradio_client returns them (oracle.ui.improve.build: ``view``, less the
# layout column that shows the before/after table)
JOB, PROGRESS, STAGES, CAPTION, TABLE, DECISION, PLOT, RUNS, NO_RUNS, TARGET, DATA = range(11)


def _run_two(workspace):
    """Two finished runs made by the core: 'worse' (not promoted) then 'better' (promoted)."""
    from oracle.improve import Hooks, run_pipeline

    cfg = small_cfg(stages=["pairs", "generator", "evaluate"])
    for run_id, keyfacts in (("worse", 0.4), ("better", 0.7)):
        evaluate, _ = scripted_evaluation(after_keyfacts=keyfacts)
        run_pipeline(workspace, cfg, run_id=run_id, hooks=Hooks(teacher=fake_teacher, evaluate=evaluate),
                     stage_functions={"generator": fake_lora})


def _rows(table) -> list[list]:
    return table["value"]["data"] if "value" in table else table["data"]


def _skipped(out) -> bool:
    """True for an output the handler left as it was (``gr.skip()``)."""
    return isinstance(out, dict) and out.get("__type__") == "update" and "value" not in out


def _value(out):
    return out["value"] if isinstance(out, dict) and "value" in out else out


@contextmanager
def _app(workspace, tmp_path, delay_s: float = 0.0):
    """(client, teacher server) for an app whose button runs the two quick stages (training questions
    through the fake server, answering after ``delay_s`` seconds, then the evaluation) on a workspace
    with an index."""
    from gradio_client import Client

    from oracle.improve import ImproveConfig
    from oracle.ui import create_app

    make_workspace(workspace, tmp_path, embedder=tiny_embedder_path())
    with teacher_server(delay_s=delay_s) as server:
        cfg = ImproveConfig(min_chunk_tokens=5, pairs_per_chunk=3, eval_limit=0, n_offtopic=3, concurrency=1,
                            stages=["pairs", "evaluate"], teacher="openai:fake-teacher", base_url=server.url)
        demo = create_app(workspace=workspace, generator="fake:x", embedder=tiny_embedder_path(), improve=cfg)
        with serve(demo) as url:
            client = Client(url, verbose=False)
            try:
                yield client, server
            finally:
                client.close()


@pytest.fixture
def served(workspace, tmp_path):
    with _app(workspace, tmp_path) as pair:
        yield pair


def test_the_button_runs_the_pipeline_and_the_view_follows_its_stages(served, workspace):
    from oracle import jobs

    client, server = served
    loaded = client.predict(api_name="/improve_load")
    assert _value(loaded[JOB]) == ""  # no run yet
    assert "0 perguntas geradas, 0 avaliações válidas, 0 corrigidas" in loaded[DATA]
    assert "⚠️ Poucas perguntas prontas: 0" in loaded[DATA]
    with pytest.raises(Exception, match="Não há execução de Melhorar o Oráculo em andamento"):
        client.predict("", api_name="/improve_cancel")

    started = client.predict(True, api_name="/improve_start")  # "only reviewed questions" ticked
    job_id = _value(started[JOB])
    status = jobs.get_job(workspace, job_id)
    assert status.kind == "improve"
    assert jobs.job_spec(workspace, job_id)["params"]["config"]["reviewed_only"] is True
    assert 'data-job="' + job_id in started[PROGRESS] and "Melhorar o Oráculo" in started[PROGRESS]
    final = jobs.wait(workspace, job_id, timeout_s=120)
    assert final.state == jobs.COMPLETED, jobs.process_tail(workspace, job_id)
    assert server.n_requests == 10  # every chunk asked once, through the server

    # a fresh page re-attaches to that run
    view = client.predict(api_name="/improve_load")
    assert _value(view[JOB]) == job_id
    states = dict(re.findall(r'data-stage="(\w+)" data-state="(\w+)"', view[STAGES]))
    assert states == {"pairs": "completed", "embedder": "skipped", "generator": "skipped", "evaluate": "completed"}
    assert "1. Perguntas de treino" in view[STAGES] and "✅ concluída" in view[STAGES]
    assert "perguntas aproveitadas" in view[STAGES]
    assert "etapa não escolhida" in view[STAGES]  # why a stage was skipped
    assert 'data-state="completed"' in view[PROGRESS]
    # nothing was trained: no before/after to show, and the decision says why
    assert "nada novo para comparar" in view[DECISION]
    (row,) = _rows(view[RUNS])
    assert re.match(r"\d\d/\d\d/\d{4} \d\d:\d\d$", row[0]) and row[1] == "não promovida"
    # the pairs now count in the data summary
    assert "perguntas geradas" in view[DATA] and not view[DATA].startswith("**Dados para aprender:** 0 ")


def test_the_advanced_settings_feed_the_main_button_and_its_estimate(served, workspace):
    """One place holds the settings: what "Avançado" says is what the main button runs (the fields
    without a control keep the app's config), and the estimate follows it."""
    from oracle import jobs
    from oracle.ui.improve import ADVANCED_SETTINGS

    client, _ = served
    loaded = client.predict(api_name="/improve_estimate_load")
    # the app's teacher is a server never timed here: the estimate says so instead of guessing
    assert loaded.startswith("⏱️ **Tempo estimado de uma execução:** depende do servidor que vai escrever as 30 perguntas")
    values = {"max_chunks": 3, "round_trip_k": 2, "eval_limit": 5, "use_ratings": False, "eval_fraction": 0.3, "rank": 4, "alpha": 8, "dropout": 0.1,
              "target_modules": "q_proj,v_proj", "learning_rate": 1e-4, "epochs": 2, "max_seq_len": 512,
              "batch_size": 1, "grad_accum": 2, "k_distractors": 1, "p_no_gold": 0.1, "self_check": 0.0, "gold_order": "random", "bf16": "off",
              "embedding_epochs": 2, "embedding_batch_size": 8, "embedding_learning_rate": 3e-5, "hard_negatives": 0}
    args = [False, "lora", "modelo-aluno", *(values[name] for name, _ in ADVANCED_SETTINGS)]
    bad = dict(values, eval_fraction=0.0)
    warning = client.predict(False, "lora", "x", *(bad[name] for name, _ in ADVANCED_SETTINGS),
                             api_name="/improve_estimate")
    assert warning.startswith("⚠️ Para comparar antes e depois")  # what to fix, before any click
    job_id = _value(client.predict(*args, api_name="/improve_start")[JOB])
    config = jobs.job_spec(workspace, job_id)["params"]["config"]
    assert config["lora"]["rank"] == 4 and config["lora"]["grad_accum"] == 2 and config["lora"]["bf16"] == "off"
    assert config["embedding"]["epochs"] == 2 and config["embedding"]["hard_negatives"] == 0
    assert config["eval_fraction"] == config["lora"]["eval_fraction"] == 0.3
    assert config["use_ratings"] is False and config["student"] == "modelo-aluno"
    assert config["max_chunks"] == 3 and config["eval_limit"] == 5  # the run's size
    assert config["round_trip_k"] == 2
    assert config["teacher"] == "openai:fake-teacher" and config["stages"] == ["pairs", "evaluate"]  # the app's
    assert jobs.wait(workspace, job_id, timeout_s=120).state == jobs.COMPLETED
    with pytest.raises(Exception, match="Para comparar antes e depois"):
        client.predict(False, "lora", "x", *(bad[name] for name, _ in ADVANCED_SETTINGS), api_name="/improve_start")


def test_run_config_maps_each_control_to_its_field(workspace):
    from oracle.improve import ImproveConfig
    from oracle.ui.improve import ADVANCED_SETTINGS, run_config

    base = ImproveConfig(pairs_per_chunk=3)
    assert {name for name, _ in ADVANCED_SETTINGS} >= {"rank", "eval_fraction", "use_ratings", "hard_negatives"}
    cfg = run_config(base, True, "embedding", "algum-embedder", {"rank": 16, "hard_negatives": 2})
    assert cfg.lora.rank == 16 and cfg.embedding.hard_negatives == 2 and cfg.reviewed_only is True
    assert cfg.student == base.student  # the base model of an embedder run is not the student
    assert cfg.pairs_per_chunk == 3  # no control: the app's value
    assert run_config(base, False, "lora", "aluno", {"max_chunks": 12.0, "eval_limit": 0}).max_chunks == 12
    assert run_config(None, False, "lora", "aluno", {}).student == "aluno"


def test_poll_redraws_only_when_the_run_changed(served, workspace):
    from oracle import jobs

    client, _ = served
    job_id = _value(client.predict(False, api_name="/improve_start")[JOB])
    jobs.wait(workspace, job_id, timeout_s=120)
    first = client.predict(job_id, api_name="/improve_poll")
    assert 'data-state="completed"' in first[PROGRESS] and 'data-stage="evaluate"' in first[STAGES]
    again = client.predict(job_id, api_name="/improve_poll")  # the session remembers what it showed
    assert _skipped(again[STAGES]) and _skipped(again[PROGRESS])  # nothing changed: nothing redrawn
    assert _skipped(client.predict("", api_name="/improve_poll")[STAGES])  # no run followed


def test_cancel_then_resume_from_the_tab(workspace, tmp_path):
    """Cancel stops the run between training questions; Retomar continues it where it stopped
    (no chunk asked twice) and the view follows it to the end."""
    from oracle import jobs
    from oracle.improve.pairs import PAIRS_DONE_FILE
    from oracle.schema import iter_jsonl

    with _app(workspace, tmp_path, delay_s=0.3) as (client, server):
        job_id = _value(client.predict(False, api_name="/improve_start")[JOB])
        done_file = workspace.home / "improve" / job_id / PAIRS_DONE_FILE
        deadline = time.monotonic() + 60
        while not (done_file.exists() and len(list(iter_jsonl(done_file))) >= 2):  # a few chunks done
            assert time.monotonic() < deadline, jobs.process_tail(workspace, job_id)
            time.sleep(0.1)
        client.predict(job_id, api_name="/improve_cancel")
        assert jobs.wait(workspace, job_id, timeout_s=60).state == jobs.CANCELLED
        view = client.predict(job_id, api_name="/improve_poll")
        assert 'data-stage="pairs" data-state="cancelled"' in view[STAGES]
        asked = server.n_requests
        assert 2 <= asked < 10
        resumed = client.predict(job_id, api_name="/improve_resume")
        assert _value(resumed[JOB]) == job_id
        assert jobs.wait(workspace, job_id, timeout_s=120).state == jobs.COMPLETED
        assert server.n_requests == 10  # the resumed run asked only the chunks left
        view = client.predict(job_id, api_name="/improve_poll")
        assert 'data-stage="evaluate" data-state="completed"' in view[STAGES]


def test_before_after_table_decision_and_runs_in_plain_portuguese(workspace, tmp_path):
    from oracle.improve import list_runs, read_report
    from oracle.ui.context import UIContext
    from oracle.ui.improve import comparison_table, decision_markdown, rollback_choices, runs_table

    make_workspace(workspace, tmp_path, embedder=tiny_embedder_path())
    _run_two(workspace)
    ctx = UIContext(workspace=workspace)
    better = read_report(workspace, "better")
    table = comparison_table(ctx, better, "pt")
    rows = {r[0]: r[1:] for r in table.values.tolist()}
    # the chat's chain, the student without its adapter, the student with it
    assert list(table.columns) == ["Medida", "Antes", "Aluno sem adaptador", "Depois"]
    assert rows["acertos (fatos-chave na resposta)"] == ["50%", "35%", "70%"]
    assert rows["recusas corretas"] == ["80%", "80%", "80%"]
    assert rows["respostas sem fonte"] == ["0%", "0%", "0%"]
    assert rows["tempo de resposta (mediana)"] == ["2,0 s", "2,0 s", "2,0 s"]  # Brazilian decimal comma
    assert decision_markdown(ctx, better, "pt").startswith("✅ Promovido: acertos 50% → 70%")
    assert decision_markdown(ctx, read_report(workspace, "worse"), "pt").startswith(
        "ℹ️ Não promovido: os acertos não melhoraram (50% → 40%)")
    assert comparison_table(ctx, {"before": None}, "pt") is None
    runs = list_runs(workspace)
    shown = runs_table(ctx, runs, "pt")
    assert list(shown.columns) == ["Data", "Resultado", "Acertos", "Recusas corretas", "Busca (nota de 0 a 1)", "Tempo"]
    by_result = {r[1]: r for r in shown.values.tolist()}
    assert by_result["✅ promovida · em uso no Chat"][2] == "50% → 70%"
    assert by_result["não promovida"][2] == "50% → 40%"
    assert by_result["não promovida"][4] == "0,500 → 0,500"
    assert sorted(value for _, value in rollback_choices(ctx, runs, "pt")) == ["better", "worse"]


def test_rollback_from_the_list_of_runs(workspace, tmp_path):
    from gradio_client import Client

    from oracle.ui import create_app

    make_workspace(workspace, tmp_path, embedder=tiny_embedder_path())
    _run_two(workspace)
    assert read_defaults(workspace).adapter == "improve-better-lora"
    demo = create_app(workspace=workspace, generator="fake:x", embedder=tiny_embedder_path())
    with serve(demo) as url:
        client = Client(url, verbose=False)
        try:
            loaded = client.predict(api_name="/improve_load")
            assert sorted(c[1] for c in loaded[TARGET]["choices"]) == ["better", "worse"]
            assert len(_rows(loaded[RUNS])) == 2
            with pytest.raises(Exception, match="Escolha uma execução"):
                client.predict(None, api_name="/improve_rollback")
            runs, choices, message = client.predict("worse", api_name="/improve_rollback")
            assert "✅ não promovida · em uso no Chat" in [c[0].split(" · ", 1)[1] for c in choices["choices"]]
            assert message.startswith("✅ O Chat voltou à versão de") and "adaptador nenhum" in message
            assert read_defaults(workspace).adapter is None and read_defaults(workspace).run_id == "worse"
            assert any(r[1] == "✅ não promovida · em uso no Chat" for r in _rows(runs))
        finally:
            client.close()


def _adapter_folder(workspace, name: str, base: str) -> None:
    folder = workspace.adapters / name
    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": base, "peft_type": "LORA"}))


def test_chat_preselects_the_promoted_generator_and_adapter(workspace, tmp_path):
    from gradio_client import Client

    from oracle.ui import create_app

    make_workspace(workspace, tmp_path, embedder=tiny_embedder_path())
    demo = create_app(workspace=workspace, embedder=tiny_embedder_path())
    with serve(demo) as url:
        client = Client(url, verbose=False)
        try:
            adapter, generator, _ = client.predict(0.0, api_name="/chat_load")
            assert "value" not in adapter and "value" not in generator  # nothing promoted: the picks stay
            _adapter_folder(workspace, "improve-r1-lora", "/models/student")
            write_defaults(workspace, ChatDefaults(generator="/models/student", adapter="improve-r1-lora", run_id="r1"))
            adapter, generator, _ = client.predict(0.0, api_name="/chat_load")
            assert _value(adapter) == "improve-r1-lora"
            assert _value(generator) == "local:/models/student"
            assert ("local:/models/student", "local:/models/student") in [tuple(c) for c in generator["choices"]]
        finally:
            client.close()


def test_cli_ask_uses_the_promoted_defaults_unless_told_otherwise(workspace, tmp_path, capsys):
    from oracle.cli import main
    from oracle.llm import FakeGenerator, register_generator

    made = []

    def factory(model, adapter=None, **kw):
        made.append((model, adapter))
        return FakeGenerator(fn=lambda messages: "A taxa custa 40 reais [1].", name=f"fake:{model}", adapter=adapter)

    register_generator("fake", factory)
    make_workspace(workspace, tmp_path, embedder=tiny_embedder_path())
    _adapter_folder(workspace, "improve-r1-lora", "fake:student")
    write_defaults(workspace, ChatDefaults(generator="fake:student", adapter="improve-r1-lora", run_id="r1"))
    home = ["--home", str(workspace.home)]
    assert main([*home, "ask", "Quanto custa a taxa do curso de rede?", "--min-score", "-1"]) == 0
    assert made[-1] == ("student", str(workspace.adapters / "improve-r1-lora"))
    assert main([*home, "ask", "Quanto custa a taxa?", "--generator", "fake:other", "--min-score", "-1"]) == 0
    assert made[-1] == ("other", None)  # a generator chosen by hand gets no adapter it was not given
    write_defaults(workspace, ChatDefaults(index="outro", run_id="r2"))
    assert main([*home, "ask", "Quanto custa a taxa?", "--generator", "fake:other"]) == 2
    assert "outro" in capsys.readouterr().err  # the chat's index is the one asked for


def test_stage_list_shows_the_running_stage_bar_in_the_session_language(workspace):
    from oracle.ui.context import UIContext
    from oracle.ui.improve import progress_title, stages_html

    ctx = UIContext(workspace=workspace)
    stage = lambda name, state, **kw: {"name": name, "label": "rótulo do núcleo", "state": state, "seconds": None,
                                       "output": None, "error": None, **kw}
    view = {"stages": [stage("pairs", "completed", seconds=75.0, output={"n_kept": 1234, "rejections": {"echo": 3}}),
                       stage("embedder", "skipped", output={"reason": "not_selected"}),
                       stage("generator", "running"), stage("evaluate", "pending")],
            "current": "generator", "progress": {"step": 1500, "total": 2000, "note": ""}}
    pt = stages_html(ctx, view, "pt")
    assert "1. Perguntas de treino" in pt and "1 min 15 s" in pt
    assert "1.234 perguntas aproveitadas, 3 descartadas" in pt  # Brazilian thousands separator
    assert '<progress max="2000" value="1500"></progress> 1.500 de 2.000' in pt
    assert progress_title(ctx, view, "pt") == "Melhorar o Oráculo · etapa 3 de 4: Respostas (adaptador LoRA)"
    en = stages_html(ctx, view, "en")
    assert "1. Training questions" in en and "stage not chosen" in en and "1,500 of 2,000" in en
    assert "rótulo do núcleo" not in pt + en
    assert stages_html(ctx, None, "pt") == ""


# --- "Avançado" in plain Portuguese -------------------------------------------------------------

JARGON = ("rank", "alpha", "dropout", "AdamW", "RAFT", "bf16", "step", "steps", "loss", "eval loss",
          "gradient accumulation", "batch", "batch size", "epoch", "epochs", "warmup", "learning rate",
          "target modules", "fallback", "hard negatives", "overfitting", "hash")
"""English ML terms a Portuguese label or help text may only name in parentheses, after the plain words."""


def bare_jargon(text: str) -> list[str]:
    """The :data:`JARGON` terms in ``text`` outside parentheses (whole words, any case)."""
    plain, previous = text, None
    while plain != previous:  # innermost parentheses first: "(a (b) c)" goes in two rounds
        previous, plain = plain, re.sub(r"\([^()]*\)", " ", plain)
    return [w for w in JARGON if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", plain, re.IGNORECASE)]


def test_the_jargon_check_finds_bare_terms_only():
    assert bare_jargon("Tamanho do adaptador (LoRA rank)") == []
    assert bare_jargon("Taxa (pico, (AdamW) com decaimento)") == []
    assert bare_jargon("Posto") == [] and bare_jargon("Dropout") == ["dropout"]
    assert bare_jargon("Lote (batch) de 8; Eval loss cai") == ["loss", "eval loss"]
    assert bare_jargon("Precisão reduzida bf16 (mais rápido)") == ["bf16"]
    assert bare_jargon("rankings e batches") == []  # whole words only


def test_advanced_controls_read_in_plain_portuguese(workspace):
    """Every label, help text and choice of the controls under "Avançado" reads in plain Portuguese:
    an English term only in parentheses, after the plain words ("Exemplos por passo (batch)")."""
    import gradio as gr

    from oracle import jobs
    from oracle.ui import create_app
    from oracle.ui.context import Key

    demo = create_app(workspace=workspace, generator="fake:x", embedder=tiny_embedder_path())
    jobs.stop_supervisor(workspace)
    (advanced,) = [b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "oracle-ft-advanced"]

    def inside(block):
        for child in getattr(block, "children", None) or []:
            yield child
            yield from inside(child)

    texts, n_controls = {}, 0
    for block in inside(advanced):
        if not isinstance(block, gr.components.FormComponent):
            continue
        n_controls += 1
        for prop in ("label", "info", "placeholder"):
            value = getattr(block, prop, None)
            if isinstance(value, Key):
                texts[f"{value.key} ({block.elem_id or type(block).__name__}.{prop})"] = value.render("pt")
            elif isinstance(value, str) and value:  # a placeholder may be an example ("usuario/oraculo-lora")
                where = f"{block.elem_id or type(block).__name__}.{prop}"
                texts[where if prop == "placeholder" else f"{where} (not translated)"] = value
        if isinstance(block, gr.Radio):
            for shown, value in block.choices:
                if shown != value or block.elem_id == "oracle-ft-bf16":
                    texts[f"{block.elem_id}: choice {value}"] = shown
    assert n_controls >= 20 and "ui.ft.p.bf16 (oracle-ft-bf16.label)" in texts
    assert texts["oracle-ft-bf16: choice off"] == "desligada"
    untranslated = [k for k in texts if k.endswith("(not translated)")]
    assert untranslated == []  # a bare label ("bf16") would stay in one language
    found = {where: bare_jargon(text) for where, text in texts.items() if bare_jargon(text)}
    assert found == {}


# --- the estimate after a run -------------------------------------------------------------------

def test_run_ended_reads_the_runs_state_in_the_tick_signatures():
    from oracle.ui.improve import run_ended

    sig = lambda *states: "improve-1|1:2|-|-|" + ",".join(states)
    assert run_ended("improve-1", sig("improve-1:completed", "lora-2:running"), sig("improve-1:running"))
    assert run_ended("improve-1", sig("improve-1:failed"), "")  # the page had not seen it yet
    assert run_ended("improve-1", sig("improve-1:cancelled"), sig("improve-1:running"))
    assert not run_ended("improve-1", sig("improve-1:running"), sig("improve-1:queued"))
    assert not run_ended("improve-1", sig("improve-1:completed", "lora-2:queued"), sig("improve-1:completed"))
    assert not run_ended("improve-1", sig("improve-2:completed"), sig("improve-1:running"))
    # resumed after a cancel, then completed
    assert run_ended("improve-1", sig("improve-1:completed"), sig("improve-1:running"))


def test_poll_recomputes_the_estimate_when_the_run_ends(workspace, tmp_path, monkeypatch):
    """The timer's handler, called as gradio calls it (no server, no browser): while the run goes on
    the estimate under the button is left alone; the tick that sees the run completed computes it
    again, from the settings on the page, with the core's :func:`oracle.improve.estimate`."""
    import oracle.improve
    from oracle import jobs
    from oracle.improve import ImproveConfig, ImproveJob
    from oracle.ui import create_app
    from oracle.ui.improve import ADVANCED_SETTINGS

    make_workspace(workspace, tmp_path, embedder=tiny_embedder_path())
    demo = create_app(workspace=workspace, generator="fake:x", embedder=tiny_embedder_path())
    jobs.stop_supervisor(workspace)  # the test moves the job's state itself
    (poll,) = [f.fn for f in demo.fns.values() if f.api_name == "improve_poll"]
    calls = []
    real = oracle.improve.estimate
    monkeypatch.setattr(oracle.improve, "estimate", lambda ws, cfg=None: calls.append(cfg) or real(ws, cfg))

    job_id = jobs.submit(workspace, ImproveJob(config=ImproveConfig()), name="run", start=False).job_id
    jobs.update_status(workspace, job_id, state=jobs.RUNNING)
    defaults = ImproveConfig()
    values = {"max_chunks": 0, "round_trip_k": 0, "eval_limit": 4, "use_ratings": True, "eval_fraction": 0.25, "rank": 4, "alpha": 8, "dropout": 0.05,
              "target_modules": "all-linear", "learning_rate": 2e-4, "epochs": 1, "max_seq_len": 512,
              "batch_size": 1, "grad_accum": 2, "k_distractors": 1, "p_no_gold": 0.1, "self_check": 0.0, "gold_order": "random", "bf16": "off",
              "embedding_epochs": 1, "embedding_batch_size": 8, "embedding_learning_rate": 3e-5, "hard_negatives": 0}
    settings = [False, "lora", defaults.student, *(values[name] for name, _ in ADVANCED_SETTINGS)]

    running = poll(job_id, "", "pt", *settings)
    *outs, estimate, seen = running
    assert len(outs) == 12 and seen.startswith(job_id) and seen.endswith(f"{job_id}:running")
    assert _skipped(estimate) and calls == []  # still running: the estimate stays as it was
    assert _skipped(poll(job_id, seen, "pt", *settings)[-2])  # nothing changed: nothing redrawn

    jobs.update_status(workspace, job_id, state=jobs.COMPLETED)
    *outs, estimate, seen = poll(job_id, seen, "pt", *settings)
    assert seen.endswith(f"{job_id}:completed")
    assert isinstance(estimate, str) and estimate.startswith("⏱️ **Tempo estimado de uma execução:**")
    (cfg,) = calls  # computed once, from the settings on the page
    assert cfg.lora.rank == 4 and cfg.eval_fraction == 0.25 and cfg.lora.bf16 == "off"
    assert cfg.max_chunks == 0 and cfg.eval_limit == 4
    assert outs[11].startswith("**Dados para aprender:**")  # the data summary is redrawn with it
    assert _skipped(poll(job_id, seen, "pt", *settings)[-2]) and len(calls) == 1  # once per end

    en = poll(job_id, seen.replace(":completed", ":running"), "en", *settings)[-2]
    assert en.startswith("⏱️ **") and "Tempo" not in en  # in the session's language
