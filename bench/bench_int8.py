"""Weight-only int8 linears: Oráculo's own against torchao's ``Int8WeightOnlyConfig``, in one process.

Issue 9 asks for torchao's int8 weight-only quantisation unless a same-run benchmark shows ours
faster. Both quantise the same way (symmetric absmax per output row, int8 weights, floating-point
activations); they differ in the product:

* ours (:func:`oracle.models.quant._int8_linear_class`): up to
  :data:`oracle.models.INT8_PACK_MAX_ROWS` rows (decoding) PyTorch's
  ``aten._weight_int8pack_mm`` CPU kernel reads the int8 weight directly; more rows (prefill) a
  bf16 matmul with a bf16 copy of the weight made once at load time
  (:data:`oracle.models.PREFILL_BF16_CACHE`; "ours, no bf16 copy" dequantises it per call instead);
* torchao (``quantize_(model, Int8WeightOnlyConfig())``, the weight becomes an ``Int8Tensor``):
  eagerly, every call converts the whole int8 weight to the activation dtype and multiplies
  (``torch.mm``) then scales; its fused kernels come from ``torch.compile`` (``--compile``).

Layers: the seven linears of one decoder layer of the bundled 0.5B generator
(Qwen2.5-Coder-0.5B-Instruct: hidden 896, intermediate 4864, 14 query heads and 2 key/value heads of
64, biases on q/k/v) and its tied ``lm_head`` (896 -> 151,936), built with random weights
(``N(0, 0.02)``, seeded; no model download). Inputs: 1 row (decoding one token) and
``--prefill-rows`` rows (a RAG prompt's prefill; the ``lm_head`` is left out there since
``generate`` computes the logits of the last position only). Activations in float32 (what the app
computes in under int8 weights on a CPU without bf16 instructions, :func:`oracle.models.int8_compute_dtype`)
and in bfloat16 (on a CPU with AVX512-BF16 or AMX). Times: median over ``--reps`` calls per side,
the sides interleaved in rotating order so that load from other processes hits all alike; one
decoder layer is the sum of its seven medians. Error: max |y - y_fp32| over the outputs, against
the float32 ``nn.Linear`` on the same input, and relative to max |y_fp32|.

Run (torchao installed apart, e.g. ``pip install --no-deps --target /tmp/torchao-pkgs torchao``):
``nice python bench/bench_int8.py --torchao-path /tmp/torchao-pkgs``. Appends a section to
``bench/RESULTS.md`` unless ``--no-write``.
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
sys.path.insert(0, str(ROOT / "bench"))

# Qwen2.5-Coder-0.5B-Instruct: (name, in_features, out_features, bias)
LAYER = [
    ("q_proj", 896, 896, True),
    ("k_proj", 896, 128, True),
    ("v_proj", 896, 128, True),
    ("o_proj", 896, 896, False),
    ("gate_proj", 896, 4864, False),
    ("up_proj", 896, 4864, False),
    ("down_proj", 4864, 896, False),
]
LM_HEAD = ("lm_head", 896, 151936, False)


def torchao_quantize(module, torch):
    """``module`` (a ``Sequential`` of one ``nn.Linear``) quantised in place by torchao's int8
    weight-only config of the installed version: ``Int8WeightOnlyConfig`` (torchao >= 0.9) or
    ``int8_weight_only()`` (older)."""
    from torchao.quantization import quantize_

    try:
        from torchao.quantization import Int8WeightOnlyConfig

        config = Int8WeightOnlyConfig(set_inductor_config=False)
    except ImportError:  # torchao < 0.9
        from torchao.quantization import int8_weight_only

        config = int8_weight_only()
    quantize_(module, config)
    return module


def weight_bytes(module) -> int:
    """Bytes of the weight as a side holds it (int8 data, scales, any bf16 copy; bias left out)."""
    total = 0
    for name, t in list(module.named_parameters()) + list(module.named_buffers()):
        if name.endswith("bias"):
            continue
        if hasattr(t, "qdata"):  # a torchao tensor subclass: count its parts
            total += sum(x.numel() * x.element_size() for x in (t.qdata, t.scale))
        else:
            total += t.numel() * t.element_size()
    for attr in ("weight_bf16",):  # ours keeps its prefill copy as a plain attribute
        for m in module.modules():
            w = getattr(m, attr, None)
            if w is not None:
                total += w.numel() * w.element_size()
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--torchao-path", default=None,
                        help="Folder put first on sys.path before importing torchao (a pip --target install).")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1: quiet on shared cores).")
    parser.add_argument("--prefill-rows", type=int, default=600, help="Rows of the prefill products (tokens).")
    parser.add_argument("--reps", type=int, default=15, help="Timed calls per side, shape and row count.")
    parser.add_argument("--dtypes", nargs="+", default=["float32", "bfloat16"], choices=["float32", "bfloat16"],
                        help="Activation dtypes to measure.")
    parser.add_argument("--no-lm-head", action="store_true", help="Leave the 136M-weight lm_head out (memory).")
    parser.add_argument("--compile", action="store_true",
                        help="Also time torchao under torch.compile (minutes of compilation on 2 cores).")
    parser.add_argument("--no-write", action="store_true", help="Do not append to bench/RESULTS.md.")
    args = parser.parse_args()
    if args.torchao_path:
        sys.path.insert(0, str(Path(args.torchao_path).expanduser()))

    import torch
    from bench_index import append_results, command_line, cpu_name

    from oracle.models import device, quant

    try:
        import torchao
    except Exception as exc:  # noqa: BLE001 - recorded as the result
        print(f"torchao cannot be imported: {type(exc).__name__}: {exc}", flush=True)
        raise

    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    ours_cls = quant._int8_linear_class()
    loads = [os.getloadavg()[0]]
    shapes = LAYER + ([] if args.no_lm_head else [LM_HEAD])
    results = []  # (dtype, rows, shape name, {side: ms}, {side: (max abs err, rel)})
    bytes_by_side: dict[str, int] = {}
    for dtype_name in args.dtypes:
        dtype = getattr(torch, dtype_name)
        for name, n_in, n_out, bias in shapes:
            lin = torch.nn.Linear(n_in, n_out, bias=bias)
            with torch.no_grad():
                lin.weight.normal_(0, 0.02)
                if bias:
                    lin.bias.normal_(0, 0.02)
            fp32 = torch.nn.Sequential(lin).eval()
            ours = torch.nn.Sequential(ours_cls(lin)).eval()
            if dtype != torch.float32:  # the app casts the int8 model's biases to bf16 (_compute_in_bf16)
                for m in ours.modules():
                    if isinstance(m, ours_cls) and m.bias is not None:
                        m.bias = m.bias.to(dtype)
            ours_nocopy = torch.nn.Sequential(ours_cls(lin)).eval()
            for m in ours_nocopy.modules():
                if isinstance(m, ours_cls):
                    m.weight_bf16 = None
                    if m.bias is not None:
                        m.bias = m.bias.to(dtype)
            ao_lin = torch.nn.Linear(n_in, n_out, bias=bias)
            ao_lin.load_state_dict(lin.state_dict())
            ao = torchao_quantize(torch.nn.Sequential(ao_lin.to(dtype)).eval(), torch)
            sides = {"float32 nn.Linear": fp32, "ours": ours, "ours, no bf16 copy": ours_nocopy, "torchao": ao}
            if args.compile:
                sides["torchao + torch.compile"] = torch.compile(ao)
            if dtype_name == args.dtypes[0]:
                for side, mod in sides.items():
                    bytes_by_side[side] = bytes_by_side.get(side, 0) + weight_bytes(mod)
            rows_list = [1] if name == "lm_head" else [1, args.prefill_rows]
            for rows in rows_list:
                x32 = torch.randn(rows, n_in)
                x = x32.to(dtype)
                with torch.no_grad():
                    ref = fp32(x.float())  # the fp32 layer on the same (rounded) input
                    errs = {}
                    for side, mod in sides.items():
                        inp = x32 if side == "float32 nn.Linear" else x
                        y = mod(inp)
                        y = mod(inp)  # warm-up (and compilation)
                        d = (y.float() - ref).abs().max().item()
                        errs[side] = (d, d / ref.abs().max().item())
                    times: dict[str, list[float]] = {s: [] for s in sides}
                    reps = args.reps if rows > 1 or name != "lm_head" else max(5, args.reps // 3)
                    reps = reps * 4 if rows == 1 and name != "lm_head" else reps  # 1-row calls are short: more of them
                    order = list(sides)
                    for rep in range(reps):
                        order = order[1:] + order[:1]
                        for side in order:
                            inp = x32 if side == "float32 nn.Linear" else x
                            t0 = time.perf_counter()
                            sides[side](inp)
                            times[side].append(time.perf_counter() - t0)
                ms = {s: statistics.median(v) * 1e3 for s, v in times.items()}
                results.append((dtype_name, rows, name, ms, errs))
                print(dtype_name, rows, name, {s: round(v, 3) for s, v in ms.items()},
                      {s: f"{e[0]:.2e}" for s, e in errs.items()}, flush=True)
            del fp32, ours, ours_nocopy, ao, sides, lin, ao_lin
            loads.append(os.getloadavg()[0])

    side_names = [s for s in results[0][3]]
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## int8 weight-only: ours against torchao (issue 9) ({stamp})",
        "",
        f"`{command_line()}`  ",
        f"Machine: {cpu_name()}, {os.cpu_count()} cores, flags: "
        f"{', '.join(sorted(device._cpu_flags() & {'avx2', 'avx512f', 'avx512_bf16', 'avx512_vnni', 'amx_bf16'})) or 'none'}; "
        f"torch {torch.__version__}, torchao {torchao.__version__}, {args.threads} thread(s); "
        f"load average {min(loads):.1f}-{max(loads):.1f}. Shapes of Qwen2.5-Coder-0.5B-Instruct, random weights; "
        f"median of {args.reps} calls ({args.reps * 4} for 1-row products), sides interleaved. "
        "ms per product; ratio = torchao ÷ ours (above 1: ours is faster).",
        "",
        "| activations | rows | layer | " + " | ".join(f"{s} ms" for s in side_names) + " | torchao ÷ ours |",
        "|---|---|---|" + "---|" * len(side_names) + "---|",
    ]
    summary = []
    for dtype_name in args.dtypes:
        for rows in [1, args.prefill_rows]:
            sel = [r for r in results if r[0] == dtype_name and r[1] == rows and r[2] != "lm_head"]
            for _, _, name, ms, _ in sel:
                lines.append(f"| {dtype_name} | {rows} | {name} | " + " | ".join(f"{ms[s]:.3f}" for s in side_names)
                             + f" | {ms['torchao'] / ms['ours']:.2f} |")
            total = {s: sum(r[3][s] for r in sel) for s in side_names}
            summary.append((dtype_name, rows, "one decoder layer (7 linears)", total))
            lines.append(f"| {dtype_name} | {rows} | **one decoder layer** | "
                         + " | ".join(f"**{total[s]:.2f}**" for s in side_names)
                         + f" | **{total['torchao'] / total['ours']:.2f}** |")
            head = [r for r in results if r[0] == dtype_name and r[1] == rows and r[2] == "lm_head"]
            for _, _, name, ms, _ in head:
                summary.append((dtype_name, rows, name, ms))
                lines.append(f"| {dtype_name} | {rows} | lm_head | " + " | ".join(f"{ms[s]:.2f}" for s in side_names)
                             + f" | {ms['torchao'] / ms['ours']:.2f} |")
    lines += [
        "",
        "Max |y - y_fp32| (relative to max |y_fp32|), worst layer, against the float32 layer on the same input:",
        "",
        "| activations | rows | " + " | ".join(side_names[1:]) + " |",
        "|---|---|" + "---|" * (len(side_names) - 1),
    ]
    for dtype_name in args.dtypes:
        for rows in [1, args.prefill_rows]:
            sel = [r for r in results if r[0] == dtype_name and r[1] == rows]
            cells = []
            for s in side_names[1:]:
                worst = max(sel, key=lambda r: r[4][s][1])[4][s]
                cells.append(f"{worst[0]:.2e} ({worst[1]:.1%})")
            lines.append(f"| {dtype_name} | {rows} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Weight bytes held (one decoder layer"
        + ("" if args.no_lm_head else " + lm_head") + "): "
        + ", ".join(f"{s} {bytes_by_side[s] / 2**20:.0f} MiB" for s in side_names) + ".",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        append_results(text)


if __name__ == "__main__":
    main()
