"""Prefill time of a RAG prompt: Oráculo's int8 generator with and without its bf16 prefill copy,
against plain transformers in fp32 and bf16, in one process.

Prefill (the forward pass over the prompt before the first answer token) dominates the time to
the first token of a RAG answer on a CPU: ~700-1,000 prompt tokens for 4 chunks. Oráculo decodes
with weight-only int8 linears (:func:`oracle.models.quantize_generator`); for products of more
than :data:`oracle.models.INT8_PACK_MAX_ROWS` rows (prefill) they multiply in bf16, either with a
bf16 copy of the weight kept from load time (:data:`oracle.models.PREFILL_BF16_CACHE`, the
default) or dequantizing the int8 weight at every call (the former behaviour).

Sides, timed alternately prompt by prompt so that load from other processes hits all alike
(median of ``--reps`` forward passes each):

* ``ours``: ``oracle.models.load_generator(model)`` (int8 weights, bf16 prefill copy, computing
  in bf16 on a CPU with bf16 instructions: :func:`oracle.models.int8_compute_dtype`);
* ``ours, dequantize per call``: the same model object with its bf16 copies set aside;
* ``ours, fp32 compute``: a second copy loaded as before ``int8_compute_dtype`` existed (int8
  weights, bf16 prefill copy, everything else in fp32); skipped where the CPU has no bf16;
* ``plain fp32`` / ``plain bf16``: ``AutoModelForCausalLM.from_pretrained(folder, dtype=...)``.

Prompts: :func:`oracle.rag.build_messages` over ``--chunks`` pages of the Portuguese notice of
``tests/docs.py`` (the prompt RAG chat sends), chat-templated.

Run: ``python bench/bench_prefill.py [--model qwen2.5-coder-1.5b-instruct]``; appends a section
to ``bench/RESULTS.md`` unless ``--no-write``.
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


def prompt_messages(n_chunks: int) -> list[dict]:
    """One RAG prompt with ``n_chunks`` pages of the test notice as sources."""
    import docs
    from oracle import rag
    from oracle.schema import Chunk, Hit

    hits = []
    for rank in range(1, n_chunks + 1):
        page = (rank - 1) % len(docs.PT_PAGES) + 1
        text = docs.pt_page_clean(page)
        chunk = Chunk(chunk_id=f"edital:{rank}", doc_id="edital", doc_name="edital-12-2026.pdf", text=text,
                      page_start=page, page_end=page, char_start=0, char_end=len(text))
        hits.append(Hit(chunk=chunk, score=0.9, rank=rank))
    return rag.build_messages(next(iter(docs.FACTS)), hits, "pt")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b-instruct", help="Bundled name or folder.")
    parser.add_argument("--chunks", type=int, nargs="+", default=[2, 4], help="Sources per prompt (one prompt each).")
    parser.add_argument("--reps", type=int, default=3, help="Forward passes per side and prompt.")
    parser.add_argument("--no-plain-bf16", action="store_true", help="Skip the plain bf16 side (memory).")
    parser.add_argument("--no-write", action="store_true", help="Do not append to bench/RESULTS.md.")
    args = parser.parse_args()

    import torch
    from transformers import AutoModelForCausalLM

    from oracle.models import load_generator, precision_label, resolve_generator

    folder = resolve_generator(args.model)
    ours, tok = load_generator(args.model)
    int8 = [m for m in ours.modules() if hasattr(m, "weight_bf16")]
    kept = [m.weight_bf16 for m in int8]

    def ours_cached(ids):
        for m, w in zip(int8, kept):
            m.weight_bf16 = w
        return ours(input_ids=ids, use_cache=True)

    def ours_dequant(ids):
        for m in int8:
            m.weight_bf16 = None
        return ours(input_ids=ids, use_cache=True)

    sides = {f"ours ({precision_label(ours)}, bf16 prefill copy)": ours_cached, "ours, dequantize per call": ours_dequant}
    if ours.dtype == torch.bfloat16:
        from oracle.models import loading

        compute = loading.int8_compute_dtype
        loading.int8_compute_dtype = lambda device="cpu": torch.float32  # the policy before it existed
        try:
            ours32, _ = load_generator(args.model, cache=False, quant="int8")
        finally:
            loading.int8_compute_dtype = compute
        sides["ours, fp32 compute"] = lambda ids: ours32(input_ids=ids, use_cache=True)
    plain32 = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    sides["plain transformers fp32"] = lambda ids: plain32(input_ids=ids, use_cache=True)
    if not args.no_plain_bf16:
        plain16 = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.bfloat16).eval()
        sides["plain transformers bf16"] = lambda ids: plain16(input_ids=ids, use_cache=True)

    rows = []
    load = os.getloadavg()
    for n in args.chunks:
        text = tok.apply_chat_template(prompt_messages(n), tokenize=False, add_generation_prompt=True)
        ids = tok(text, return_tensors="pt").input_ids
        times: dict[str, list[float]] = {name: [] for name in sides}
        with torch.no_grad():
            for fn in sides.values():  # warm-up
                fn(ids[:, :64])
            for rep in range(args.reps):
                names = list(sides)
                names = names[rep % len(names):] + names[:rep % len(names)]
                for name in names:
                    t0 = time.perf_counter()
                    sides[name](ids)
                    times[name].append(time.perf_counter() - t0)
        rows.append((n, ids.shape[1], {k: statistics.median(v) for k, v in times.items()}))
        print(n, ids.shape[1], {k: round(statistics.median(v), 2) for k, v in times.items()}, flush=True)

    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    names = list(sides)
    lines = [
        f"## Prefill of a RAG prompt: int8 (bf16 prefill copy; bf16 or fp32 compute) vs dequantizing per call vs plain transformers ({stamp})",
        "",
        f"Command: `python bench/bench_prefill.py --model {args.model}`  ",
        f"Model: {args.model} (ours: {precision_label(ours)}); torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads; load average {load[0]:.1f} / {load[1]:.1f}; median of {args.reps} "
        "forward passes per side, sides alternating.",
        "",
        "| sources | prompt tokens | " + " | ".join(names) + " | plain fp32 / ours |",
        "|---|---|" + "---|" * len(names) + "---|",
    ]
    for n, n_tokens, med in rows:
        cells = " | ".join(f"{med[k]:.2f} s" for k in names)
        lines.append(f"| {n} | {n_tokens} | {cells} | {med['plain transformers fp32'] / med[names[0]]:.2f}x |")
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_write:
        with open(ROOT / "bench" / "RESULTS.md", "a", encoding="utf-8") as f:
            f.write("\n" + text)


if __name__ == "__main__":
    main()
