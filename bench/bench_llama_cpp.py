"""Answer latency of a bundled generator: Oráculo's transformers path against llama.cpp
(``llama-cpp-python``) running the same GGUF file, in one process, on the same RAG prompts.

Issue 8 asks whether llama.cpp beats our CPU path by a measured margin before it is used. Both
sides get the same chat-templated text (the prompt RAG chat sends, built by
:func:`oracle.rag.build_messages` over pages of the test notice of ``tests/docs.py``) and decode
greedily:

* ``ours``: ``oracle.models.load_generator(model)`` (int8 weight-only linears, prefill in
  :func:`oracle.models.quant.prefill_dtype`), ``model.generate`` with a streamer to time the first
  token;
* ``llama.cpp``: ``llama_cpp.Llama(gguf, n_threads=torch threads)`` on the joined GGUF parts the
  bundled model is converted from (:func:`oracle.models.gguf_file`) (Q4_K_M weights used as they are, no dequantization),
  ``create_completion(prompt=text, temperature=0, stream=True)``; its KV cache is reset before every
  answer, so no prompt prefix is reused between runs.

Reported per prompt: first token (prefill) and full answer (``--max-new-tokens`` tokens, no early
stop: end-of-sequence tokens are masked on both sides), decode time per token, medians of ``--reps`` runs, sides alternating; and whether the two greedy answers agree.

llama-cpp-python is not a dependency of Oráculo: it builds from source (~6 min on 2 cores). Install
it into a folder and pass ``--llama-path DIR``:
``pip install --no-deps --target DIR llama-cpp-python``.

Run: ``python bench/bench_llama_cpp.py --model qwen2.5-coder-1.5b-instruct --llama-path DIR``;
appends a section to ``bench/RESULTS.md`` unless ``--no-write``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b-instruct", help="Bundled GGUF generator.")
    parser.add_argument("--llama-path", default=None, help="Folder holding the llama_cpp package (pip --target).")
    parser.add_argument("--chunks", type=int, nargs="+", default=[2, 4], help="Sources per prompt (one prompt each).")
    parser.add_argument("--reps", type=int, default=3, help="Answers per side and prompt.")
    parser.add_argument("--max-new-tokens", type=int, default=48, help="Tokens decoded per answer.")
    parser.add_argument("--no-write", action="store_true", help="Do not append to bench/RESULTS.md.")
    args = parser.parse_args()
    if args.llama_path:
        sys.path.insert(0, args.llama_path)

    import torch
    from bench_prefill import prompt_messages
    from llama_cpp import __version__ as llama_version
    from transformers import TextIteratorStreamer

    from oracle.llm import cpu_has_amx, new_llama
    from oracle.models import gguf_file, load_generator, precision_label

    threads = torch.get_num_threads()
    t0 = time.perf_counter()
    ours, tok = load_generator(args.model)  # the converted folder is cached: load + int8 quantization
    load_ours = time.perf_counter() - t0
    gguf = gguf_file(args.model)  # the joined parts, cached like the converted folder
    t0 = time.perf_counter()
    llm = new_llama(str(gguf), n_ctx=4096, n_threads=threads)  # Oráculo's constructor (AMX-safe)
    load_llama = time.perf_counter() - t0

    def run_ours(text: str) -> tuple[float, float, str, int]:
        ids = tok(text, return_tensors="pt").input_ids
        streamer = TextIteratorStreamer(tok, skip_prompt=True, skip_special_tokens=True)
        kw = dict(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=args.max_new_tokens,
                  min_new_tokens=args.max_new_tokens, do_sample=False, streamer=streamer,
                  pad_token_id=tok.eos_token_id)
        t0 = time.perf_counter()
        worker = threading.Thread(target=lambda: ours.generate(**kw))
        worker.start()
        first, parts = None, []
        for piece in streamer:
            if first is None and piece:
                first = time.perf_counter() - t0
            parts.append(piece)
        worker.join()
        return first or float("nan"), time.perf_counter() - t0, "".join(parts), args.max_new_tokens

    def run_llama(text: str) -> tuple[float, float, str, int]:
        llm.reset()
        t0 = time.perf_counter()
        first, parts = None, []
        stops = {llm.token_eos(), *tok.all_special_ids}  # no early stop, as min_new_tokens on our side
        for event in llm.create_completion(prompt=text, max_tokens=args.max_new_tokens, temperature=0.0,
                                           top_k=1, stream=True, stop=[],
                                           logit_bias={int(t): -1e9 for t in stops}):
            piece = event["choices"][0]["text"]
            if first is None:
                first = time.perf_counter() - t0
            parts.append(piece)
        return first or float("nan"), time.perf_counter() - t0, "".join(parts), len(parts)

    sides = {f"ours ({precision_label(ours)})": run_ours, f"llama.cpp {llama_version} (GGUF as is)": run_llama}
    rows = []
    load = os.getloadavg()
    with torch.no_grad():
        run_ours("Olá"), run_llama("Olá")  # warm-up
        for n in args.chunks:
            text = tok.apply_chat_template(prompt_messages(n), tokenize=False, add_generation_prompt=True)
            n_tokens = len(tok(text).input_ids)
            first: dict[str, list[float]] = {k: [] for k in sides}
            full: dict[str, list[float]] = {k: [] for k in sides}
            answers: dict[str, str] = {}
            decoded: dict[str, int] = {}
            for rep in range(args.reps):
                names = list(sides) if rep % 2 == 0 else list(sides)[::-1]
                for name in names:
                    f, t, a, n_new = sides[name](text)
                    decoded[name] = n_new
                    first[name].append(f)
                    full[name].append(t)
                    answers[name] = a
            med_first = {k: statistics.median(v) for k, v in first.items()}
            med_full = {k: statistics.median(v) for k, v in full.items()}
            rows.append((n, n_tokens, med_first, med_full, answers, dict(decoded)))
            print(n, n_tokens, med_first, med_full, answers, flush=True)

    names = list(sides)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## Answer latency: ours against llama.cpp on the same GGUF ({stamp})",
        "",
        f"Command: `python bench/bench_llama_cpp.py --model {args.model} --llama-path DIR`  ",
        f"Model: {args.model}; torch {torch.__version__}, {threads} threads on both sides; load average "
        f"{load[0]:.1f} / {load[1]:.1f}; median of {args.reps} answers of {args.max_new_tokens} tokens per side, "
        "sides alternating; llama.cpp's KV cache reset before each answer. "
        f"Load in this process (cached conversion / joined file): ours {load_ours:.1f} s, llama.cpp {load_llama:.1f} s.",
        "",
        "| sources | prompt tokens | side | first token | full answer | decode ms/token |",
        "|---|---|---|---|---|---|",
    ]
    for n, n_tokens, mf, mt, _, decoded in rows:
        for k in names:
            per_token = (mt[k] - mf[k]) / max(1, decoded[k] - 1) * 1000
            lines.append(f"| {n} | {n_tokens} | {k} | {mf[k]:.2f} s | {mt[k]:.2f} s | {per_token:.0f} |")
        lines.append(f"| | | ours / llama.cpp | {mf[names[0]] / mf[names[1]]:.2f}x | {mt[names[0]] / mt[names[1]]:.2f}x | |")
    lines += ["", "Greedy answers (first 160 characters):", ""]
    for n, n_tokens, _, _, answers, _ in rows:
        for k in names:
            lines.append(f"- {n_tokens} tokens, {k}: {answers[k][:160]!r}")
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_write:
        with open(ROOT / "bench" / "RESULTS.md", "a", encoding="utf-8") as f:
            f.write("\n" + text)


if __name__ == "__main__":
    main()
