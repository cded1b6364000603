"""Speed of the teacher of "Melhorar o Oráculo" (stage 1, training questions): the bundled
generator on the transformers path against llama.cpp, in one process, on the same requests.

The chat's engine is chosen by the first token (:func:`oracle.llm.local_engine`: a RAG prompt of
~600-1,100 tokens and an answer of ~20-40 tokens, so prefill decides). A teacher's reply is the
other way round: a chunk of ~256 tokens under the pair-writing instructions, then a JSON list of
question/answer/quote items of a few hundred tokens, so decoding decides. This script measures it
instead of inferring it: each side gets the same requests, built by
:func:`oracle.improve.pairs.pair_messages` over pages of the test notice of ``tests/docs.py``
(``--pairs`` pairs each), greedy, up to ``--max-new-tokens`` tokens with the natural end kept,
sides alternating. Both sides are Oráculo's own generators (``get_generator(name,
engine="transformers")`` and ``get_generator("llamacpp:" + name)``); the raw engines are compared
in ``bench/bench_llama_cpp.py``.

Reported per side: seconds per request (median), tokens written (median), seconds per token
written, and how many of the replies parse as the JSON the stage expects.

Run: ``python bench/bench_teacher_engine.py --model qwen2.5-coder-1.5b-instruct``; appends a
section to ``bench/RESULTS.md`` unless ``--no-write``. Needs ``llama-cpp-python``
(``bash scripts/install.sh --llama-cpp``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))


def requests(n: int, pairs: int) -> list[list[dict]]:
    """``n`` pair-writing requests, one per page of the test notice (cycling)."""
    import docs
    from oracle.improve.pairs import pair_messages
    from oracle.schema import Chunk

    out = []
    for i in range(n):
        page = i % len(docs.PT_PAGES) + 1
        text = docs.pt_page_clean(page)
        chunk = Chunk(chunk_id=f"edital:{page}", doc_id="edital", doc_name="edital-12-2026.pdf", text=text,
                      page_start=page, page_end=page, char_start=0, char_end=len(text))
        out.append(pair_messages(chunk, pairs, "pt"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b-instruct", help="Bundled GGUF generator.")
    parser.add_argument("--requests", type=int, default=3, help="Requests per side (pages of the test notice).")
    parser.add_argument("--pairs", type=int, default=2, help="Pairs asked per request.")
    parser.add_argument("--max-new-tokens", type=int, default=384, help="Token budget of one reply.")
    parser.add_argument("--no-write", action="store_true", help="Do not append to bench/RESULTS.md.")
    args = parser.parse_args()

    import torch
    from bench_index import append_results

    from oracle.llm import get_generator
    from oracle.qa_generation import parse_qa_reply

    loaded = {}
    for name, spec, kw in (("transformers", args.model, {"engine": "transformers"}),
                           ("llama.cpp", f"llamacpp:{args.model}", {})):
        t0 = time.perf_counter()
        gen = get_generator(spec, **kw)
        gen.generate([{"role": "user", "content": "Olá"}], max_new_tokens=4)  # load and warm up
        loaded[name] = (gen, time.perf_counter() - t0)
    reqs = requests(args.requests, args.pairs)
    seconds: dict[str, list[float]] = {k: [] for k in loaded}
    tokens: dict[str, list[int]] = {k: [] for k in loaded}
    parsed: dict[str, int] = dict.fromkeys(loaded, 0)
    load = os.getloadavg()
    for i, messages in enumerate(reqs):
        names = list(loaded) if i % 2 == 0 else list(loaded)[::-1]
        for name in names:
            gen = loaded[name][0]
            t0 = time.perf_counter()
            reply = gen.generate(messages, max_new_tokens=args.max_new_tokens, temperature=0.0)
            seconds[name].append(time.perf_counter() - t0)
            tokens[name].append(int(gen.last_stats.get("n_tokens", 0)))
            try:
                parsed[name] += bool(parse_qa_reply(reply))
            except Exception:  # noqa: BLE001 - a reply that does not parse is counted, not fatal
                pass
            print(name, i, f"{seconds[name][-1]:.1f} s", tokens[name][-1], "tokens", flush=True)

    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## Teacher speed (training questions): transformers against llama.cpp ({stamp})",
        "",
        f"Command: `python bench/bench_teacher_engine.py --model {args.model} --requests {args.requests}`  ",
        f"Model: {args.model}; torch {torch.__version__}, {torch.get_num_threads()} threads; load average "
        f"{load[0]:.1f} / {load[1]:.1f}; {args.requests} requests of {args.pairs} pairs (pages of the test "
        f"notice), greedy, up to {args.max_new_tokens} tokens, sides alternating. Load + warm-up: "
        + ", ".join(f"{k} {v[1]:.1f} s" for k, v in loaded.items()) + ".",
        "",
        "| engine | s per request (median) | tokens written (median) | ms per token written | replies parsed |",
        "|---|---|---|---|---|",
    ]
    for name in loaded:
        s, t = statistics.median(seconds[name]), statistics.median(tokens[name])
        per = sum(seconds[name]) / max(1, sum(tokens[name])) * 1000
        lines.append(f"| {name} | {s:.1f} | {t:.0f} | {per:.0f} | {parsed[name]}/{len(reqs)} |")
    names = list(loaded)
    ratio = statistics.median(seconds[names[0]]) / statistics.median(seconds[names[1]])
    lines += ["", f"transformers / llama.cpp, seconds per request: {ratio:.2f}x"]
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_write:
        append_results(text)


if __name__ == "__main__":
    main()
