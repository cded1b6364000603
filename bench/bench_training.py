"""Training throughput: Oráculo's LoRA path (bf16 base + bf16 autocast) against a plain fp32
transformers ``Trainer`` + peft loop, same model, same data, same LoRA settings, same run.

Both sides train the same LoRA (rank 8, alpha 16, all linear layers, lr 2e-4, batch 1, no
accumulation) for ``--steps`` optimizer steps on the same ``--seq-len``-token windows of a
text (causal LM loss on every token, or with ``--answer-tokens N`` on the last N tokens of each
window only: the shape of a RAFT example, where Oráculo's side projects only those positions
through the output head, as ``train_lora`` does). Oráculo's side is built with the functions
:func:`oracle.training.lora.train_lora` uses (``load_for_training``, ``add_lora``,
``training_args``, ``PadCollator``); the baseline is what a user would write from the
transformers/peft docs in fp32. Each side runs ``--rounds`` times in ABBA order (the CPU is
shared: a change of load then hits both sides alike); tokens/s counts steps 2..N of every
run (step 1 is warm-up). The loss curves (same seed, same data order) are compared step by
step.

Usage::

    python bench/bench_training.py                       # bundled Qwen, 8 steps x 256 tokens
    python bench/bench_training.py --model /path/to/model --steps 8 --seq-len 256 --no-write
    python bench/bench_training.py --seq-len 640 --answer-tokens 40 --steps 6   # RAFT-shaped

Appends a section to ``bench/RESULTS.md`` unless ``--no-write``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

DEFAULT_TEXT = ROOT.parent / "shared" / "corpus" / "focalinux-iniciante.latin1.txt"


def windows(tokenizer, text: str, n: int, seq_len: int, answer_tokens: int = 0) -> list[dict]:
    """``n`` windows of ``seq_len`` tokens; labels on every token, or (``answer_tokens`` > 0)
    only on the last ``answer_tokens`` of each window, -100 elsewhere: the shape of a RAFT
    example (long prompt with chunks, short answer)."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    if len(ids) < n * seq_len:
        ids = ids * (n * seq_len // max(1, len(ids)) + 1)
    out = []
    for i in range(n):
        chunk = ids[i * seq_len : (i + 1) * seq_len]
        labels = list(chunk)
        if answer_tokens > 0:
            labels = [-100] * (len(chunk) - answer_tokens) + labels[-answer_tokens:]
        out.append({"input_ids": chunk, "labels": labels, "attention_mask": [1] * len(chunk)})
    return out


def make_timer():
    from transformers import TrainerCallback

    class StepTimer(TrainerCallback):
        def __init__(self):
            self.times, self.losses, self._t = [], [], 0.0

        def on_step_begin(self, args, state, control, **kw):
            self._t = time.perf_counter()

        def on_step_end(self, args, state, control, **kw):
            self.times.append(time.perf_counter() - self._t)

        def on_log(self, args, state, control, logs=None, **kw):
            if logs and "loss" in logs:
                self.losses.append(float(logs["loss"]))

    return StepTimer()


def run_oracle(path: str, data: list[dict], steps: int, out_dir: str) -> dict:
    """Oráculo's path: bf16 base weights, fp32 LoRA weights, bf16 autocast, output head on the
    labelled positions only (``answer_loss_trainer``, as ``train_lora``)."""
    from oracle.training.lora import (
        LoraTrainConfig,
        PadCollator,
        _quiet,
        add_lora,
        answer_loss_trainer,
        load_for_training,
        training_args,
    )

    cfg = LoraTrainConfig(
        rank=8,
        alpha=16,
        dropout=0.0,
        max_steps=steps,
        grad_accum=1,
        batch_size=1,
        warmup_ratio=0.0,
        save_steps=10_000,
        bf16="on",
        qlora="off",
    )
    model, tok = load_for_training(path, bf16=True, qlora=False, device="cpu")
    model = add_lora(model, cfg)
    timer = make_timer()
    trainer = answer_loss_trainer(
        model=model,
        args=training_args(cfg, out_dir, True, "cpu", False, save_strategy="no"),
        train_dataset=data,
        data_collator=PadCollator(tok.pad_token_id),
        callbacks=[timer],
    )
    _quiet(trainer)
    trainer.train()
    return {"times": timer.times, "losses": timer.losses}


def run_baseline(path: str, data: list[dict], steps: int, out_dir: str) -> dict:
    """Plain fp32 transformers Trainer + peft, as in the libraries' docs."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import (
        AutoModelForCausalLM,
        AutoTokenizer,
        DataCollatorForSeq2Seq,
        Trainer,
        TrainingArguments,
    )

    tok = AutoTokenizer.from_pretrained(path)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    torch.manual_seed(42)
    model = get_peft_model(
        model,
        LoraConfig(
            r=8,
            lora_alpha=16,
            lora_dropout=0.0,
            target_modules="all-linear",
            bias="none",
            task_type="CAUSAL_LM",
        ),
    )
    args = TrainingArguments(
        output_dir=out_dir,
        per_device_train_batch_size=1,
        gradient_accumulation_steps=1,
        learning_rate=2e-4,
        max_steps=steps,
        lr_scheduler_type="linear",
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
        use_cpu=True,
        seed=42,
        data_seed=42,
        remove_unused_columns=False,
    )
    timer = make_timer()
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=data,
        data_collator=DataCollatorForSeq2Seq(tok),
        callbacks=[timer],
    )
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # quiet output only; no effect on timing
    trainer.train()
    return {"times": timer.times, "losses": timer.losses}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b-instruct", help="generator name or folder")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--seq-len", type=int, default=256, help="tokens per step")
    parser.add_argument("--text", default=str(DEFAULT_TEXT), help="text file the windows are cut from")
    parser.add_argument("--rounds", type=int, default=2, help="runs per side, in ABBA order")
    parser.add_argument(
        "--answer-tokens", type=int, default=0,
        help="loss on the last N tokens of each window only (a RAFT example's answer); 0 = every token",
    )
    parser.add_argument(
        "--no-write", action="store_true", help="print only, do not append to bench/RESULTS.md"
    )
    args = parser.parse_args()

    import torch
    from transformers import AutoTokenizer

    from oracle.training.lora import resolve_base

    path = resolve_base(args.model)
    tok = AutoTokenizer.from_pretrained(path)
    raw = Path(args.text).read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    data = windows(tok, text, args.steps, args.seq_len, args.answer_tokens)
    results: dict[str, dict] = {}
    sides = {"baseline_fp32": run_baseline, "oracle_bf16": run_oracle}
    # ABBA order over --rounds: a load change on the shared CPU hits both sides alike
    order = []
    for r in range(args.rounds):
        order += ["baseline_fp32", "oracle_bf16"] if r % 2 == 0 else ["oracle_bf16", "baseline_fp32"]
    with tempfile.TemporaryDirectory() as tmp:
        for label in order:
            t0 = time.perf_counter()
            run = sides[label](path, data, args.steps, tmp)
            gc.collect()
            side = results.setdefault(
                label, {"times": [], "losses": run["losses"], "runs": 0, "wall_s": 0.0, "per_run_tps": []}
            )
            side["times"] += run["times"][1:]  # step 1 of each run is warm-up
            side["per_run_tps"].append(args.seq_len * len(run["times"][1:]) / sum(run["times"][1:]))
            side["runs"] += 1
            side["wall_s"] += time.perf_counter() - t0
            print(f"{label}: steps {[round(x, 2) for x in run['times']]}", flush=True)
    tokens = {k: args.seq_len * len(v["times"]) for k, v in results.items()}
    tps = {k: tokens[k] / sum(v["times"]) for k, v in results.items()}
    ratio = tps["oracle_bf16"] / tps["baseline_fp32"]
    la, lb = results["oracle_bf16"]["losses"], results["baseline_fp32"]["losses"]
    diffs = [abs(a - b) for a, b in zip(la, lb)]
    rel = max(d / b for d, b in zip(diffs, lb))
    report = {
        "model": args.model,
        "steps": args.steps,
        "seq_len": args.seq_len,
        "answer_tokens": args.answer_tokens or "all",
        "threads": torch.get_num_threads(),
        "tokens_per_s": {k: round(v, 1) for k, v in tps.items()},
        "ratio": round(ratio, 2),
        "step_s": {k: [round(t, 2) for t in v["times"]] for k, v in results.items()},
        "loss": {k: [round(x, 4) for x in v["losses"]] for k, v in results.items()},
        "per_round_ratio": [
            round(o / b, 2)
            for o, b in zip(results["oracle_bf16"]["per_run_tps"], results["baseline_fp32"]["per_run_tps"])
        ],
        "max_abs_loss_diff": round(max(diffs), 4),
        "max_rel_loss_diff": round(rel, 4),
        "load_avg": os.getloadavg(),
    }
    print(json.dumps(report, indent=2))
    if not args.no_write:
        cmd = "python bench/bench_training.py" + "".join(f" {a}" for a in sys.argv[1:])
        date = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        lines = [
            "",
            f"## Training throughput: LoRA bf16 autocast vs plain fp32 Trainer + peft ({date})",
            "",
            f"Command: `{cmd}`  ",
            f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"torch {torch.__version__}, {report['threads']} threads, load average at the end "
            f"{', '.join(f'{x:.1f}' for x in report['load_avg'])} (the CPU is shared).",
            "",
            f"Model `{args.model}`, LoRA r=8 all-linear, {args.steps} steps x {args.seq_len} tokens, batch 1, "
            f"{args.rounds} runs per side in ABBA order; tokens/s over steps 2..N of every run.",
            "",
            "| side | tokens/s | s/step (median) |",
            "|---|---|---|",
        ]
        for k in ("baseline_fp32", "oracle_bf16"):
            times = sorted(results[k]["times"])
            lines.append(f"| {k} | {tps[k]:.1f} | {times[len(times) // 2]:.2f} |")
        lines += [
            "",
            f"**Ratio: {ratio:.2f}x** (target >= 1.5x); per round {report['per_round_ratio']}. Loss per step, fp32: {report['loss']['baseline_fp32']}; "
            f"bf16: {report['loss']['oracle_bf16']}; max |diff| {report['max_abs_loss_diff']} "
            f"({100 * report['max_rel_loss_diff']:.1f}% of the fp32 loss).",
            "",
        ]
        results_md = ROOT / "bench" / "RESULTS.md"
        with results_md.open("a", encoding="utf-8") as f:  # others append too: re-read, append only
            f.write("\n".join(lines) + "\n")
        print(f"appended to {results_md}")
    return 0 if ratio >= 1.5 else 1


if __name__ == "__main__":
    sys.exit(main())
