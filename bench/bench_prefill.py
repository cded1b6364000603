"""Prefill time of a RAG prompt: Oráculo's int8 generator with its prefill in fp32 or bf16 (a kept
bf16 copy of the weights or dequantizing per call), against plain transformers in fp32 and bf16,
in one process, and whether each side's next token is plain fp32's.

Prefill (the forward pass over the prompt before the first answer token) dominates the time to
the first token of a RAG answer on a CPU: ~700-1,000 prompt tokens for 4 chunks. Oráculo decodes
with weight-only int8 linears (:func:`oracle.models.quantize_generator`); products of more than
:data:`oracle.models.quant.INT8_PACK_MAX_ROWS` rows (prefill) run in
:func:`oracle.models.quant.prefill_dtype`: bf16 with a bf16 copy of the weight kept from load time
on a CPU with bf16 instructions, fp32 dequantizing per call elsewhere (oneDNN emulates bf16 there).

Sides, timed alternately prompt by prompt so that load from other processes hits all alike
(median of ``--reps`` forward passes each), all but the last two on the same model object:

* ``ours``: ``oracle.models.load_generator(model)`` as this CPU gets it;
* ``ours, bf16 prefill copy`` / ``ours, bf16 dequantize per call``: its prefill forced to bf16
  (what every CPU got before ``prefill_dtype`` existed), with and without the kept copy;
* ``ours, fp32 prefill, dequantize per call``: on a CPU with bf16, the fp32 path forced;
* ``ours, fp32 compute``: a second copy loaded as before ``int8_compute_dtype`` existed (int8
  weights, everything else in fp32); only where the CPU has bf16;
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


def prompt_messages(n_chunks: int, question: str | None = None) -> list[dict]:
    """One RAG prompt with ``n_chunks`` pages of the test notice as sources, for ``question``
    (default: the first of ``docs.FACTS``)."""
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
    return rag.build_messages(question or next(iter(docs.FACTS)), hits, "pt")


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
    int8 = [m for m in ours.modules() if hasattr(m, "weight_int8")]
    native = [(m.prefill_dtype, m.weight_bf16) for m in int8]  # what this CPU gets (quant.prefill_dtype)
    bf16_copies = [w if w is not None else (m.weight_int8.to(torch.bfloat16) * m.scales[:, None]).contiguous()
                   for m, (_, w) in zip(int8, native)]

    def prefill_as(dtype, copies):
        """A side: ``ours`` with every int8 linear's prefill dtype set to ``dtype`` (None: as loaded)
        and its bf16 copy to ``copies[i]`` (None: dequantized per call)."""
        def run(ids):
            for m, (d, _), w in zip(int8, native, copies):
                m.prefill_dtype, m.weight_bf16 = d if dtype is None else dtype, w
            return ours(input_ids=ids, use_cache=True)
        return run

    label = str(native[0][0]).replace("torch.", "") if native else "?"
    sides = {f"ours ({precision_label(ours)}, prefill {label})": prefill_as(None, [w for _, w in native]),
             "ours, bf16 prefill copy": prefill_as(torch.bfloat16, bf16_copies),
             "ours, bf16 dequantize per call": prefill_as(torch.bfloat16, [None] * len(int8))}
    if native and native[0][0] == torch.bfloat16:
        sides["ours, fp32 prefill, dequantize per call"] = prefill_as(torch.float32, [None] * len(int8))
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
        last: dict[str, torch.Tensor] = {}  # [vocab] logits of the last prompt position
        with torch.no_grad():
            for fn in sides.values():  # warm-up
                fn(ids[:, :64])
            for rep in range(args.reps):
                names = list(sides)
                names = names[rep % len(names):] + names[:rep % len(names)]
                for name in names:
                    t0 = time.perf_counter()
                    out = sides[name](ids)
                    times[name].append(time.perf_counter() - t0)
                    last[name] = out.logits[0, -1].float()
        ref = last["plain transformers fp32"]
        agree = {k: (int(v.argmax()) == int(ref.argmax()), float((v - ref).abs().max())) for k, v in last.items()}
        rows.append((n, ids.shape[1], {k: statistics.median(v) for k, v in times.items()}, agree))
        print(n, ids.shape[1], {k: round(statistics.median(v), 2) for k, v in times.items()}, agree, flush=True)

    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    names = list(sides)
    lines = [
        f"## Prefill of a RAG prompt: int8 (prefill in fp32 or bf16, copy or per call; bf16 or fp32 compute) vs plain transformers ({stamp})",
        "",
        f"Command: `python bench/bench_prefill.py --model {args.model}`  ",
        f"Model: {args.model} (ours: {precision_label(ours)}); torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads; load average {load[0]:.1f} / {load[1]:.1f}; median of {args.reps} "
        "forward passes per side, sides alternating.",
        "",
        "| sources | prompt tokens | " + " | ".join(names) + " | plain fp32 / ours |",
        "|---|---|" + "---|" * len(names) + "---|",
    ]
    for n, n_tokens, med, _ in rows:
        cells = " | ".join(f"{med[k]:.2f} s" for k in names)
        lines.append(f"| {n} | {n_tokens} | {cells} | {med['plain transformers fp32'] / med[names[0]]:.2f}x |")
    lines += ["", "Next token against plain fp32 (same argmax; max absolute difference of the last position's logits):", ""]
    for n, n_tokens, _, agree in rows:
        lines.append(f"- {n_tokens} tokens: " + "; ".join(
            f"{k}: {'same' if same else 'DIFFERENT'} ({diff:.2f})" for k, (same, diff) in agree.items()
            if k != "plain transformers fp32"))
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_write:
        with open(ROOT / "bench" / "RESULTS.md", "a", encoding="utf-8") as f:
            f.write("\n" + text)


if __name__ == "__main__":
    main()
