"""Local generation speed: Oráculo's generator pipeline against plain fp32 ``model.generate``.

Both sides run the same bundled model (default ``qwen2.5-coder-0.5b-instruct``, the folder
:func:`oracle.models.resolve_generator` converts once from the GGUF parts), on the same
Portuguese RAG prompts, greedy, the same ``--max-new-tokens``, in the same process and with the
same ``torch.set_num_threads``:

* ours: ``oracle.llm.get_generator("local:<model>").generate(messages, temperature=0)`` with
  the default policy of :func:`oracle.models.load_generator` (``ORACLE_QUANT=auto``): on a CPU
  without AMX, fp32 with int8 weight-only linears (:func:`oracle.models.quantize_generator`);
  bf16 on an AMX CPU or a bf16 GPU. The script records which (:func:`oracle.models.precision_label`)
  and times one product of each kind first (why the policy picks what it picks here).
* plain: ``AutoModelForCausalLM.from_pretrained(folder, dtype=float32)`` and
  ``model.generate(..., do_sample=False)`` on the chat-templated prompt.

Prompts: :func:`oracle.rag.build_messages` (the prompt RAG chat really sends) over two pages of
the Portuguese notice in ``tests/docs.py`` as retrieved chunks (~630 tokens each), one question
of ``tests/docs.FACTS`` per prompt. Speed is generated tokens / wall time of the call (prompt
prefill included), summed over prompts; CPU seconds of the process are recorded too. After a
warm-up call per side, the sides alternate prompt by prompt in rotating order, so load from
other processes hits both alike. Answer agreement: identical answers (token ids), common
prefix, and teacher-forced agreement (share of plain's answer tokens that ours' model also
predicts as its argmax, given plain's previous tokens).

Run: ``python bench/bench_generation.py`` (3-5 minutes on 2 busy cores; ``--threads 1`` is
faster when other processes load the cores). Appends a section to ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import os
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


def rag_prompts(n: int) -> list[list[dict]]:
    """``n`` RAG prompts (OpenAI-style messages): a question of ``docs.FACTS`` with the page that
    answers it ranked first and the next page second, as :func:`oracle.rag.build_messages` builds them."""
    import docs

    from oracle import rag
    from oracle.schema import Chunk, Hit

    out = []
    for question, fact in list(docs.FACTS.items())[:n]:
        hits = []
        for rank, page in enumerate([fact["page"], fact["page"] % len(docs.PT_PAGES) + 1], start=1):
            text = docs.pt_page_clean(page)
            chunk = Chunk(chunk_id=f"edital:{page}", doc_id="edital", doc_name="edital-12-2026.pdf", text=text,
                          page_start=page, page_end=page, char_start=0, char_end=len(text))
            hits.append(Hit(chunk=chunk, score=1.0 / rank, rank=rank))
        out.append(rag.build_messages(question, hits))
    return out


def product_ms(torch, quant, reps: int = 10) -> dict[str, float]:
    """Milliseconds per product of one Qwen MLP shape [rows x 896]·[896 x 4864]: 1 row (decode)
    in fp32, bf16 and int8 weights (as :func:`oracle.models.quantize_generator` does), and 64
    rows (batch) in fp32 and bf16."""
    out = {}
    lin = torch.nn.Linear(896, 4864, bias=False)
    kinds = {
        "1x float32": (lin, torch.randn(1, 896)),
        "1x bfloat16": (torch.nn.Linear(896, 4864, bias=False).to(torch.bfloat16), torch.randn(1, 896).bfloat16()),
        "1x int8 weights": (quant._int8_linear_class()(lin), torch.randn(1, 896)),
        "64x float32": (lin, torch.randn(64, 896)),
        "64x bfloat16": (torch.nn.Linear(896, 4864, bias=False).to(torch.bfloat16), torch.randn(64, 896).bfloat16()),
    }
    with torch.no_grad():
        for name, (module, x) in kinds.items():
            for _ in range(2):
                module(x)
            start = time.perf_counter()
            for _ in range(reps):
                module(x)
            out[name] = (time.perf_counter() - start) / reps * 1e3
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b-instruct", help="Bundled name or folder.")
    parser.add_argument("--max-new-tokens", type=int, default=48, help="Tokens generated per prompt, at most.")
    parser.add_argument("--prompts", type=int, default=3, help="How many RAG prompts (1-7).")
    parser.add_argument(
        "--threads",
        type=int,
        default=len(os.sched_getaffinity(0)),
        help="torch.set_num_threads for both sides (default: the usable cores).",
    )
    parser.add_argument("--no-write", action="store_true", help="Do not append to bench/RESULTS.md.")
    args = parser.parse_args()

    import resource

    import torch
    from bench_index import append_results, command_line, cpu_name
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from oracle import llm, models
    from oracle.models import device, quant

    torch.set_num_threads(args.threads)
    loads = [os.getloadavg()[0]]
    gemv = product_ms(torch, quant)
    gemv_text = ", ".join(f"{k} {v:.2f}" for k, v in gemv.items())
    print(f"linear [rows x 896]·[896 x 4864], ms: {gemv_text}", flush=True)

    folder = models.resolve_generator(args.model)
    t0 = time.perf_counter()
    ours = llm.get_generator(f"local:{args.model}")
    ours.load()
    ours_load_s = time.perf_counter() - t0
    ours_precision = models.precision_label(ours.model)

    t0 = time.perf_counter()
    tok = AutoTokenizer.from_pretrained(folder)
    plain = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    plain_load_s = time.perf_counter() - t0
    print(f"ours: {ours_precision} (loaded in {ours_load_s:.1f} s); plain: float32 ({plain_load_s:.1f} s)", flush=True)

    def encode(msgs: list[dict]):
        return tok.apply_chat_template(msgs, add_generation_prompt=True, return_tensors="pt", return_dict=True)

    def run_ours(msgs: list[dict]) -> tuple[list[int], int, float, float]:
        cpu = time.process_time()
        text = ours.generate(msgs, max_new_tokens=args.max_new_tokens, temperature=0.0)
        cpu = time.process_time() - cpu
        stats = ours.last_stats
        return tok(text, add_special_tokens=False)["input_ids"], stats["n_tokens"], stats["seconds"], cpu

    def run_plain(msgs: list[dict]) -> tuple[list[int], int, float, float]:
        enc = encode(msgs)
        start, cpu = time.perf_counter(), time.process_time()
        with torch.inference_mode():
            out = plain.generate(**enc, max_new_tokens=args.max_new_tokens, do_sample=False)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        new = out[0, enc["input_ids"].shape[1] :]
        text = tok.decode(new, skip_special_tokens=True)
        return tok(text, add_special_tokens=False)["input_ids"], int(new.shape[0]), seconds, cpu

    warm = [{"role": "user", "content": "De que cor é o céu?"}]
    ours.generate(warm, max_new_tokens=4)
    with torch.inference_mode():
        plain.generate(**encode(warm), max_new_tokens=4, do_sample=False)

    prompts = rag_prompts(args.prompts)
    sides = {"ours": run_ours, "plain": run_plain}
    totals = {s: [0, 0.0, 0.0] for s in sides}  # tokens, wall seconds, CPU seconds
    answers: dict[str, list[list[int]]] = {s: [] for s in sides}
    order = list(sides)
    n_prompt_tokens = []
    for i, msgs in enumerate(prompts):
        n_prompt_tokens.append(int(encode(msgs)["input_ids"].shape[1]))
        for side in order:
            ids, n, seconds, cpu = sides[side](msgs)
            totals[side][0] += n
            totals[side][1] += seconds
            totals[side][2] += cpu
            answers[side].append(ids)
            print(
                f"prompt {i} ({n_prompt_tokens[-1]} tokens) {side:5s}: {n:3d} tokens in {seconds:6.2f} s "
                f"({n / seconds:5.2f} tok/s; {cpu:6.1f} CPU-s; load {os.getloadavg()[0]:.1f})",
                flush=True,
            )
            loads.append(os.getloadavg()[0])
        order.reverse()

    # Teacher-forced agreement: ours' model fed plain's answer predicts the same next token?
    agree, total = 0, 0
    for msgs, ref in zip(prompts, answers["plain"]):
        enc = encode(msgs)
        if not ref:
            continue
        ref_ids = torch.tensor([ref])
        full = torch.cat([enc["input_ids"], ref_ids], dim=1)
        with torch.inference_mode():
            logits = ours.model(input_ids=full).logits[0, enc["input_ids"].shape[1] - 1 : -1]
        agree += int((logits.argmax(-1) == ref_ids[0]).sum())
        total += int(ref_ids.shape[1])
    tf_agreement = agree / total if total else float("nan")

    speed = {s: totals[s][0] / totals[s][1] for s in sides}
    ratio = speed["ours"] / speed["plain"]
    per_cpu = {s: totals[s][0] / totals[s][2] for s in sides}
    ratio_cpu = per_cpu["ours"] / per_cpu["plain"]
    same = sum(a == b for a, b in zip(answers["ours"], answers["plain"]))
    prefix = []
    for a, b in zip(answers["ours"], answers["plain"]):
        k = 0
        while k < min(len(a), len(b)) and a[k] == b[k]:
            k += 1
        prefix.append(k)
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    load_text = f"{min(loads):.1f}-{max(loads):.1f} (mean {sum(loads) / len(loads):.1f})"

    print(f"\nours  ({ours_precision}): {speed['ours']:.2f} tok/s   plain (float32): {speed['plain']:.2f} tok/s")
    print(f"ratio ours/plain: {ratio:.2f}x (target >= 1.5x); per CPU-second: {ratio_cpu:.2f}x; load {load_text}")
    print(
        f"identical answers: {same}/{len(prompts)}; common prefix (tokens): {prefix}; teacher-forced "
        f"agreement {agree}/{total} = {tf_agreement:.1%}; peak RSS {peak_gb:.1f} GB"
    )
    for i, (a, b) in enumerate(zip(answers["ours"], answers["plain"])):
        print(f"  [{i}] ours : {tok.decode(a)!r}\n      plain: {tok.decode(b)!r}")

    if args.no_write:
        return
    bf16_flags = sorted(device._cpu_flags() & {"avx512_bf16", "amx_bf16", "avx512_vnni"}) or ["none"]
    lines = [
        f"## Local generation speed: pipeline (default policy) vs plain fp32 ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"Command: `{command_line()}`  ",
        (
            f"Machine: {cpu_name()}, {os.cpu_count()} cores (flags: {', '.join(bf16_flags)}; no AMX unless listed), "
            f"torch {torch.__version__}, {args.threads} thread(s); load average (1 min) during the run "
            f"{load_text}: other processes share the cores.  "
        ),
        (
            f"Model: `{args.model}`; {len(prompts)} Portuguese RAG prompts (`rag.build_messages`, 2 pages of "
            f"tests/docs.py as chunks, {min(n_prompt_tokens)}-{max(n_prompt_tokens)} prompt tokens), greedy, "
            f"max_new_tokens={args.max_new_tokens}, sides alternating; speed = generated tokens / wall time "
            "of the call (prefill included).  "
        ),
        f"One product [rows x 896]·[896 x 4864] on this CPU, ms: {gemv_text}.",
        "",
        "| side | precision | tokens | seconds | tokens/s | CPU-s | tokens/CPU-s | load (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    names = {
        "ours": f"ours: `llm.get_generator('local:{args.model}')`",
        "plain": "plain: `from_pretrained(dtype=float32).generate`",
    }
    precisions = {"ours": ours_precision, "plain": "float32"}
    load_s = {"ours": ours_load_s, "plain": plain_load_s}
    for side in sides:
        n, wall, cpu = totals[side]
        lines.append(
            f"| {names[side]} | {precisions[side]} | {n} | {wall:.1f} | {speed[side]:.2f} | {cpu:.1f} | "
            f"{per_cpu[side]:.2f} | {load_s[side]:.1f} |"
        )
    lines += [
        "",
        (
            f"**Ratio ours/plain: {ratio:.2f}x** in tokens/s, {ratio_cpu:.2f}x in tokens per CPU-second "
            f"(target >= 1.5x). Identical answers: {same}/{len(prompts)} (common prefix in tokens: {prefix}); "
            f"teacher-forced agreement of ours with plain's answers: {agree}/{total} tokens "
            f"({tf_agreement:.1%}). Peak RSS (both models loaded): {peak_gb:.1f} GB."
        ),
    ]
    append_results("\n".join(lines))


if __name__ == "__main__":
    main()
