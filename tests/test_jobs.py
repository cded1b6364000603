"""Background jobs: separate process, queue of one, cancel (flag, then SIGTERM), resume, re-attach.

Most tests use the ``selftest`` runner (counts steps, writes checkpoints) so the machinery is
exercised in about a second; one test runs a real LoRA job on the tiny model end to end."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from oracle import jobs
from oracle.errors import JobError


def _wait_for(pred, timeout_s=30.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return False


def test_job_runs_in_own_process_and_logs(workspace):
    status = jobs.submit(workspace, "selftest", {"steps": 4, "sleep_s": 0.01}, name="s1")
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
    status = jobs.submit(workspace, "selftest", {"steps": 1, "sleep_s": 0.0})
    assert isinstance(seen["cmd"], list) and seen["cmd"][1:4] == ["-m", "oracle.training.run", "--config"]
    assert not seen["kw"].get("shell") and seen["kw"]["start_new_session"]
    jobs.wait(workspace, status.job_id, 60)


def test_one_job_at_a_time_others_queue(workspace):
    first = jobs.submit(workspace, "selftest", {"steps": 30, "sleep_s": 0.05}, name="first")
    second = jobs.submit(workspace, "selftest", {"steps": 2, "sleep_s": 0.0}, name="second")
    assert first.state == jobs.RUNNING and second.state == jobs.QUEUED
    assert jobs.reconcile(workspace) is None  # nothing starts while the first runs
    assert jobs.get_job(workspace, second.job_id).state == jobs.QUEUED
    assert jobs.running_job(workspace).job_id == first.job_id
    # the finishing process starts the next one itself (no supervisor needed)
    assert _wait_for(lambda: jobs.get_job(workspace, second.job_id).state != jobs.QUEUED, 60)
    a, b = jobs.wait(workspace, first.job_id, 60), jobs.wait(workspace, second.job_id, 60)
    assert a.state == b.state == jobs.COMPLETED and b.started_at >= a.ended_at


def test_cancel_queued_then_running_then_resume_continues(workspace):
    running = jobs.submit(workspace, "selftest", {"steps": 200, "sleep_s": 0.05})
    queued = jobs.submit(workspace, "selftest", {"steps": 1, "sleep_s": 0.0})
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
        jobs.resume(workspace, jobs.submit(workspace, "selftest", {"steps": 1}, start=False).job_id)


def test_sigterm_fallback_stops_a_job_that_ignores_the_flag(workspace):
    # a job asleep inside one long step never looks at its flag: force sends SIGTERM
    status = jobs.submit(workspace, "selftest", {"steps": 2, "sleep_s": 60})
    assert _wait_for(lambda: jobs.get_job(workspace, status.job_id).pid is not None)
    time.sleep(1.0)  # let the interpreter install its SIGTERM handler
    t0 = time.monotonic()
    jobs.cancel(workspace, status.job_id)
    jobs.reconcile(workspace, grace_s=0.0)  # grace over: SIGTERM
    done = jobs.wait(workspace, status.job_id, 30)
    assert done.state == jobs.CANCELLED and time.monotonic() - t0 < 20


def test_dead_process_is_noticed_and_failures_are_recorded(workspace):
    status = jobs.submit(workspace, "selftest", {"steps": 2, "sleep_s": 60})
    assert _wait_for(lambda: jobs.get_job(workspace, status.job_id).pid is not None)
    os.kill(jobs.get_job(workspace, status.job_id).pid, signal.SIGKILL)  # killed without a word
    assert _wait_for(lambda: (jobs.reconcile(workspace), jobs.get_job(workspace, status.job_id).state)[1] == jobs.FAILED)
    assert "unexpectedly" in jobs.get_job(workspace, status.job_id).error
    failing = jobs.submit(workspace, "selftest", {"steps": 3, "fail_at": 2, "sleep_s": 0.0})
    done = jobs.wait(workspace, failing.job_id, 60)
    assert done.state == jobs.FAILED and "selftest failure at step 2" in done.error
    assert "Traceback" in jobs.process_tail(workspace, failing.job_id)
    with pytest.raises(JobError):
        jobs.submit(workspace, "no-such-kind", {})


def test_reattach_after_reload_reads_files_only(workspace):
    status = jobs.submit(workspace, "selftest", {"steps": 20, "sleep_s": 0.05}, name="bg")
    jobs.process._PROCS.clear()  # a reloaded app knows nothing but the files
    assert _wait_for(lambda: jobs.get_job(workspace, status.job_id).step >= 2)
    listed = jobs.list_jobs(workspace)
    assert listed[0].job_id == status.job_id and listed[0].name == "bg" and listed[0].state == jobs.RUNNING
    assert jobs.running_job(workspace).job_id == status.job_id  # alive by pid + command line
    assert jobs.wait(workspace, status.job_id, 60).state == jobs.COMPLETED
    jobs.delete(workspace, status.job_id)
    assert jobs.list_jobs(workspace) == []


def test_supervisor_starts_queued_jobs(workspace):
    status = jobs.submit(workspace, "selftest", {"steps": 1, "sleep_s": 0.0}, start=False)
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
        lora = [4, 8, 0.0, "all-linear", 1e-2, 0.3, 512, 1, 1, 2, 0.2, "off", 0.2]  # 0.3 epoch: a few steps
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

    assert set(RUNNERS) == set(jobs.KINDS)


def test_get_job_reads_a_task_as_a_job(workspace):
    """An in-process task (``qa-…``) shares ``jobs/``: reading it as a job gives its status."""
    from oracle.tasks import TaskRegistry

    registry = TaskRegistry(workspace, write_interval_s=0.0)

    def work(progress):
        progress(1, 2, "metade")
        progress(2, 2, "pronto")
        return {"n_pairs": 3}

    task = registry.start("qa", work, title="edital.pdf")
    registry.wait(task.task_id, 30)
    status = jobs.get_job(workspace, task.task_id)
    assert (status.job_id, status.kind, status.name) == (task.task_id, "qa", "edital.pdf")
    assert status.state == jobs.COMPLETED and (status.step, status.total) == (2, 2)
    assert status.result == {"n_pairs": 3} and status.fraction == 1.0
    assert jobs.list_jobs(workspace) == []  # the job list shows job processes only, as before
    failed = registry.start("qa", lambda progress: 1 / 0)
    registry.wait(failed.task_id, 30)
    status = jobs.get_job(workspace, failed.task_id)
    assert status.state == jobs.FAILED and "ZeroDivisionError" in status.error
