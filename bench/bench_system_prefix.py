"""First token of a RAG answer on llama.cpp: Oráculo's generator, which keeps the system prompt's
KV cache between questions, against plain ``llama-cpp-python`` with its cache reset before each
answer, in one process, on the same prompts; and whether the two greedy answers agree.

Issue 8 asks to measure reuse of the system prompt's KV cache. Sides, question by question,
alternating (the first question's side order swapped each round):

* ``llama.cpp, reset``: ``llama_cpp.Llama`` (:func:`oracle.llm.new_llama`, the same settings as
  the chat) on the bundled GGUF, ``reset()`` and then ``create_chat_completion(stream=True)``,
  greedy: the whole prompt is computed for every answer;
* ``ours``: :class:`oracle.llm.LlamaCppGenerator` on its own ``Llama`` of the same file, asked
  the questions in a row: the chat template's opening and the system prompt
  (:meth:`~oracle.llm.LlamaCppGenerator.system_prefix`) stay in the cache, the rest is computed.

Prompts: :func:`oracle.rag.build_messages` (the prompt the chat sends) for each question of the
test notice of ``tests/docs.py`` (``docs.FACTS``), with ``--chunks`` pages as sources.
Reported: prompt and prefix tokens, first token and full answer (``--max-new-tokens`` tokens at
most, stopping at the end token as the chat does) medians over questions and rounds, and the
ratio. The machine's load average is printed; on a shared machine only same-run ratios count.

Run: ``python bench/bench_system_prefix.py [--model qwen2.5-coder-1.5b-instruct]``; appends a
section to ``bench/RESULTS.md`` unless ``--no-write``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))


def timed(pieces) -> tuple[float, float, str]:
    """(first piece s, all pieces s, text) of an iterator of text pieces."""
    start = time.perf_counter()
    first, text = None, []
    for piece in pieces:
        if first is None:
            first = time.perf_counter() - start
        text.append(piece)
    return first or 0.0, time.perf_counter() - start, "".join(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b-instruct", help="Bundled GGUF generator.")
    parser.add_argument("--chunks", type=int, default=4, help="Sources per prompt.")
    parser.add_argument("--rounds", type=int, default=2, help="Times each question is asked per side.")
    parser.add_argument("--max-new-tokens", type=int, default=48, help="Most tokens decoded per answer.")
    parser.add_argument("--no-write", action="store_true", help="Do not append to bench/RESULTS.md.")
    args = parser.parse_args()

    import docs
    from bench_prefill import prompt_messages
    from oracle import llm, models

    path = models.gguf_file(args.model)
    threads = len(os.sched_getaffinity(0))
    raw = llm.new_llama(path, n_threads=threads)
    ours = llm.LlamaCppGenerator(args.model, n_threads=threads)
    ours.load()
    questions = list(docs.FACTS)
    prompts = [prompt_messages(args.chunks, q) for q in questions]
    n_prefix = len(ours.system_prefix(prompts[0]))
    lengths = []
    for messages in prompts:
        raw.reset()
        raw.create_chat_completion(messages=messages, max_tokens=1, temperature=0.0, top_k=1)
        lengths.append(raw.n_tokens - 1)  # the prompt, without the one token generated

    def plain(messages):
        raw.reset()
        events = raw.create_chat_completion(messages=messages, max_tokens=args.max_new_tokens, stream=True,
                                            temperature=0.0, top_k=1, repeat_penalty=1.0)
        for event in events:
            piece = (event["choices"][0].get("delta") or {}).get("content")
            if piece:
                yield piece

    sides = {"llama.cpp, reset": plain,
             "ours, system prefix kept": lambda m: ours.stream(m, max_new_tokens=args.max_new_tokens)}
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in sides}
    answers: dict[str, dict[int, str]] = {name: {} for name in sides}
    load = [os.getloadavg()[0]]
    for rnd in range(args.rounds):
        for i, messages in enumerate(prompts):
            order = list(sides) if (i + rnd) % 2 == 0 else list(reversed(sides))
            for name in order:
                first, total, text = timed(sides[name](messages))
                times[name].append((first, total))
                if answers[name].setdefault(i, text) != text:
                    answers[name][i] = f"{answers[name][i]} | NOT REPEATABLE: {text}"
        load.append(os.getloadavg()[0])
    agree = sum(answers["llama.cpp, reset"][i] == answers["ours, system prefix kept"][i] for i in range(len(prompts)))

    rows = []
    for name in sides:
        firsts = [t[0] for t in times[name]]
        totals = [t[1] for t in times[name]]
        rows.append((name, statistics.median(firsts), statistics.median(totals)))
    base_first, base_total = rows[0][1], rows[0][2]
    lines = [
        f"## First token with the system prompt's KV cache kept: ours against llama.cpp reset per answer "
        f"({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"Model: {args.model} (GGUF as bundled), {threads} threads, {len(prompts)} questions of the test notice "
        f"x {args.rounds} rounds, {args.chunks} sources each (prompt {min(lengths)}-{max(lengths)} tokens, "
        f"system prefix {n_prefix} tokens); up to {args.max_new_tokens} greedy tokens; load average "
        f"{min(load):.1f}-{max(load):.1f}. `python bench/bench_system_prefix.py --model {args.model} "
        f"--chunks {args.chunks} --rounds {args.rounds}`",
        "",
        "| side | first token p50 | full answer p50 | first token vs reset |",
        "|---|---|---|---|",
    ]
    for name, first, total in rows:
        lines.append(f"| {name} | {first:.2f} s | {total:.2f} s | {first / base_first:.2f}x |")
    lines += ["", f"Same greedy answer on both sides for {agree} of {len(prompts)} questions.", ""]
    for i, q in enumerate(questions):
        a, b = answers["llama.cpp, reset"][i], answers["ours, system prefix kept"][i]
        if a != b:
            lines.append(f"- {q}: reset `{a}`; ours `{b}`")
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_write:
        with open(ROOT / "bench" / "RESULTS.md", "a", encoding="utf-8") as fh:
            fh.write("\n" + text)


if __name__ == "__main__":
    main()
