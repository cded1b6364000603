"""Background jobs: separate process, queue of one, cancel (flag, then SIGTERM), resume, re-attach.

Most tests use the ``selftest`` runner (counts steps, writes checkpoints) so the machinery is
exercised in about a second; one test runs a real LoRA job on the tiny model end to end."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import time
from typing import ClassVar

import pytest

from oracle import jobs
from oracle.errors import JobError
from oracle.training.specs import SelftestJob


@dataclasses.dataclass
class _UnknownJob(jobs.JobSpec):
    kind: ClassVar[str] = "no-such-kind"


def _wait_for(pred, timeout_s=30.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return False


def test_job_runs_in_own_process_and_logs(workspace):
    status = jobs.submit(workspace, SelftestJob(steps=4, sleep_s=0.01), name="s1")
    assert status.state == jobs.RUNNING and status.pid and status.pid != os.getpid()
    done = jobs.wait(workspace, status.job_id, 60)
    assert done.state == jobs.COMPLETED and done.step == 4 and done.total == 4 and done.fraction == 1.0
    log = jobs.read_log(workspace, status.job_id)
    assert [r["step"] for r in log] == [1, 2, 3, 4]
    assert set(log[0]) >= {"step", "total", "loss", "eval_loss", "tokens_per_s", "eta_s", "time"}
    assert jobs.read_log(workspace, status.job_id, since=3) == log[3:]
    assert done.result == {"status": "completed", "step": 4}
    assert (jobs.job_dir(workspace, status.job_id) / "job.json").exists()


def test_popen_gets_an_argument_list_without_shell(workspace, monkeypatch):
    seen = {}
    real = subprocess.Popen

    def spy(cmd, **kw):
        seen["cmd"], seen["kw"] = cmd, kw
        return real(cmd, **kw)

    monkeypatch.setattr(subprocess, "Popen", spy)
    status = jobs.submit(workspace, SelftestJob(steps=1, sleep_s=0.0))
    assert isinstance(seen["cmd"], list) and seen["cmd"][1:4] == ["-m", "oracle.training.run", "--config"]
    assert not seen["kw"].get("shell") and seen["kw"]["start_new_session"]
    jobs.wait(workspace, status.job_id, 60)


def test_one_job_at_a_time_others_queue(workspace):
    first = jobs.submit(workspace, SelftestJob(steps=30, sleep_s=0.05), name="first")
    second = jobs.submit(workspace, SelftestJob(steps=2, sleep_s=0.0), name="second")
    assert first.state == jobs.RUNNING and second.state == jobs.QUEUED
    assert jobs.reconcile(workspace) is None  # nothing starts while the first runs
    assert jobs.get_job(workspace, second.job_id).state == jobs.QUEUED
    assert jobs.running_job(workspace).job_id == first.job_id
    # the finishing process starts the next one itself (no supervisor needed)
    assert _wait_for(lambda: jobs.get_job(workspace, second.job_id).state != jobs.QUEUED, 60)
    a, b = jobs.wait(workspace, first.job_id, 60), jobs.wait(workspace, second.job_id, 60)
    assert a.state == b.state == jobs.COMPLETED and b.started_at >= a.ended_at


def test_cancel_queued_then_running_then_resume_continues(workspace):
    running = jobs.submit(workspace, SelftestJob(steps=200, sleep_s=0.05))
    queued = jobs.submit(workspace, SelftestJob(steps=1, sleep_s=0.0))
    assert jobs.cancel(workspace, queued.job_id).state == jobs.CANCELLED  # at once
    assert _wait_for(lambda: jobs.get_job(workspace, running.job_id).step >= 3)
    jobs.cancel(workspace, running.job_id)
    stopped = jobs.wait(workspace, running.job_id, 60)
    assert stopped.state == jobs.CANCELLED and stopped.resumable and stopped.step < 200
    with pytest.raises(JobError):
        jobs.resume(workspace, "missing-job")
    assert jobs.get_job(workspace, queued.job_id).state == jobs.CANCELLED  # never started
    # resume continues from the last checkpoint: steps go on, none repeated
    resumed = jobs.resume(workspace, running.job_id)
    assert resumed.state == jobs.RUNNING and resumed.attempts == 2
    jobs.cancel(workspace, running.job_id)
    jobs.wait(workspace, running.job_id, 60)
    steps = [r["step"] for r in jobs.read_log(workspace, running.job_id)]
    assert steps == list(range(1, len(steps) + 1)) and len(steps) > stopped.step
    with pytest.raises(JobError):
        jobs.resume(workspace, jobs.submit(workspace, SelftestJob(steps=1), start=False).job_id)


def test_sigterm_fallback_stops_a_job_that_ignores_the_flag(workspace):
    # a job asleep inside one long step never looks at its flag: force sends SIGTERM
    status = jobs.submit(workspace, SelftestJob(steps=2, sleep_s=60))
    assert _wait_for(lambda: jobs.get_job(workspace, status.job_id).pid is not None)
    time.sleep(1.0)  # let the interpreter install its SIGTERM handler
    t0 = time.monotonic()
    jobs.cancel(workspace, status.job_id)
    jobs.reconcile(workspace, grace_s=0.0)  # grace over: SIGTERM
    done = jobs.wait(workspace, status.job_id, 30)
    assert done.state == jobs.CANCELLED and time.monotonic() - t0 < 20


def test_dead_process_is_noticed_and_failures_are_recorded(workspace):
    status = jobs.submit(workspace, SelftestJob(steps=2, sleep_s=60))
    assert _wait_for(lambda: jobs.get_job(workspace, status.job_id).pid is not None)
    os.kill(jobs.get_job(workspace, status.job_id).pid, signal.SIGKILL)  # killed without a word
    assert _wait_for(lambda: (jobs.reconcile(workspace), jobs.get_job(workspace, status.job_id).state)[1] == jobs.FAILED)
    assert "unexpectedly" in jobs.get_job(workspace, status.job_id).error
    failing = jobs.submit(workspace, SelftestJob(steps=3, fail_at=2, sleep_s=0.0))
    done = jobs.wait(workspace, failing.job_id, 60)
    assert done.state == jobs.FAILED and "selftest failure at step 2" in done.error
    assert "Traceback" in jobs.process_tail(workspace, failing.job_id)
    with pytest.raises(JobError):
        jobs.submit(workspace, _UnknownJob())
    with pytest.raises(JobError):  # parameters are a typed spec, not a dict
        jobs.submit(workspace, {"steps": 1})


def test_reattach_after_reload_reads_files_only(workspace):
    status = jobs.submit(workspace, SelftestJob(steps=20, sleep_s=0.05), name="bg")
    jobs.process._PROCS.clear()  # a reloaded app knows nothing but the files
    assert _wait_for(lambda: jobs.get_job(workspace, status.job_id).step >= 2)
    listed = jobs.list_jobs(workspace)
    assert listed[0].job_id == status.job_id and listed[0].name == "bg" and listed[0].state == jobs.RUNNING
    assert jobs.running_job(workspace).job_id == status.job_id  # alive by pid + command line
    assert jobs.wait(workspace, status.job_id, 60).state == jobs.COMPLETED
    jobs.delete(workspace, status.job_id)
    assert jobs.list_jobs(workspace) == []


def test_supervisor_starts_queued_jobs(workspace):
    status = jobs.submit(workspace, SelftestJob(steps=1, sleep_s=0.0), start=False)
    assert jobs.get_job(workspace, status.job_id).state == jobs.QUEUED
    thread = jobs.start_supervisor(workspace, interval_s=0.2)
    try:
        assert jobs.start_supervisor(workspace) is thread  # once per workspace
        assert _wait_for(lambda: jobs.get_job(workspace, status.job_id).state == jobs.COMPLETED, 60)
    finally:
        jobs.stop_supervisor(workspace)
    assert not thread.is_alive()


from tiny_lm import tiny_lm_dir  # noqa: E402,F401 - fixture


def test_finetune_tab_starts_follows_and_lists_a_run(workspace, tiny_lm_dir):
    """The "Ajuste fino" tab through gradio_client: start a LoRA job, poll it, see the finished run."""
    from gradio_client import Client
    from test_training import build_workspace
    from tiny_embedder import tiny_embedder_path

    from oracle.ui import create_app

    build_workspace(workspace, 16, embedder=tiny_embedder_path())
    demo = create_app(workspace, lang="pt")
    demo.queue().launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=None, quiet=True)
    try:
        client = Client(demo.local_url, verbose=False)
        loaded = client.predict("pt", api_name="/ft_load")
        assert "16 exemplos" in loaded[-1]
        lora = [4, 8, 0.0, "all-linear", 1e-2, 0.3, 512, 1, 1, 2, 0.2, 0.5, "retrieved", "off", 0.2]  # 0.3 epoch
        emb = [1, 4, 1e-3, 1, 0.2]
        out = client.predict("lora", [], True, tiny_lm_dir, "ui-adapter", *lora, *emb, 0.5, 5.0, "pt",
                             api_name="/ft_start")
        job_id = out[0]["value"] if isinstance(out[0], dict) else out[0]
        assert job_id and jobs.get_job(workspace, job_id).kind == "lora"
        done = jobs.wait(workspace, job_id, 300)
        assert done.state == jobs.COMPLETED, jobs.process_tail(workspace, job_id)
        # the job process trained, logged every step and wrote the adapter and its cost
        n_steps = done.result["metrics"]["max_steps"]
        assert done.result["adapter_dir"].endswith("ui-adapter") and done.result["metrics"]["steps"] == n_steps > 0
        assert done.result["cost"]["usd"] > 0 and done.result["cost"]["rate_source"] in ("api", "fallback")
        assert (workspace.adapters / "ui-adapter" / "adapter_model.safetensors").exists()
        assert done.result["metrics"]["n_self_check"] > 0  # "Treinar também a autoverificação" reached the run
        steps = [r["step"] for r in jobs.read_log(workspace, job_id) if r["loss"] is not None]
        assert steps == list(range(1, n_steps + 1)) and done.loss is not None and done.eval_loss is not None
        polled = client.predict(job_id, "pt", api_name="/ft_select")
        assert 'data-state="completed"' in polled[1] and "ui-adapter" in polled[5]
        runs = polled[6]
        assert any(row[0] == "ui-adapter" for row in runs["data"])
        assert polled[2]["data"]  # the loss plot has points
        with pytest.raises(Exception):  # a bad setting is refused before any job starts
            client.predict("lora", [], True, tiny_lm_dir, "bad", 0, *lora[1:], *emb, 0.5, 5.0, "pt", api_name="/ft_start")
    finally:
        demo.close()


def test_finetune_poll_refreshes_the_result_dropdown_when_a_job_finishes():
    """The timer tick re-sends the job and result (export/merge/re-index) dropdowns when a job's
    state changes, e.g. a training run completes and adds a result; otherwise it skips them."""
    import gradio as gr

    from oracle.ui.finetune import poll_updates

    outs = (gr.Dropdown(choices=["j0", "j1"], value="j1"),) + tuple(f"out{i}" for i in range(1, 7)) + (
        gr.Dropdown(choices=["new-run"]),)
    done = poll_updates(outs, "j1|1:2|3:4|j1:completed", "j1|1:1|3:3|j1:running")
    assert done[7] is outs[7] and done[8] == "j1|1:2|3:4|j1:completed"
    assert "value" not in done[7].constructor_args  # only the choices: the person's pick stays
    # the job dropdown too: a tick answered after a click must not put its older job back
    assert done[0].constructor_args == {"choices": ["j0", "j1"]}
    same = poll_updates(outs, "j1|1:3|3:5|j1:running", "j1|1:2|3:4|j1:running")
    assert same[1:7] == outs[1:7] and same[0] == gr.skip() and same[7] == gr.skip()


def test_job_kinds_are_names_resolved_by_the_worker():
    from oracle.training.run import RUNNERS
    from oracle.training.specs import SPECS

    assert set(RUNNERS) == set(jobs.KINDS) == set(SPECS)
    assert all(cls.kind == kind for kind, cls in SPECS.items())


def test_get_job_reads_a_task_as_a_job(workspace):
    """An in-process task (``qa-…``) shares ``jobs/``: reading it as a job gives its status."""
    from oracle.jobs.threads import TaskRegistry

    registry = TaskRegistry(workspace, write_interval_s=0.0)

    def work(progress):
        progress(1, 2, "metade")
        progress(2, 2, "pronto")
        return {"n_pairs": 3}

    task = registry.start("qa", work, title="edital.pdf")
    assert task.job_id.startswith("qa-") and task.runner == jobs.TASK_RUNNER
    registry.wait(task.job_id, 30)
    status = jobs.get_job(workspace, task.job_id)
    assert (status.job_id, status.kind, status.name, status.key) == (task.job_id, "qa", "edital.pdf", "qa")
    assert status.state == jobs.COMPLETED and (status.step, status.total) == (2, 2)
    assert status.result == {"n_pairs": 3} and status.fraction == 1.0
    assert jobs.list_jobs(workspace) == []  # the job list shows job processes only, as before
    failed = registry.start("qa", lambda progress: 1 / 0)
    registry.wait(failed.job_id, 30)
    status = jobs.get_job(workspace, failed.job_id)
    assert status.state == jobs.FAILED and "ZeroDivisionError" in status.error
    assert "ZeroDivisionError" in status.error_message("pt") and status.error_key == "err.generic"
    assert registry.get(failed.job_id) == status  # one status type, one reader


def test_get_job_reads_a_running_thread_task(workspace):
    """``jobs.get_job("qa-…")`` while the task's thread still works: its live progress, as a JobStatus."""
    import threading

    from oracle.jobs.threads import TaskRegistry

    registry = TaskRegistry(workspace, write_interval_s=0.0)
    gate = threading.Event()

    def work(progress):
        progress(1, 3, "um de três")
        gate.wait(10)
        return {}

    task = registry.start("qa", work, key="qa:doc", title="doc.txt")
    try:
        assert _wait_for(lambda: jobs.get_job(workspace, task.job_id).step == 1, 10)
        status = jobs.get_job(workspace, task.job_id)
        assert isinstance(status, jobs.JobStatus) and status.state == jobs.RUNNING and not status.finished
        assert (status.total, status.message, status.key, status.pid) == (3, "um de três", "qa:doc", os.getpid())
        assert 0.3 < status.fraction < 0.34
        with pytest.raises(JobError):  # its thread listens to its registry, not to a cancel file
            jobs.cancel(workspace, task.job_id)
    finally:
        gate.set()
    assert registry.wait(task.job_id, 10).state == jobs.COMPLETED
    assert not (workspace.jobs / task.job_id / jobs.CANCEL_FLAG).exists()


