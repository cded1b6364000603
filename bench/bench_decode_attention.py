"""Decoding speed of a bundled generator with transformers' SDPA attention (the library's default)
against Oráculo's decode attention (:func:`oracle.models.attention.use_decode_attention`: SDPA over
the prompt, the model's eager attention for each new token), in one process, on the same RAG prompt.

Both sides are the same loaded model (``oracle.models.load_generator``: int8 weights, bf16 compute
where the CPU has bf16 instructions); only ``model.set_attn_implementation`` differs. Each side runs
``model.generate`` greedily for 1 token (the first token: the prefill) and for ``--max-new-tokens``
tokens with the end token masked (``min_new_tokens``), sides alternating; per-token decode time is
``(full - first) / (n - 1)``. Also reported: whether the two greedy answers agree.

Run: ``python bench/bench_decode_attention.py --model qwen2.5-coder-1.5b-instruct``; appends a
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

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", nargs="+", default=["qwen2.5-coder-1.5b-instruct", "qwen2.5-coder-0.5b-instruct"],
                        help="Bundled generators, measured one after the other.")
    parser.add_argument("--chunks", type=int, default=4, help="Sources in the prompt.")
    parser.add_argument("--reps", type=int, default=2, help="Runs per side.")
    parser.add_argument("--max-new-tokens", type=int, default=33, help="Tokens decoded per answer.")
    parser.add_argument("--no-write", action="store_true", help="Do not append to bench/RESULTS.md.")
    args = parser.parse_args()

    import torch
    from bench_prefill import prompt_messages

    from oracle.models import load_generator, precision_label
    from oracle.models.attention import DECODE_ATTENTION, use_decode_attention

    rows = []
    load = os.getloadavg()
    for name in args.model:
        model, tok = load_generator(name)
        use_decode_attention(model)  # registers the function; the loop below switches between the two
        text = tok.apply_chat_template(prompt_messages(args.chunks), tokenize=False, add_generation_prompt=True)
        ids = tok(text, return_tensors="pt").input_ids
        times: dict[tuple[str, int], list[float]] = {}
        answers: dict[str, str] = {}
        sides = ("sdpa", DECODE_ATTENTION)
        with torch.no_grad():
            for rep in range(args.reps):
                for side in (sides if rep % 2 == 0 else sides[::-1]):
                    model.set_attn_implementation(side)
                    for n in (1, args.max_new_tokens):
                        t0 = time.perf_counter()
                        out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=n,
                                             min_new_tokens=n, do_sample=False)
                        times.setdefault((side, n), []).append(time.perf_counter() - t0)
                    answers[side] = tok.decode(out[0, ids.shape[1]:], skip_special_tokens=True)
        for side in sides:
            first = statistics.median(times[(side, 1)])
            full = statistics.median(times[(side, args.max_new_tokens)])
            rows.append((name, precision_label(model), ids.shape[1], side, first, full,
                         (full - first) / (args.max_new_tokens - 1) * 1000, answers[side]))
            print(rows[-1], flush=True)
        del model

    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## Decode attention: transformers' SDPA against SDPA + eager per token ({stamp})",
        "",
        f"Command: `python bench/bench_decode_attention.py --model {' '.join(args.model)}`  ",
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; load average {load[0]:.1f} / {load[1]:.1f}; "
        f"median of {args.reps} runs per side, sides alternating; {args.max_new_tokens} tokens, end token masked.",
        "",
        "| model | precision | prompt tokens | attention | first token | full answer | decode ms/token |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, prec, n_tok, side, first, full, per, _ in rows:
        lines.append(f"| {name} | {prec} | {n_tok} | {side} | {first:.2f} s | {full:.2f} s | {per:.0f} |")
    lines += ["", "Greedy answers agree: " + ", ".join(
        f"{m}: {'yes' if len({r[7] for r in rows if r[0] == m}) == 1 else 'NO'}" for m in args.model), ""]
    print("\n".join(lines))
    if not args.no_write:
        with open(ROOT / "bench" / "RESULTS.md", "a", encoding="utf-8") as f:
            f.write("\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
