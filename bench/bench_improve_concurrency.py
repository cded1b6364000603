"""Stage 1 of "Melhorar o Oráculo" through an OpenAI-compatible server: wall time with 1, 2, 4, 8
requests in flight (``ImproveConfig.concurrency``) against one at a time.

Without ``--base-url`` it serves the test suite's fake teacher (``tests/fake_teacher.py``) on a
local port, each reply after ``--delay`` seconds: that measures what the client side gains when the
server's latency dominates (a remote API, a vLLM server with free batch slots), not any server's
throughput. With ``--base-url`` and ``--model`` it asks a real server (vLLM, Ollama, llama.cpp
server; key in ``OPENAI_API_KEY``) about the fake teacher's 10-chunk document.

    python bench/bench_improve_concurrency.py                     # fake server, 0.5 s per reply
    python bench/bench_improve_concurrency.py --base-url http://localhost:8000/v1 --model qwen2.5-1.5b
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base-url", default=None, help="A real OpenAI-compatible server (default: the fake one).")
    parser.add_argument("--model", default="fake-teacher", help="Model name on the server.")
    parser.add_argument("--delay", type=float, default=0.5, help="Fake server: seconds per reply.")
    parser.add_argument("--levels", default="1,2,4,8", help="Concurrency levels to time.")
    args = parser.parse_args()

    from fake_teacher import make_workspace, teacher_server

    from oracle.config import Workspace
    from oracle.improve import ImproveConfig, generate_pairs
    from oracle.llm import OpenAIGenerator

    server_cm = nullcontext(None) if args.base_url else teacher_server(delay_s=args.delay)
    rows = []
    with server_cm as server, tempfile.TemporaryDirectory() as tmp:
        url = args.base_url or server.url
        ws = Workspace(Path(tmp) / "home")
        make_workspace(ws, Path(tmp))
        for level in [int(x) for x in args.levels.split(",")]:
            teacher = OpenAIGenerator(args.model, base_url=url, timeout_s=300, max_retries=0)
            cfg = ImproveConfig(concurrency=level, min_chunk_tokens=5, pairs_per_chunk=2, use_existing_pairs=False)
            t0 = time.perf_counter()
            report = generate_pairs(ws, cfg, Path(tmp) / f"run-{level}", teacher, f"c{level}")
            seconds = time.perf_counter() - t0
            rows.append((level, seconds, report.n_done, report.n_kept, getattr(server, "max_in_flight", None)))
            if server is not None:
                server.max_in_flight = 0
    base = rows[0][1]
    print(f"server: {args.base_url or f'fake, {args.delay:.2f} s per reply'}")
    print("| concurrency | chunks | pairs kept | wall s | speed-up vs 1 | max in flight (server) |")
    print("|---|---|---|---|---|---|")
    for level, seconds, done, kept, peak in rows:
        print(f"| {level} | {done} | {kept} | {seconds:.2f} | {base / seconds:.2f}x | {peak if peak is not None else '?'} |")


if __name__ == "__main__":
    main()