def test_status_files_of_older_versions_read_as_completed(workspace):
    """A task's ``TaskStatus`` file (``task_id``, ``done``, state ``done``), and any status with
    state ``done``, read as ``completed`` by the one reader: get_job and the task registry alike."""
    from oracle.jobs.threads import TaskRegistry
    from oracle.schema import write_json_atomic

    old_task = {"task_id": "qa-0123456789ab", "kind": "qa", "key": "qa", "title": "edital.pdf", "state": "done",
                "done": 7, "total": 7, "message": "pronto", "eta_s": 0.0, "elapsed_s": 12.5,
                "started_at": "2026-01-01T10:00:00+00:00", "updated_at": "2026-01-01T10:00:12+00:00",
                "finished_at": "2026-01-01T10:00:12+00:00", "result": {"n_pairs": 14}, "error": None,
                "pid": 1, "runner": "oracle.tasks"}
    failed_task = {**old_task, "task_id": "index-0123456789ab", "kind": "index", "key": "index:default",
                   "state": "failed", "done": 1, "result": {},
                   "error": {"key": "err.index_not_found", "params": {"name": "default"}, "detail": "no index"}}
    write_json_atomic(workspace.jobs / old_task["task_id"] / "status.json", old_task)
    write_json_atomic(workspace.jobs / failed_task["task_id"] / "status.json", failed_task)
    new_done = jobs.JobStatus(job_id="eval-0123456789ab", kind="eval", state="done", runner=jobs.TASK_RUNNER)
    write_json_atomic(workspace.jobs / new_done.job_id / "status.json", new_done)

    status = jobs.get_job(workspace, old_task["task_id"])
    assert status.state == jobs.COMPLETED and status.finished and status.fraction == 1.0
    assert (status.name, status.step, status.total, status.result) == ("edital.pdf", 7, 7, {"n_pairs": 14})
    assert (status.elapsed_s, status.message, status.ended_at) == (12.5, "pronto", "2026-01-01T10:00:12+00:00")
    assert jobs.get_job(workspace, new_done.job_id).state == jobs.COMPLETED
    failed = jobs.get_job(workspace, failed_task["task_id"])
    assert failed.state == jobs.FAILED and "não existe" in failed.error_message("pt")

    registry = TaskRegistry(workspace)  # a reloaded app lists them, converted
    assert registry.latest("qa").state == jobs.COMPLETED and registry.latest("qa").job_id == old_task["task_id"]
    assert registry.latest("eval").state == jobs.COMPLETED
    assert registry.get(failed_task["task_id"]) == failed
    assert jobs.list_jobs(workspace) == []  # tasks have no job.json: not in the job list


