"""The LoRA fine-tune run from the APP, in a real browser, then a question in the Chat tab.

What a person does, driven by Playwright in Debian's Chromium (headless):

1. ``python app.py`` starts as a subprocess with ``ORACLE_HOME=<--home>`` on a free port
   (its log: ``<home>/app_finetune_app.log``); the script waits until the page is served;
2. tab **Melhorar o Oráculo**, part **Avançado**: kind "Gerador (adaptador LoRA)", base model ``--base`` (typed into the
   dropdown, which takes any bundled name, folder or hub id), output name ``--name``, the
   settings given on the command line (the others keep the tab's defaults), data = every
   ``data_qa/`` file plus validated ratings (the tab's default);
3. **Estimar tempo e custo**: waits for the estimate job and records the text shown;
4. **Iniciar treino**: records the wall time from the click until the page shows the job
   completed (the page polls the job every 2 s; this script polls the page every second);
5. tab **Chat**: generator = the base model (local), adapter = the new one (picked by a
   substring of the option text, whatever the label format), asks ``--question`` and waits
   for the streamed answer; records it with its sources.

Screenshots of each step go to ``<home>/app_finetune_shots/``; everything measured to
``<home>/app_finetune.json`` (times in seconds, the estimate, job id and times, the adapter's
``train.json`` metrics, the answer); a summary is printed.

Reruns: a LoRA job of the same name still queued or running is followed instead of started
again; an adapter that already exists (``adapters/<name>/train.json``) is not retrained
(``--retrain`` to train it again); ``--skip-train`` goes straight to the chat part. On
timeout the job is cancelled from the page (Cancelar) so that it does not hold the CPU.

Usage::

    python3 bench/app_finetune.py --home /tmp/oracle-ft --name app-lora \\
        --epochs 1 --k-distractors 2 --max-seq-len 1024 --eval-fraction 0.15

Needs the playwright package and ``/usr/bin/chromium`` (``ORACLE_CHROMIUM`` to change).
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

CHROMIUM = os.environ.get("ORACLE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEFAULT_QUESTION = "Quais documentos são exigidos para a inscrição?"
FINAL = ("completed", "failed", "cancelled")
TAB_FT, TAB_CHAT = "Melhorar o Oráculo", "Chat"  # the page is opened with ?lang=pt
ADVANCED = "Avançado"  # the accordion of that tab holding the per-stage form


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the app ---------------------------------------------------------------------------------


def start_app(home: Path, port: int, log_path: Path) -> subprocess.Popen:
    """``python app.py`` with ORACLE_HOME=home on 127.0.0.1:port (argument list, no shell)."""
    env = dict(
        os.environ,
        ORACLE_HOME=str(home),
        GRADIO_SERVER_NAME="127.0.0.1",
        GRADIO_SERVER_PORT=str(port),
        ORACLE_LANG="pt",
        GRADIO_ANALYTICS_ENABLED="False",
    )
    out = open(log_path, "ab")  # noqa: SIM115 - the child writes to it until it ends
    return subprocess.Popen(
        [sys.executable, str(ROOT / "app.py")], cwd=str(ROOT), env=env, stdout=out, stderr=subprocess.STDOUT
    )


def wait_served(url: str, proc: subprocess.Popen, timeout_s: float = 180.0) -> float:
    """Seconds until ``url`` answers 200. Raises RuntimeError if the app exits or times out."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        if proc.poll() is not None:
            raise RuntimeError(f"app.py exited with code {proc.returncode} (see its log)")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return time.monotonic() - t0
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(1.0)
    raise RuntimeError(f"the app did not answer at {url} within {timeout_s:.0f} s")


