"""The app's start, ours against a bare gradio app: time and CPU until the page is served.

``python app.py`` must serve its page before any model loads. How long that takes is mostly
gradio's own import, so the figure only means something next to gradio alone, measured in the
same run. Cases, each in a fresh interpreter, interleaved round by round (``--runs`` rounds):

- ``gradio alone``: a one-Markdown ``gr.Blocks`` app, queued and launched as ours is;
- ``ours``: ``python app.py`` with an empty workspace (``ORACLE_HOME`` in a temporary folder).

For each case: the median wall time (process start to the first HTTP 200 on ``/``, seconds),
the median CPU time the process had used by then (user + system, seconds, from
``/proc/<pid>/stat``), and which model libraries were mapped into the process at that moment
(shared objects of torch, faiss, llama.cpp, tokenizers, read from ``/proc/<pid>/maps``; none
may be). Also prints ``python -X importtime`` for ``import gradio``'s heaviest modules, and the
load average before and after.

    PYTHONPATH=. python bench/bench_app_start.py --runs 5

Prints Markdown to stdout (nothing is written); ``bench/RESULTS.md`` holds a run of it.
Linux only (``/proc``).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

MODEL_LIBS = {"torch": "libtorch", "faiss": "_swigfaiss", "llama.cpp": "libllama", "tokenizers": "tokenizers."}
"""Library name -> substring of its shared object's path in ``/proc/<pid>/maps``."""

BARE_APP = (
    "import gradio as gr\n"
    "with gr.Blocks(title='Oráculo') as demo:\n"
    "    gr.Markdown('# Oráculo')\n"
    "demo.queue(default_concurrency_limit=2).launch()\n"
)

CASES = {"gradio alone (one Markdown)": ["-c", BARE_APP], "ours: `python app.py`": ["app.py"]}


def free_port() -> int:
    """A TCP port free on 127.0.0.1 at the time of the call."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process ``pid`` has used (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def mapped_model_libs(pid: int) -> list[str]:
    """Names of :data:`MODEL_LIBS` whose shared objects the process ``pid`` has mapped."""
    maps = Path(f"/proc/{pid}/maps").read_text()
    return [name for name, needle in MODEL_LIBS.items() if needle in maps]


def start_once(args: list[str], timeout_s: float = 180.0) -> tuple[float, float, list[str]]:
    """Start ``python <args>`` and wait for its page; returns (wall s, CPU s, model libs mapped).

    Raises:
        RuntimeError: the process exited, or served nothing within ``timeout_s`` seconds.
    """
    port = free_port()
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "ORACLE_HOME": home, "GRADIO_SERVER_NAME": "127.0.0.1",
               "GRADIO_SERVER_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False"}  # fmt: skip
        start = time.monotonic()
        proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)  # fmt: skip
        try:
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"{args[0]} exited: {proc.stderr.read()[-2000:]}")
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as resp:
                        resp.read()
                        break
                except OSError:
                    if time.monotonic() - start > timeout_s:
                        raise RuntimeError(f"{args[0]}: no page within {timeout_s:.0f} s") from None
                    time.sleep(0.05)
            return time.monotonic() - start, cpu_seconds(proc.pid), mapped_model_libs(proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def import_profile(top: int) -> list[tuple[float, str]]:
    """The ``top`` modules with the largest cumulative time in ``python -X importtime -c 'import gradio'``.

    Returns (seconds, module) pairs, largest first."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import gradio"], capture_output=True,
                         text=True, check=True)  # fmt: skip
    rows = []
    for line in out.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]) / 1e6, parts[2].strip()))
    return sorted(rows, reverse=True)[:top]


def main() -> None:
    """Run the cases and print the Markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="rounds; each case starts once per round")
    parser.add_argument("--top", type=int, default=8, help="heaviest modules of `import gradio` to list")
    args = parser.parse_args()
    load_before = os.getloadavg()
    results: dict[str, list[tuple[float, float, list[str]]]] = {name: [] for name in CASES}
    for _ in range(args.runs):
        for name, case in CASES.items():
            results[name].append(start_once(case))
    load_after = os.getloadavg()
    print(f"{args.runs} rounds, {os.cpu_count()} CPUs, load average (1 min) {load_before[0]:.2f} before, "
          f"{load_after[0]:.2f} after; python {sys.version.split()[0]}\n")  # fmt: skip
    print("| case | wall to page, median (min-max) | CPU to page, median (min-max) | model libraries mapped |")
    print("|---|---|---|---|")
    for name, rows in results.items():
        walls, cpus = [r[0] for r in rows], [r[1] for r in rows]
        libs = sorted({lib for r in rows for lib in r[2]}) or ["none"]
        print(f"| {name} | {statistics.median(walls):.1f} s ({min(walls):.1f}-{max(walls):.1f}) | "
              f"{statistics.median(cpus):.1f} s ({min(cpus):.1f}-{max(cpus):.1f}) | {', '.join(libs)} |")
    print(f"\n`python -X importtime -c 'import gradio'`, the {args.top} largest cumulative times:\n")
    print("| module | cumulative |")
    print("|---|---|")
    for seconds, module in import_profile(args.top):
        print(f"| `{module}` | {seconds:.2f} s |")


if __name__ == "__main__":
    main()