def _specs_of_every_kind(tmp_path):
    """One spec of each job kind, every field off its default."""
    from oracle.improve import ImproveConfig, ImproveJob
    from oracle.training.cost import CostConfig
    from oracle.training.embedding import EmbedTrainConfig
    from oracle.training.lora import LoraTrainConfig
    from oracle.training.specs import EmbeddingJob, EstimateJob, LoraJob, MergeJob, ReindexJob

    lora_cfg = LoraTrainConfig(rank=4, alpha=8, target_modules="q_proj,v_proj", epochs=0.5, bf16="off")
    cost = CostConfig(hourly_price_usd=2.5, fallback_usd_brl=5.0, rate_url="http://127.0.0.1:9/")
    files = [str(tmp_path / "a.qa.jsonl")]
    return [
        LoraJob(base_model="tiny", name="meu-adaptador", files=files, use_ratings=False, index_name="outro",
                config=lora_cfg, cost=cost),
        EstimateJob(base_model="tiny", files=[], config=lora_cfg, cost=cost),
        EmbeddingJob(base_embedder=str(tmp_path / "emb"), name="emb-1", files=files, use_ratings=False,
                     config=EmbedTrainConfig(epochs=1.0, batch_size=4, hard_negatives=0)),
        ReindexJob(embedder=str(tmp_path / "emb"), index_name="default", target_name="novo"),
        MergeJob(adapter_dir=str(tmp_path / "ad"), output_dir=str(tmp_path / "ad-merged"), base_model="tiny"),
        SelftestJob(steps=3, sleep_s=0.0, fail_at=2),
        ImproveJob(config=ImproveConfig(stages=["pairs", "evaluate"], gold=[str(tmp_path / "g.jsonl")], seed=7,
                                        lora=LoraTrainConfig(max_steps=3), reviewed_only=True)),
    ]