def stop_app(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# --- page helpers ----------------------------------------------------------------------------


class Shots:
    """Numbered full-page screenshots in one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.prefix = time.strftime("%Y%m%d-%H%M%S")  # one run's shots sort together, none overwritten
        self.n = 0
        self.paths: list[str] = []

    def __call__(self, page, name: str) -> str:
        path = self.folder / f"{self.prefix}-{self.n:02d}-{name}.png"
        self.n += 1
        page.screenshot(path=str(path), full_page=True)
        self.paths.append(str(path))
        return str(path)


def toasts(page) -> list[str]:
    return [t.strip() for t in page.locator(".toast-body").all_inner_texts() if t.strip()]


def fill_number(page, elem_id: str, value: float) -> None:
    """Type into the number box of gr.Number / gr.Slider ``elem_id`` and check the page took it."""
    box = page.locator(f"#{elem_id} input[type=number]")
    box.fill(str(value))
    box.press("Tab")
    page.wait_for_function(
        "([sel, v]) => Math.abs(Number(document.querySelector(sel).value) - v) < 1e-12",
        arg=[f"#{elem_id} input[type=number]", float(value)],
        timeout=10_000,
    )


def pick_option(page, combobox, wanted: str, custom: str | None = None) -> str:
    """Open ``combobox`` and click the option whose text best matches ``wanted`` (equal, then
    starting with it, then containing it); when none does, type ``custom`` (if given).
    Returns the text now shown. Raises RuntimeError when nothing fits."""
    combobox.click()
    options = page.get_by_role("option")
    try:
        options.first.wait_for(state="visible", timeout=10_000)
    except Exception as err:  # noqa: BLE001 - no option at all: typed below, or reported
        log(f"  no option listed ({type(err).__name__})")
    texts = [t.strip() for t in options.all_inner_texts()]
    ranked = [i for i, t in enumerate(texts) if t == wanted]
    ranked += [i for i, t in enumerate(texts) if t.startswith(wanted) and i not in ranked]
    ranked += [i for i, t in enumerate(texts) if wanted in t and i not in ranked]
    if ranked:
        options.nth(ranked[0]).click()
    elif custom is not None:
        combobox.fill(custom)
        combobox.press("Enter")
    else:
        combobox.press("Escape")
        raise RuntimeError(f"no option matching {wanted!r} among {texts}")
    page.wait_for_timeout(500)
    return combobox.input_value()


def progress_state(page) -> dict[str, Any]:
    """What the tab's progress block shows: job (id), state, done, total (steps), text, detail."""
    return page.evaluate("""() => {
        const el = document.querySelector('#oracle-ft-progress .oracle-progress');
        if (!el) return {job: null, state: null, text: ''};
        const detail = el.querySelector('.oracle-progress-detail');
        return {job: el.dataset.job, state: el.dataset.state, done: Number(el.dataset.done), total: Number(el.dataset.total),
                text: el.querySelector('span') ? el.querySelector('span').innerText : el.innerText,
                detail: detail ? detail.innerText : ''};
    }""")


def new_job(ws, page, kind: str, before: set[str], timeout_s: float = 60.0) -> str:
    """Id of the job of ``kind`` that a click just submitted (one not in ``before``). Raises
    RuntimeError when the page shows an error instead, or when none appears in ``timeout_s``."""
    from oracle import jobs

    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        fresh = [s.job_id for s in jobs.list_jobs(ws) if s.kind == kind and s.job_id not in before]
        if fresh:
            return fresh[0]
        errors = toasts(page)
        if errors:
            raise RuntimeError(f"the page shows an error: {errors}")
        time.sleep(0.5)
    raise RuntimeError(f"no {kind} job was submitted within {timeout_s:.0f} s of the click")


def follow_job(
    page, job_id: str, timeout_s: float, shots: Shots | None = None, shot_every_s: float = 300.0
) -> tuple[dict[str, Any], float]:
    """Poll the page until its progress block shows job ``job_id`` in a final state. Returns
    (last state shown, seconds waited); the state is ``"timeout"`` when ``timeout_s`` passed
    first. Takes a screenshot every ``shot_every_s`` when ``shots`` is given."""
    t0 = time.monotonic()
    last_text, last_shot = "", t0
    while True:
        st = progress_state(page)
        ours = st.get("job") == job_id
        if ours and st["text"] != last_text:
            log(f"  {st['text']}")
            last_text = st["text"]
        if ours and st["state"] in FINAL:
            return st, time.monotonic() - t0
        now = time.monotonic()
        if now - t0 > timeout_s:
            st["state"] = "timeout"
            return st, now - t0
        if shots is not None and now - last_shot >= shot_every_s:
            shots(page, f"training-{int(now - t0)}s")
            last_shot = now
        time.sleep(1.0)


def last_bot_message(page):
    chat = page.locator("#oracle-chatbot")
    for sel in ('[data-testid="bot"]', ".message.bot", ".bot"):
        loc = chat.locator(sel)
        if loc.count():
            return loc.last
    return None


def wait_answer(page, timeout_s: float, stable_s: float = 4.0) -> tuple[str, float]:
    """Wait for the streamed answer: the chatbot's last message is no longer the "⏳" notice,
    the chatbot is not generating any more, and its text has not changed for ``stable_s``.
    Returns (text, seconds)."""
    t0 = time.monotonic()
    last, since = None, time.monotonic()
    tracker = page.locator("#oracle-chatbot [data-testid=status-tracker]")
    while time.monotonic() - t0 < timeout_s:
        errors = toasts(page)
        if errors:
            raise RuntimeError(f"the page shows an error: {errors}")
        msg = last_bot_message(page)
        text = msg.inner_text().strip() if msg is not None else ""
        busy = tracker.count() and "hide" not in (tracker.first.get_attribute("class") or "")
        if text != last:
            last, since = text, time.monotonic()
        elif text and not text.startswith("⏳") and not busy and time.monotonic() - since >= stable_s:
            return text, since - t0
        time.sleep(1.0)
    raise RuntimeError(f"no complete answer within {timeout_s:.0f} s (last text: {last!r})")


def split_answer(text: str) -> tuple[str, str, list[str]]:
    """(answer, sources heading, source lines ``[n] document, p. X — “snippet”``) of a rendered
    chat message; the heading is the line before the first ``[1]`` line."""
    lines = [ln.rstrip() for ln in text.splitlines()]
    first = next((i for i, ln in enumerate(lines) if re.match(r"^\s*\[1\]", ln)), None)
    if first is None:
        return text.strip(), "", []
    head_i = max((i for i in range(first) if lines[i].strip()), default=None)
    heading = lines[head_i].strip() if head_i is not None else ""
    answer = "\n".join(lines[: head_i if head_i is not None else first]).strip()
    sources = [ln.strip() for ln in lines[first:] if re.match(r"^\s*\[\d+\]", ln)]
    return answer, heading, sources


# --- the run ---------------------------------------------------------------------------------


def job_summary(status) -> dict[str, Any]:
    return {
        "job_id": status.job_id,
        "kind": status.kind,
        "name": status.name,
        "state": status.state,
        "queued_at": status.queued_at,
        "started_at": status.started_at,
        "ended_at": status.ended_at,
        "step": status.step,
        "total": status.total,
        "error": status.error,
    }


def lora_jobs(ws, name: str) -> list:
    from oracle import jobs

    return [s for s in jobs.list_jobs(ws) if s.kind == "lora" and s.name == name]


def set_lora_form(page, args) -> dict[str, Any]:
    """Fill the Ajuste fino form; returns the settings typed."""
    page.locator("#oracle-ft-kind label", has=page.locator("input[value=lora]")).click()
    page.wait_for_function("() => document.querySelector('#oracle-ft-kind input[value=lora]').checked")
    page.wait_for_timeout(1000)  # the kind change resets the base dropdown: let it land first
    base = page.locator("#oracle-ft-base input")
    shown = pick_option(page, base, args.base, custom=args.base)
    if args.base not in shown:
        raise RuntimeError(f"the base model field shows {shown!r}, not {args.base!r}")
    page.locator("#oracle-ft-name textarea").fill(args.name)
    settings: dict[str, Any] = {
        "epochs": args.epochs,
        "k_distractors": args.k_distractors,
        "max_seq_len": args.max_seq_len,
        "eval_fraction": args.eval_fraction,
    }
    ids = {
        "epochs": "oracle-ft-epochs",
        "k_distractors": "oracle-ft-k",
        "max_seq_len": "oracle-ft-max-len",
        "eval_fraction": "oracle-ft-eval-fraction",
        "rank": "oracle-ft-rank",
        "alpha": "oracle-ft-alpha",
        "learning_rate": "oracle-ft-lr",
        "batch_size": "oracle-ft-batch",
        "grad_accum": "oracle-ft-accum",
    }
    for key, value in (
        ("rank", args.rank),
        ("alpha", args.alpha),
        ("learning_rate", args.lr),
        ("batch_size", args.batch_size),
        ("grad_accum", args.grad_accum),
    ):
        if value is not None:
            settings[key] = value
    for key, value in settings.items():
        fill_number(page, ids[key], value)
    settings["base_model"] = args.base
    settings["name"] = args.name
    return settings


def train_part(page, ws, args, shots: Shots, report: dict[str, Any]) -> None:
    """Estimate and train from the Ajuste fino tab (or follow / skip, see the module doc)."""
    from oracle import jobs
    from oracle.training.card import RunCard

    page.get_by_role("tab", name=TAB_FT).click()
    page.get_by_text(ADVANCED, exact=True).click()  # the per-stage form is under the closed "Avançado"
    page.locator("#oracle-ft-data").filter(has_text=re.compile(r"\d")).wait_for(timeout=60_000)
    report["data_summary"] = page.locator("#oracle-ft-data").inner_text().strip()
    log(f"data: {report['data_summary']}")
    train_json = ws.adapters / args.name / "train.json"
    active = [s for s in lora_jobs(ws, args.name) if s.state in (jobs.QUEUED, jobs.RUNNING)]
    if active:
        job_id = active[-1].job_id  # the oldest one runs first
        log(f"a LoRA job named {args.name!r} is already {active[-1].state}: following it ({job_id})")
        report["train"] = {"mode": "followed"}
        page.wait_for_timeout(3000)  # the page selects the running job on load
        if progress_state(page).get("job") != job_id:
            state_pt = {jobs.QUEUED: "na fila", jobs.RUNNING: "em andamento"}[active[-1].state]
            pick_option(page, page.locator("#oracle-ft-job input"), f"lora · {args.name} · {state_pt}")
        t_click = None
    elif train_json.exists() and not args.retrain:
        log(f"adapters/{args.name} already trained: skipping the training (--retrain to train again)")
        report["train"] = {"mode": "already trained"}
        return
    else:
        report["settings"] = set_lora_form(page, args)
        shots(page, "settings")
        if not args.no_estimate:
            log("estimate: clicking 'Estimar tempo e custo'")
            before = {s.job_id for s in jobs.list_jobs(ws)}
            page.locator("#oracle-ft-estimate").click()
            est_id = new_job(ws, page, "estimate", before)
            st, waited = follow_job(page, est_id, args.estimate_timeout_min * 60)
            text = (
                page.locator("#oracle-ft-result").inner_text().strip() if st["state"] == "completed" else ""
            )
            est = jobs.get_job(ws, est_id)
            report["estimate"] = {
                "state": st["state"],
                "text": text or st.get("detail"),
                "page_wait_s": round(waited, 1),
                "job": job_summary(est),
                "result": est.result,
            }
            shots(page, "estimate")
            log(f"estimate ({st['state']}, {waited:.0f} s): {text or st.get('detail')}")
        log("training: clicking 'Iniciar treino'")
        before = {s.job_id for s in jobs.list_jobs(ws)}
        t_click = time.monotonic()
        page.locator("#oracle-ft-start").click()
        job_id = new_job(ws, page, "lora", before)
        report["train"] = {"mode": "started"}
    st, waited = follow_job(page, job_id, args.timeout_min * 60, shots, args.shot_every_min * 60)
    wall = time.monotonic() - t_click if t_click is not None else None
    status = jobs.get_job(ws, job_id)
    report["train"].update(
        {
            "state": st["state"],
            "page_text": st.get("text"),
            "detail": st.get("detail"),
            "wall_s_click_to_completed": round(wall, 1)
            if wall is not None and st["state"] == "completed"
            else None,
            "wall_s_click_to_end": round(wall, 1) if wall is not None else None,
            "page_wait_s": round(waited, 1),
            "job": job_summary(status),
        }
    )
    shots(page, f"training-{st['state']}")
    if st["state"] == "timeout":
        log(f"timeout after {args.timeout_min} min: cancelling the job from the page")
        page.locator("#oracle-ft-cancel").click()
        # the job stops at its next step; the app's supervisor kills it after a grace period
        st, _ = follow_job(page, job_id, jobs.CANCEL_GRACE_S + 60)
        report["train"]["state_after_cancel"] = st["state"]
        report["train"]["job"] = job_summary(jobs.get_job(ws, job_id))
        shots(page, f"training-cancel-{st['state']}")
        raise RuntimeError(
            f"the LoRA job did not finish within {args.timeout_min} min (cancel: {st['state']})"
        )
    if st["state"] != "completed":
        tail = jobs.process_tail(ws, job_id, 3000)
        report["train"]["process_tail"] = tail
        raise RuntimeError(f"the LoRA job ended {st['state']}: {st.get('detail')}\n{tail}")
    report["train"]["result_text"] = page.locator("#oracle-ft-result").inner_text().strip()
    runs = page.locator("#oracle-ft-runs")
    runs.filter(has_text=args.name).wait_for(timeout=30_000)
    rows = [
        " | ".join(c.strip() for c in r.split("\n") if c.strip())
        for r in runs.locator("[role=row]").all_inner_texts()
    ]
    report["train"]["runs_row"] = next((r for r in rows if r.startswith(f"{args.name} |")), "")
    card = RunCard.load(train_json.parent, missing_ok=True)
    report["train_json"] = card.to_dict() if card is not None else None
    log(
        f"trained in {wall:.0f} s (click -> completed)"
        if wall is not None
        else "training followed to the end"
    )


def chat_part(page, ws, args, shots: Shots, report: dict[str, Any]) -> None:
    """Chat tab: the base model (local) with the new adapter answers ``args.question``."""
    from oracle.training.card import RunCard

    train_json = ws.adapters / args.name / "train.json"
    if not train_json.exists():
        raise RuntimeError(f"no adapter {args.name!r} in {ws.adapters} (train it first)")
    report.setdefault("train_json", RunCard.load(train_json.parent).to_dict())
    report.setdefault("train", {}).setdefault(
        "job", next((job_summary(s) for s in lora_jobs(ws, args.name) if s.state == "completed"), None)
    )
    base = (report["train_json"] or {}).get("base_model") or args.base
    page.get_by_role("tab", name=TAB_CHAT).click()
    panel = page.locator("#oracle-tab-chat")
    generator = panel.get_by_role("combobox", name=re.compile(r"gerador|generator", re.IGNORECASE)).first
    adapter = panel.get_by_role("combobox", name=re.compile(r"adaptador|adapter", re.IGNORECASE)).first
    page.wait_for_timeout(1500)  # the tab refreshes its adapter list when shown
    shown_gen = pick_option(page, generator, base, custom=f"local:{base}")
    shown_ad = pick_option(page, adapter, args.name)
    log(f"chat: generator {shown_gen!r}, adapter {shown_ad!r}")
    page.locator("#oracle-chat-question textarea").fill(args.question)
    shots(page, "chat-settings")
    log(f"asking: {args.question}")
    page.locator("#oracle-chat-send").click()
    text, seconds = wait_answer(page, args.answer_timeout_min * 60)
    answer, heading, sources = split_answer(text)
    report["chat"] = {
        "question": args.question,
        "generator": shown_gen,
        "adapter": shown_ad,
        "seconds": round(seconds, 1),
        "answer": answer,
        "sources_heading": heading,
        "sources": sources,
        "message": text,
    }
    shots(page, "chat-answer")
    log(f"answer ({seconds:.0f} s): {answer[:300]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--home", required=True, help="workspace (ORACLE_HOME) with data_qa/ and indexes/default"
    )
    parser.add_argument("--base", default="qwen2.5-coder-0.5b-instruct", help="base model of the LoRA run")
    parser.add_argument("--name", default="app-lora", help="adapter name (adapters/<name>)")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--k-distractors", type=int, default=2, help="RAFT distractor chunks per example")
    parser.add_argument("--max-seq-len", type=int, default=1024, help="example length cap (tokens)")
    parser.add_argument("--eval-fraction", type=float, default=0.15, help="held-out share of the questions")
    parser.add_argument("--rank", type=int, help="LoRA rank (default: the tab's)")
    parser.add_argument("--alpha", type=int, help="LoRA alpha (default: the tab's)")
    parser.add_argument("--lr", type=float, help="learning rate (default: the tab's)")
    parser.add_argument("--batch-size", type=int, help="examples per step (default: the tab's)")
    parser.add_argument("--grad-accum", type=int, help="gradient accumulation (default: the tab's)")
    parser.add_argument("--question", default=DEFAULT_QUESTION, help="asked in the Chat tab at the end")
    parser.add_argument(
        "--timeout-min", type=float, default=40.0, help="limit for the training job (minutes)"
    )
    parser.add_argument("--estimate-timeout-min", type=float, default=15.0)
    parser.add_argument("--answer-timeout-min", type=float, default=10.0)
    parser.add_argument("--shot-every-min", type=float, default=5.0, help="screenshot period while training")
    parser.add_argument("--no-estimate", action="store_true", help="do not click the estimate button")
    parser.add_argument(
        "--skip-train", action="store_true", help="only the chat part (adapter already trained)"
    )
    parser.add_argument("--retrain", action="store_true", help="train again even if adapters/<name> exists")
    parser.add_argument("--port", type=int, help="port of the app (default: a free one)")
    args = parser.parse_args()

    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        print(f"Chromium not found at {CHROMIUM}: apt-get install chromium (or set ORACLE_CHROMIUM)")
        return 2
    from playwright.sync_api import sync_playwright

    from oracle.config import Workspace
    from oracle.schema import now_iso, read_json, write_json_atomic

    home = Path(args.home).resolve()
    ws = Workspace(home)
    shots = Shots(home / "app_finetune_shots")
    out_path = home / "app_finetune.json"
    port = args.port or free_port()
    url = f"http://127.0.0.1:{port}/"
    report: dict[str, Any] = {
        "started_at": now_iso(),
        "home": str(home),
        "base": args.base,
        "name": args.name,
        "question": args.question,
        "url": url,
        "argv": sys.argv[1:],
    }
    try:
        previous = read_json(out_path) if out_path.exists() else {}
    except ValueError:
        previous = {}
    t_all = time.monotonic()
    log(f"starting app.py on {url} (ORACLE_HOME={home})")
    proc = start_app(home, port, home / "app_finetune_app.log")
    code = 0
    try:
        report["app_start_s"] = round(wait_served(url, proc), 1)
        log(f"page served after {report['app_start_s']} s")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = None
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="pt-BR")
                page.set_default_timeout(60_000)
                page.goto(url + "?lang=pt")
                page.get_by_role("tab", name=TAB_FT).wait_for()
                shots(page, "start")
                if not args.skip_train:
                    train_part(page, ws, args, shots, report)
                chat_part(page, ws, args, shots, report)
            except Exception as err:  # noqa: BLE001 - recorded, then reported
                report["error"] = f"{type(err).__name__}: {err}"
                try:
                    if page is not None:
                        shots(page, "error")
                except Exception as shot_err:  # noqa: BLE001 - the report matters more
                    log(f"no screenshot of the error: {shot_err}")
                code = 1
            finally:
                browser.close()
    except RuntimeError as err:
        report["error"] = str(err)
        code = 1
    finally:
        stop_app(proc)
        report["total_s"] = round(time.monotonic() - t_all, 1)
        trained_now = (report.get("train") or {}).get("mode") in ("started", "followed")
        if not trained_now and previous.get("name") == args.name and previous.get("train"):
            # a chat-only rerun keeps the measures of the run that trained the adapter
            keep = ("started_at", "settings", "data_summary", "estimate", "train")
            report["previous_training"] = previous.get("previous_training") or {
                k: previous[k] for k in keep if k in previous
            }
        report["screenshots"] = shots.paths
        if previous:
            write_json_atomic(home / "app_finetune.prev.json", previous)  # the report this one replaces
            Path(str(home / "app_finetune.prev.json") + ".lock").unlink(missing_ok=True)
        write_json_atomic(out_path, report)
        Path(str(out_path) + ".lock").unlink(missing_ok=True)
    print_summary(report, out_path)
    return code


