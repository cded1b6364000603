"""Local generation speed: Oráculo's generator pipeline against plain fp32 ``model.generate``.

Both sides run the same bundled model (default ``qwen2.5-coder-0.5b-instruct``, the folder
:func:`oracle.models.resolve_generator` converts once from the GGUF parts), on the same
Portuguese RAG-like prompts (a system line, two numbered sources, a question), greedy, the same
``--max-new-tokens``, in the same process and with the same ``torch.set_num_threads``:

* ours: ``oracle.llm.get_generator("local:<model>").generate(messages, temperature=0)``, which
  loads through :func:`oracle.models.load_generator` in ``best_dtype(device, "decode")``
  (bf16 on a CPU with AMX or a bf16 GPU, else fp32: on AVX512-BF16 without AMX, oneDNN's bf16
  product of one row costs as much as of 64, so bf16 decoding is slower there; the script
  times that product first and records it);
* plain: ``AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)``, the chat template,
  ``model.generate(do_sample=False)``: what one gets without choosing a dtype.

Speed = generated tokens / wall seconds of the whole call (prompt prefill included), summed over
the prompts; tokens per CPU-second (``time.process_time``) is also given, as it moves less when
other processes share the cores. After one warm-up call per side, the sides alternate prompt by prompt, in rotating
order, so load from other processes hits both alike. The script prints the ratio and whether the
answers match token for token, and appends a section to ``bench/RESULTS.md``.

Run: ``python bench/bench_generation.py`` (about 2-4 minutes on 2 cores, plus ~100 s once if the
model was never converted).
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

SYSTEM = (
    "Você é um assistente que responde em português do Brasil usando apenas as fontes numeradas. "
    "Cite as fontes como [1], [2]. Se a resposta não estiver nas fontes, diga que não sabe."
)

PROMPTS = [
    (
        (
            "[1] O prazo para entregar a declaração do Imposto de Renda termina em 31 de maio. "
            "Quem entregar depois paga multa mínima de R$ 165,74 ou 1% ao mês sobre o imposto devido.\n"
            "[2] A restituição é paga em cinco lotes, de junho a setembro, na conta indicada na declaração."
        ),
        "Até quando devo entregar a declaração e o que acontece se eu atrasar?",
    ),
    (
        (
            "[1] Para instalar um pacote no Debian, use o comando apt install seguido do nome do pacote, "
            "como superusuário. O comando apt update atualiza a lista de pacotes disponíveis.\n"
            "[2] Pacotes removidos com apt remove deixam os arquivos de configuração; apt purge apaga "
            "também a configuração."
        ),
        "Como removo um pacote e também os arquivos de configuração dele?",
    ),
    (
        (
            "[1] O concreto deve ser curado por pelo menos sete dias, mantendo a superfície úmida, para "
            "atingir a resistência prevista no projeto.\n"
            "[2] Em dias quentes, a cura deve começar logo após o acabamento, para evitar fissuras por "
            "retração."
        ),
        "Por quanto tempo o concreto precisa ser curado e por quê?",
    ),
]


def messages_for(context: str, question: str) -> list[dict]:
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": f"Fontes:\n{context}\n\nPergunta: {question}"},
    ]


def matmul_ms(torch, reps: int = 10) -> dict[str, float]:
    """Milliseconds per ``linear`` of one Qwen MLP shape, 1 row (decode) and 64 rows (batch),
    fp32 and bf16: why :func:`oracle.models.best_dtype` picks what it picks on this CPU."""
    out = {}
    for rows in (1, 64):
        for dtype in (torch.float32, torch.bfloat16):
            x = torch.randn(rows, 896, dtype=dtype)
            w = torch.randn(4864, 896, dtype=dtype)
            for _ in range(2):
                torch.nn.functional.linear(x, w)
            start = time.perf_counter()
            for _ in range(reps):
                torch.nn.functional.linear(x, w)
            out[f"{rows}x {str(dtype).replace('torch.', '')}"] = (time.perf_counter() - start) / reps * 1e3
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b-instruct", help="Bundled name or folder.")
    parser.add_argument("--max-new-tokens", type=int, default=32, help="Tokens generated per prompt.")
    parser.add_argument(
        "--threads",
        type=int,
        default=len(os.sched_getaffinity(0)),
        help="torch.set_num_threads for both sides (default: the usable cores).",
    )
    parser.add_argument("--rounds", type=int, default=1, help="Passes over the prompts.")
    parser.add_argument("--no-write", action="store_true", help="Do not append to bench/RESULTS.md.")
    args = parser.parse_args()

    import torch
    from bench_index import append_results, command_line, cpu_name
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from oracle import llm, models

    torch.set_num_threads(args.threads)
    load_start = os.getloadavg()[0]
    gemv = matmul_ms(torch)
    print(
        "linear [rows x 896]·[896 x 4864], ms: " + ", ".join(f"{k} {v:.2f}" for k, v in gemv.items()),
        flush=True,
    )

    t0 = time.perf_counter()
    folder = models.resolve_generator(args.model)
    resolve_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    ours = llm.get_generator(f"local:{args.model}")
    ours.load()
    ours_load_s = time.perf_counter() - t0
    ours_dtype = str(ours.model.dtype).replace("torch.", "")

    t0 = time.perf_counter()
    tok = AutoTokenizer.from_pretrained(folder)
    plain = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    plain_load_s = time.perf_counter() - t0

    def run_ours(msgs: list[dict]) -> tuple[list[int], int, float, float]:
        cpu = time.process_time()
        text = ours.generate(msgs, max_new_tokens=args.max_new_tokens, temperature=0.0)
        cpu = time.process_time() - cpu
        stats = ours.last_stats
        return tok(text, add_special_tokens=False)["input_ids"], stats["n_tokens"], stats["seconds"], cpu

    def run_plain(msgs: list[dict]) -> tuple[list[int], int, float, float]:
        enc = tok.apply_chat_template(msgs, add_generation_prompt=True, return_tensors="pt", return_dict=True)
        start, cpu = time.perf_counter(), time.process_time()
        out = plain.generate(**enc, max_new_tokens=args.max_new_tokens, do_sample=False)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        new = out[0, enc["input_ids"].shape[1] :]
        text = tok.decode(new, skip_special_tokens=True)
        return tok(text, add_special_tokens=False)["input_ids"], int(new.shape[0]), seconds, cpu

    warm = messages_for("[1] O céu é azul.", "De que cor é o céu?")
    ours.generate(warm, max_new_tokens=4)
    plain.generate(
        **tok.apply_chat_template(warm, add_generation_prompt=True, return_tensors="pt", return_dict=True),
        max_new_tokens=4,
        do_sample=False,
    )

    sides = {"ours": run_ours, "plain": run_plain}
    totals = {s: [0, 0.0, 0.0] for s in sides}  # tokens, wall seconds, CPU seconds
    answers: dict[str, list[list[int]]] = {s: [] for s in sides}
    order = list(sides)
    for r in range(args.rounds):
        for i, (context, question) in enumerate(PROMPTS):
            msgs = messages_for(context, question)
            for side in order:
                ids, n, seconds, cpu = sides[side](msgs)
                totals[side][0] += n
                totals[side][1] += seconds
                totals[side][2] += cpu
                if r == 0:
                    answers[side].append(ids)
                print(
                    f"round {r} prompt {i} {side:5s}: {n:3d} tokens in {seconds:6.2f} s "
                    f"({n / seconds:5.2f} tok/s; {cpu:6.1f} CPU-s)",
                    flush=True,
                )
            order.reverse()

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
    load_end = os.getloadavg()[0]
    import resource

    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20

    print(f"\nours  ({ours_dtype}): {speed['ours']:.2f} tok/s   plain (float32): {speed['plain']:.2f} tok/s")
    print(f"ratio ours/plain: {ratio:.2f}x (target >= 1.5x); per CPU-second: {ratio_cpu:.2f}x")
    print(
        f"identical answers: {same}/{len(PROMPTS)}; common prefix (tokens): {prefix}; peak RSS {peak_gb:.1f} GB"
    )
    for i, (a, b) in enumerate(zip(answers["ours"], answers["plain"])):
        print(f"  [{i}] ours : {tok.decode(a)!r}\n      plain: {tok.decode(b)!r}")

    if args.no_write:
        return
    bf16_flags = sorted(models._cpu_flags() & {"avx512_bf16", "amx_bf16"}) or ["none"]
    lines = [
        f"## Local generation speed: pipeline vs plain fp32 ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"Command: `{command_line()}`  ",
        (
            f"Machine: {cpu_name()}, {os.cpu_count()} cores (bf16 flags: {', '.join(bf16_flags)}), "
            f"torch {torch.__version__}, {args.threads} threads; load average {load_start:.1f} at start, "
            f"{load_end:.1f} at end (other processes share the cores).  "
        ),
        (
            f"Model: `{args.model}` ({folder}); {len(PROMPTS)} Portuguese RAG prompts x {args.rounds} "
            f"round(s), greedy, max_new_tokens={args.max_new_tokens}; speed = generated tokens / wall time "
            "of the call (prefill included).  "
        ),
        (
            "Why this dtype: `linear` [rows x 896]·[896 x 4864] on this CPU, ms: "
            + ", ".join(f"{k} {v:.2f}" for k, v in gemv.items())
            + f" (`best_dtype('cpu', 'decode')` = {str(models.best_dtype('cpu', workload='decode'))[6:]})."
        ),
        "",
        "| side | dtype | tokens | seconds | tokens/s | CPU-s | tokens/CPU-s | load (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    names = {
        "ours": f"ours: `llm.get_generator('local:{args.model}')`",
        "plain": "plain: `from_pretrained(dtype=float32).generate`",
    }
    dtypes = {"ours": ours_dtype, "plain": "float32"}
    loads = {"ours": ours_load_s, "plain": plain_load_s}
    for side in sides:
        n, wall, cpu = totals[side]
        lines.append(
            f"| {names[side]} | {dtypes[side]} | {n} | {wall:.1f} | {speed[side]:.2f} | {cpu:.1f} | "
            f"{per_cpu[side]:.2f} | {loads[side]:.1f} |"
        )
    lines += [
        "",
        (
            f"**Ratio ours/plain: {ratio:.2f}x** in tokens/s, {ratio_cpu:.2f}x in tokens per CPU-second "
            f"(target >= 1.5x). Identical answers: {same}/{len(PROMPTS)} (common prefix in tokens: "
            f"{prefix}). resolve_generator on the cached conversion: {resolve_s:.2f} s; peak RSS of the "
            f"process (both models loaded): {peak_gb:.1f} GB."
        ),
    ]
    if ours_dtype == "float32":
        lines.append(
            "\nBoth sides decode in fp32 on this CPU, so no speed-up is expected: bf16 helps where one-row "
            "products are fast in bf16 (AMX CPUs, GPUs); here they are slower than in fp32 (see above)."
        )
    append_results("\n".join(lines))


if __name__ == "__main__":
    main()