def test_a_spec_of_every_kind_round_trips_through_job_json(workspace, tmp_path):
    """submit writes the spec's kind and params to job.json; the worker's reader rebuilds an equal
    object of the same class (nested configs included)."""
    from oracle.schema import read_json
    from oracle.training.specs import SPECS, spec_from_params

    specs = _specs_of_every_kind(tmp_path)
    assert {s.kind for s in specs} == set(jobs.KINDS) == set(SPECS)
    for spec in specs:
        status = jobs.submit(workspace, spec, name=f"n-{spec.kind}", start=False)
        assert status.state == jobs.QUEUED and status.kind == spec.kind
        written = read_json(jobs.job_dir(workspace, status.job_id) / jobs.JOB_FILE)
        assert written["kind"] == spec.kind and written["name"] == f"n-{spec.kind}"
        rebuilt = spec_from_params(written["kind"], written["params"])
        assert type(rebuilt) is type(spec) and rebuilt == spec, spec.kind
        assert rebuilt.to_params() == written["params"]


def test_job_json_written_before_the_specs_still_reads():
    """The plain-dict params older versions wrote (app, command line, improve) make the same specs;
    unknown keys are ignored; a kind's required field missing is a JobError."""
    from oracle.improve import ImproveConfig, ImproveJob
    from oracle.training.specs import EmbeddingJob, LoraJob, ReindexJob, spec_from_params

    lora = spec_from_params("lora", {
        "base_model": "tiny", "name": None, "files": None, "use_ratings": True, "index_name": "default",
        "config": {"rank": 4, "alpha": 8, "dropout": 0.0, "target_modules": "all-linear", "learning_rate": 0.01,
                   "epochs": 0.3, "max_seq_len": 512, "batch_size": 1, "grad_accum": 1, "k_distractors": 2,
                   "p_no_gold": 0.2, "bf16": "off", "eval_fraction": 0.2},
        "cost": {"hourly_price_usd": 0.5, "fallback_usd_brl": 5.0}, "resume": False})
    assert isinstance(lora, LoraJob) and lora.config.rank == 4 and lora.config.bf16 == "off"
    assert lora.cost.hourly_price_usd == 0.5 and lora.cost.timeout_s == 3.0
    bench = spec_from_params("embedding", {"name": "pdf-embedder", "index_name": "default",
                                           "config": {"eval_fraction": 0.2, "epochs": 3}})
    assert isinstance(bench, EmbeddingJob) and bench.base_embedder is None and bench.config.epochs == 3
    assert spec_from_params("reindex", {"index_name": "default", "embedder": "/x"}) == ReindexJob(embedder="/x")
    cfg = ImproveConfig(stages=["pairs"], seed=3)
    assert spec_from_params("improve", {"config": cfg.to_dict()}) == ImproveJob(config=cfg)
    with pytest.raises(JobError):
        spec_from_params("merge", {"adapter_dir": "/a"})  # no output_dir
    with pytest.raises(JobError):
        spec_from_params("no-such-kind", {})