def print_summary(report: dict[str, Any], out_path: Path) -> None:
    print("\n=== app_finetune summary ===")
    prev = report.get("previous_training") or {}
    est = report.get("estimate") or prev.get("estimate") or {}
    if est:
        print(f"estimate: {est.get('text')}")
    tr = report.get("train") or {}
    job = tr.get("job") or {}
    if tr:
        print(
            f"training: {tr.get('mode', 'skipped')} · job {job.get('job_id')} {job.get('state')} "
            f"(started {job.get('started_at')}, ended {job.get('ended_at')})"
        )
    wall = tr.get("wall_s_click_to_completed") or (prev.get("train") or {}).get("wall_s_click_to_completed")
    if wall is not None:
        print(
            f"wall time, click on 'Iniciar treino' -> page shows completed: {wall} s"
            + ("" if tr.get("wall_s_click_to_completed") else " (earlier run)")
        )
    info = report.get("train_json") or {}
    m = info.get("metrics") or {}
    if m:
        print(
            f"train.json: eval loss {m.get('eval_loss_before')} -> {m.get('eval_loss')}, steps {m.get('steps')}, "
            f"wall {info.get('wall_time_s')} s, cost {info.get('cost')}"
        )
    chat = report.get("chat") or {}
    if chat:
        print(f"chat ({chat.get('seconds')} s, {chat.get('generator')} + {chat.get('adapter')}):")
        print(f"  Q: {chat.get('question')}\n  A: {chat.get('answer')}")
        for s in chat.get("sources") or []:
            print(f"     {s}")
    if report.get("error"):
        print(f"ERROR: {report['error']}")
    print(
        f"report: {out_path}\nscreenshots: {len(report.get('screenshots') or [])} in "
        f"{Path(out_path).parent / 'app_finetune_shots'}"
    )


if __name__ == "__main__":
    sys.exit(main())