def test_error_message_translates_a_key_or_gives_the_recorded_text():
    failed = jobs.JobStatus(job_id="j", kind="lora", state=jobs.FAILED, error="the process ended unexpectedly")
    assert failed.error_message("pt") == "the process ended unexpectedly"
    keyed = jobs.JobStatus(job_id="j", kind="lora", state=jobs.FAILED, error="Index 'x' does not exist",
                           error_key="err.index_not_found", error_params={"name": "x"})
    assert "não existe" in keyed.error_message("pt") and "does not exist" in keyed.error_message("en")
    assert jobs.JobStatus(job_id="j", kind="lora").error_message() == ""


def test_the_worker_runs_a_job_json_written_before_the_specs(workspace):
    """A queued job whose job.json an older version wrote (plain params, a key no spec has) runs."""
    from oracle.schema import read_json, write_json_atomic

    status = jobs.submit(workspace, SelftestJob(), start=False)
    path = jobs.job_dir(workspace, status.job_id) / jobs.JOB_FILE
    old = read_json(path)
    old["params"] = {"steps": 2, "sleep_s": 0.0, "resume": False}
    write_json_atomic(path, old)
    jobs.start_next(workspace)
    done = jobs.wait(workspace, status.job_id, 60)
    assert done.state == jobs.COMPLETED and done.result == {"status": "completed", "step": 2}


def test_rate_eta_counts_from_the_first_unit_done():
    """The time before the first unit (a model loading) is not the pace of the others."""
    clock = [100.0]
    eta = jobs.RateEta(clock=lambda: clock[0])
    assert eta(30, 100) is None  # a resumed task: 30 were done before this process
    clock[0] = 110.0
    assert eta(30, 100) is None  # nothing done yet: no rate
    clock[0] = 160.0
    assert eta(31, 100) is None  # the first unit, 50 s with the model loading: the clock starts here
    clock[0] = 170.0
    assert eta(41, 100) == 59.0  # 10 units in 10 s: 59 left take 59 s (not 59 x 70 / 11 = 375 s)
    assert eta(41, 0) is None  # unknown total
    clock[0] = 229.0
    assert eta(100, 100) == 0.0


def test_a_record_without_a_time_left_clears_the_last_one(workspace):
    status = jobs.submit(workspace, SelftestJob(steps=1, sleep_s=0.0), name="eta")
    jobs.wait(workspace, status.job_id, 60)
    jobs.log_record(workspace, status.job_id, {"step": 3, "total": 9, "eta_s": 42.0})
    assert jobs.get_job(workspace, status.job_id).eta_s == 42.0
    jobs.log_record(workspace, status.job_id, {"step": 0, "total": 0})  # no key: unchanged
    assert jobs.get_job(workspace, status.job_id).eta_s == 42.0
    jobs.log_record(workspace, status.job_id, {"stage": "next", "step": 0, "total": 0, "eta_s": None})
    assert jobs.get_job(workspace, status.job_id).eta_s is None  # a new stage: not the last one's
