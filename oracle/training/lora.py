"""Generator fine-tuning: a LoRA adapter trained with transformers ``Trainer`` + peft.

LoRA (Hu et al., 2021, "LoRA: Low-Rank Adaptation of Large Language Models") freezes the
base model and learns a rank-``r`` update ``B @ A`` (scaled by ``alpha / r``) of the chosen
linear layers; QLoRA (Dettmers et al., 2023) does the same on a 4-bit base model and is used
when CUDA and ``bitsandbytes`` are present. Training data is RAFT (see
:mod:`oracle.training.data`): every example's prompt is :func:`oracle.rag.build_messages`
(the chat prompt) rendered by the tokenizer's chat template exactly as
:class:`oracle.llm.TransformersGenerator` renders it, and the loss is computed on the answer
tokens only (prompt labels are ``-100``).

On a CPU with bf16 instructions (AVX512-BF16/AMX), training runs under bf16 autocast on a
bf16 base model (LoRA weights stay fp32): measured here 2.1 s per 256-token step against
4.8 s in fp32 on the bundled 0.5B model (``bench/bench_training.py``).

Output ``adapters/<name>/``: what peft ``save_pretrained`` writes (``adapter_config.json``,
``adapter_model.safetensors``; loads with ``PeftModel.from_pretrained``), the tokenizer, and
the run card ``train.json`` (:class:`oracle.training.card.RunCard`): base model, data files and
their sha256, hyper-parameters, the prompt version, metrics (eval loss before/after, train loss,
tokens/s), wall time and cost. Runs are listed by :func:`oracle.training.card.list_runs`.
"""

from __future__ import annotations

import logging
import math
import re
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from oracle.config import DEFAULT_INDEX, FAST_GENERATOR, Workspace, to_dict
from oracle.errors import ConfigError, OracleError
from oracle.schema import (
    ProgressCallback,
    Record,
    now_iso,
    read_json,
    replace_folder,
    write_json_atomic,
)
from oracle.training.card import RunCard, new_card, run_dir
from oracle.training.data import (
    DEFAULT_GOLD_ORDER,
    DEFAULT_P_NO_GOLD,
    GOLD_ORDERS,
    RaftExample,
    TrainingData,
    hard_negative_index,
    prepare,
    self_check_examples,
)

logger = logging.getLogger(__name__)

CHECKPOINTS = "checkpoints"
_ONOFF = ("auto", "on", "off")
_NAME_RE = re.compile(r"[^A-Za-z0-9._-]+")

LogFn = Callable[[dict[str, Any]], None]
"""Receives one progress record per logged step (see :class:`ProgressLogger`)."""


CUDA_PRESET: dict[str, Any] = {"rank": 16, "alpha": 32, "k_distractors": 3, "max_seq_len": 2048, "batch_size": 4,
                               "grad_accum": 4, "epochs": 2.0, "save_steps": 50}
"""Hyper-parameters of a LoRA run on a GPU (:meth:`LoraTrainConfig.for_device`); never measured on one
in this project (no GPU was lent): sizes usual for a 0.5B-1.5B model and a few hundred examples."""


@dataclass
class LoraTrainConfig(Record):
    """Hyper-parameters of a LoRA run, with help text and validation.

    Defaults suit a 2-core CPU and ~100 QA pairs (finishes in well under 30 minutes on the
    bundled 0.5B model); :meth:`for_device` gives the GPU preset.
    """

    rank: int = field(default=8, metadata={"help": "LoRA rank r: size of the low-rank update. 8-16 suits a few "
                                                   "hundred examples; higher learns more and costs more memory."})
    alpha: int = field(default=16, metadata={"help": "LoRA alpha: the update is scaled by alpha / rank (2 x rank is usual)."})
    dropout: float = field(default=0.05, metadata={"help": "Dropout on the LoRA input, in [0, 1)."})
    target_modules: str = field(
        default="all-linear",
        metadata={"help": "Layers that get LoRA: 'all-linear' (every linear layer but the output head) or a "
                  "comma-separated list of module names, e.g. 'q_proj,k_proj,v_proj,o_proj'."},
    )
    learning_rate: float = field(default=2e-4, metadata={"help": "Peak learning rate (AdamW, linear decay). 1e-4 to 3e-4 for LoRA."})
    epochs: float = field(default=1.0, metadata={"help": "Passes over the training examples."})
    max_steps: int = field(default=-1, metadata={"help": "Stop after this many optimizer steps (-1 = use epochs)."})
    max_seq_len: int = field(
        default=1024,
        metadata={"help": "Longest example in tokens of the generator's tokenizer (prompt + answer). Longer "
                  "examples lose distractor chunks until they fit (the gold chunk is kept)."},
    )
    batch_size: int = field(default=1, metadata={"help": "Examples per forward pass (per device)."})
    grad_accum: int = field(default=4, metadata={"help": "Forward passes per optimizer step (effective batch = batch_size x grad_accum)."})
    warmup_ratio: float = field(default=0.05, metadata={"help": "Share of steps with a linear learning-rate warm-up, in [0, 1)."})
    eval_fraction: float = field(default=0.1, metadata={"help": "Share of questions held out for evaluation (never trained on)."})
    k_distractors: int = field(default=2, metadata={"help": "Distractor chunks (hard negatives from the index) shown with the gold chunk (RAFT)."})
    p_no_gold: float = field(
        default=DEFAULT_P_NO_GOLD,
        metadata={"help": "Probability that an example has no gold chunk and the target is 'the documents do not "
                  "contain the answer' (RAFT), in [0, 1]. Default 0: such targets taught the adapter to refuse "
                  "answerable questions, while the chat's guards already refuse unanswerable ones."},
    )
    self_check: float = field(
        default=0.0,
        metadata={"help": "Share of training examples that also give a self-check example: the chat's question "
                  "'do the sources hold the answer? Sim or Não', answered Sim (gold chunk shown) or Não "
                  "(distractors only), in [0, 1]. An adapter trained with it judges its own sources; "
                  "without, its base model does (one more prompt read per answer)."},
    )
    gold_order: str = field(
        default=DEFAULT_GOLD_ORDER,
        metadata={"help": "Where the right chunk goes among the distractors: 'retrieved' (where the retriever ranks "
                  "it, as the chat orders its sources) or 'random' (RAFT's draw, which taught adapters to cite "
                  "the wrong source number)."},
    )
    cite_sources: bool = field(default=True, metadata={"help": "Targets end with [n] of the gold chunk, as chat answers cite sources."})
    save_steps: int = field(default=10, metadata={"help": "Checkpoint every this many optimizer steps (resume starts from the last)."})
    eval_steps: int = field(default=0, metadata={"help": "Evaluate held-out loss every this many steps (0 = only before and after)."})
    max_examples: int = field(default=0, metadata={"help": "Use at most this many training examples (0 = all)."})
    seed: int = field(default=42, metadata={"help": "Random seed (RAFT draws, data order, LoRA init)."})
    bf16: str = field(default="auto", metadata={"help": "bf16 mixed precision: 'auto' (when the CPU/GPU runs bf16 fast), 'on', 'off'."})
    qlora: str = field(default="auto", metadata={"help": "4-bit QLoRA: 'auto' (when CUDA and bitsandbytes are present), 'on', 'off'."})
    gradient_checkpointing: bool = field(default=False, metadata={"help": "Recompute activations in backward: less memory, ~30% slower."})

    def __post_init__(self) -> None:
        def positive(name: str) -> None:
            if getattr(self, name) <= 0:
                raise ConfigError.positive(name, getattr(self, name))

        for name in ("rank", "alpha", "learning_rate", "epochs", "max_seq_len", "batch_size", "grad_accum", "save_steps"):
            positive(name)
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError.out_of_range("dropout", self.dropout, "[0, 1)")
        if not 0.0 <= self.warmup_ratio < 1.0:
            raise ConfigError.out_of_range("warmup_ratio", self.warmup_ratio, "[0, 1)")
        if not 0.0 <= self.eval_fraction < 1.0:
            raise ConfigError.out_of_range("eval_fraction", self.eval_fraction, "[0, 1)")
        if not 0.0 <= self.p_no_gold <= 1.0:
            raise ConfigError.out_of_range("p_no_gold", self.p_no_gold, "[0, 1]")
        if not 0.0 <= self.self_check <= 1.0:
            raise ConfigError.out_of_range("self_check", self.self_check, "[0, 1]")
        if self.gold_order not in GOLD_ORDERS:
            raise ConfigError.not_one_of("gold_order", self.gold_order, GOLD_ORDERS)
        for name in ("k_distractors", "eval_steps", "max_examples"):
            if getattr(self, name) < 0:
                raise ConfigError.non_negative(name, getattr(self, name))
        if self.max_steps == 0 or self.max_steps < -1:
            raise ConfigError("err.config.max_steps", name="max_steps", value=self.max_steps)
        if self.max_seq_len < 64:
            raise ConfigError.at_least("max_seq_len", self.max_seq_len, 64)
        for name in ("bf16", "qlora"):
            value = str(getattr(self, name)).lower()
            if value in ("true", "1", "yes"):
                value = "on"
            elif value in ("false", "0", "no", "none"):
                value = "off"
            if value not in _ONOFF:
                raise ConfigError.not_one_of(name, getattr(self, name), _ONOFF)
            setattr(self, name, value)
        if not self.modules():
            raise ConfigError("err.train.no_target_modules")

    def modules(self) -> str | list[str]:
        """``target_modules`` as peft wants it: ``"all-linear"`` or a list of names."""
        text = str(self.target_modules).strip()
        if text == "all-linear":
            return text
        return [m.strip() for m in text.split(",") if m.strip()]

    @classmethod
    def for_device(cls, device: str = "cpu", **overrides: Any) -> "LoraTrainConfig":
        """Preset for ``"cpu"`` (the defaults) or ``"cuda"`` (:data:`CUDA_PRESET`: rank 16, 3
        distractors, 2048 tokens, batch 4, 2 epochs), with ``overrides`` applied
        (:meth:`on_device` of the defaults plus ``overrides``)."""
        return cls(**overrides).on_device(device)

    def on_device(self, device: str) -> "LoraTrainConfig":
        """This config for training on ``device``: on CUDA, each field of :data:`CUDA_PRESET` still at
        its CPU default takes the preset's value (a field set by the user keeps it); elsewhere
        unchanged. "Melhorar o Oráculo" trains with it, so a GPU gets GPU batch sizes without
        touching "Avançado"."""
        if not device.startswith("cuda"):
            return self
        defaults = type(self)()
        changed = {k: v for k, v in CUDA_PRESET.items() if getattr(self, k) == getattr(defaults, k)}
        return replace(self, **changed)


@dataclass
class LoraResult:
    """Outcome of :func:`train_lora`.

    ``status`` is ``"completed"`` (adapter saved in ``adapter_dir``) or ``"cancelled"``
    (stopped by ``should_stop``; a checkpoint in ``checkpoint_dir`` lets it resume).
    ``info`` is the content of ``train.json`` (:meth:`oracle.training.card.RunCard.to_dict`;
    partial when cancelled).
    """

    name: str
    status: str
    adapter_dir: str | None
    checkpoint_dir: str
    info: dict[str, Any]
    model: Any = None
    """The trained ``PeftModel`` when ``train_lora(return_model=True)``, else None."""


# --- device and model ------------------------------------------------------------------


def device_name() -> str:
    """Where training runs: the one device policy of inference and training,
    :func:`oracle.models.default_device` (``ORACLE_DEVICE`` if set, else ``"cuda"`` when a GPU is
    visible, else ``"cpu"``)."""
    from oracle import models

    return models.default_device()


def use_bf16(setting: str, device: str) -> bool:
    """Resolve ``"auto"/"on"/"off"``: auto is bf16 when :func:`oracle.models.best_dtype` picks it
    for batched work on ``device`` (CUDA with bf16; a CPU with AVX512-BF16 or AMX;
    ``ORACLE_DTYPE`` overrides)."""
    import torch

    if setting in ("on", "off"):
        return setting == "on"
    from oracle import models

    return models.best_dtype(device) == torch.bfloat16


def use_qlora(setting: str, device: str) -> bool:
    """Resolve ``"auto"/"on"/"off"``: QLoRA needs CUDA and ``bitsandbytes``.

    Raises:
        ConfigError: ``"on"`` without CUDA or bitsandbytes.
    """
    import importlib.util

    available = device.startswith("cuda") and importlib.util.find_spec("bitsandbytes") is not None
    if setting == "on" and not available:
        raise ConfigError("err.train.qlora_unavailable")
    return available and setting != "off"


def resolve_base(name: str) -> str:
    """A loadable folder for a generator name: an existing folder as is, else
    :func:`oracle.models.resolve_generator` (raises ModelNotFoundError)."""
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser())
    from oracle import models

    return models.resolve_generator(name)


def load_for_training(path: str, bf16: bool, qlora: bool, device: str):
    """(model, tokenizer) of a causal LM ready for LoRA: bf16 base when ``bf16`` (fp32
    otherwise), 4-bit NF4 on CUDA when ``qlora``, ``use_cache`` off, a pad token set."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    dtype = torch.bfloat16 if bf16 else torch.float32
    if qlora:
        from peft import prepare_model_for_kbit_training
        from transformers import BitsAndBytesConfig

        quant = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=dtype,
        )
        model = AutoModelForCausalLM.from_pretrained(path, quantization_config=quant, dtype=dtype, device_map={"": 0})
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    else:
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype)
        model.to(device)
    model.config.use_cache = False
    return model, tokenizer


def add_lora(model, cfg: LoraTrainConfig):
    """Wrap ``model`` in a peft ``PeftModel`` with a fresh LoRA adapter (``task_type=CAUSAL_LM``).

    Raises:
        ConfigError: none of ``cfg.target_modules`` exists in the model.
    """
    import torch
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(cfg.seed)
    config = LoraConfig(
        r=cfg.rank, lora_alpha=cfg.alpha, lora_dropout=cfg.dropout, target_modules=cfg.modules(),
        bias="none", task_type="CAUSAL_LM",
    )
    try:
        peft_model = get_peft_model(model, config)
    except ValueError as err:
        raise ConfigError("err.train.bad_target_modules", modules=repr(cfg.target_modules), detail=str(err)) from err
    if cfg.gradient_checkpointing:
        peft_model.enable_input_require_grads()
        peft_model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    return peft_model


# --- tokenisation ----------------------------------------------------------------------


def prompt_text(tokenizer, messages: list[dict[str, str]]) -> str:
    """The prompt string exactly as chat renders it (chat template + generation prompt;
    ``role: content`` lines for a tokenizer without a template), see
    :meth:`oracle.llm.TransformersGenerator.prompt_text`."""
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return "\n".join(f"{m['role']}: {m['content']}" for m in messages) + "\nassistant:"


def prompt_ids(tokenizer, messages: list[dict[str, str]]) -> list[int]:
    """Token ids of :func:`prompt_text` (``add_special_tokens=False``, as chat tokenizes it)."""
    return list(tokenizer(prompt_text(tokenizer, messages), add_special_tokens=False)["input_ids"])


def answer_text(tokenizer, messages: list[dict[str, str]], answer: str) -> str:
    """What follows the prompt when the template renders the answer turn (for ChatML:
    ``answer + "<|im_end|>\\n"``); falls back to ``answer + eos`` when the rendered
    conversation does not start with the prompt."""
    prompt = prompt_text(tokenizer, messages)
    if getattr(tokenizer, "chat_template", None):
        full = tokenizer.apply_chat_template(
            messages + [{"role": "assistant", "content": answer}], tokenize=False, add_generation_prompt=False
        )
        if full.startswith(prompt) and answer in full[len(prompt):]:
            return full[len(prompt):]
    return answer + (tokenizer.eos_token or "")


def encode_messages(tokenizer, messages: list[dict[str, str]], answer: str) -> dict[str, list[int]]:
    """``{"input_ids", "labels", "attention_mask"}`` for one example: prompt ids (identical to
    chat's, see :func:`prompt_ids`) + answer ids; labels are ``-100`` on the prompt."""
    p_ids = prompt_ids(tokenizer, messages)
    a_ids = list(tokenizer(answer_text(tokenizer, messages, answer), add_special_tokens=False)["input_ids"])
    ids = p_ids + a_ids
    return {"input_ids": ids, "labels": [-100] * len(p_ids) + a_ids, "attention_mask": [1] * len(ids)}


def encode_example(tokenizer, example: RaftExample, max_seq_len: int) -> dict[str, list[int]] | None:
    """Encode a RAFT example, dropping distractor chunks (last first, never gold) until it
    fits ``max_seq_len`` tokens; ``None`` when even gold-only does not fit. An example built
    from the chunks chat retrieved (no gold) keeps at least its first chunk: an answer is never
    trained on an empty context."""
    hits = list(example.hits)
    gold = set(example.example.gold_chunk_ids)
    while True:
        trial = example
        if len(hits) != len(example.hits):
            trial = _renumbered(example, hits)
        enc = encode_messages(tokenizer, trial.messages(), trial.target)
        if len(enc["input_ids"]) <= max_seq_len:
            return enc
        droppable = [i for i, h in enumerate(hits) if h.chunk.chunk_id not in gold]
        if not droppable or (len(hits) == 1 and not example.dropped_gold):
            return None
        del hits[droppable[-1]]


def _renumbered(example: RaftExample, hits: list) -> RaftExample:
    """``example`` with a subset of its hits, ranks and ``[n]`` markers of the target renumbered."""
    from oracle.schema import Hit

    old_pos = {h.chunk.chunk_id: h.rank for h in example.hits}
    new_hits = [Hit(chunk=h.chunk, score=h.score, rank=i + 1) for i, h in enumerate(hits)]
    mapping = {old_pos[h.chunk.chunk_id]: h.rank for h in new_hits}
    target = re.sub(r"\[(\d+)\]", lambda m: f"[{mapping.get(int(m.group(1)), m.group(1))}]", example.target)
    positions = sorted(mapping[p] for p in example.gold_positions if p in mapping)
    return replace(example, hits=new_hits, target=target, gold_positions=positions)


def encode_all(tokenizer, examples: Sequence[RaftExample], max_seq_len: int) -> tuple[list[dict], int]:
    """Encode every example; returns ``(encoded, n_too_long)``."""
    out, skipped = [], 0
    for ex in examples:
        enc = encode_example(tokenizer, ex, max_seq_len)
        if enc is None:
            skipped += 1
        else:
            out.append(enc)
    return out, skipped


class PadCollator:
    """Pads a list of encoded examples to the longest (right padding): ``input_ids`` with the
    pad id, ``labels`` with -100, ``attention_mask`` with 0. Returns ``[batch, seq]`` tensors."""

    def __init__(self, pad_id: int) -> None:
        self.pad_id = pad_id

    def __call__(self, features: list[dict[str, list[int]]]) -> dict[str, Any]:
        import torch

        width = max(len(f["input_ids"]) for f in features)
        out = {}
        for key, pad in (("input_ids", self.pad_id), ("labels", -100), ("attention_mask", 0)):
            out[key] = torch.tensor([f[key] + [pad] * (width - len(f[key])) for f in features], dtype=torch.long)
        return out


def answer_loss(model, inputs: dict[str, Any], num_items_in_batch: Any = None) -> tuple[Any, Any]:
    """Causal-LM cross-entropy on the answer tokens, projecting only the positions that predict one.

    The loss is the one transformers computes (labels shifted by one, ``-100`` ignored), but
    the output head runs only on the positions whose next token is an answer token: with a
    RAFT prompt of ~700 tokens and an answer of ~40, this skips ~95% of the
    ``[seq, vocab]`` logits (151,936 columns for Qwen2.5), their float32 copy and their
    backward pass. It uses the models' ``logits_to_keep`` argument (a 1-D tensor of positions,
    transformers ``slice_logits_to_keep``).

    Args:
        model: a causal LM (peft-wrapped or not) whose forward accepts ``logits_to_keep``.
        inputs: ``input_ids``, ``attention_mask``, ``labels``: ``[batch, seq]`` (labels -100
            outside the answer; see :class:`PadCollator`).
        num_items_in_batch: answer tokens of the whole accumulated batch (the Trainer's count):
            when given the loss is the sum over this micro-batch divided by it, so gradient
            accumulation averages over tokens exactly as the Trainer's default loss does;
            when None, the mean over this micro-batch's answer tokens.

    Returns:
        ``(loss, outputs)``: a scalar tensor and the model outputs (``logits`` ``[batch, k, vocab]``
        for the ``k`` kept positions).
    """
    import torch
    import torch.nn.functional as F

    labels = inputs["labels"]
    targets = labels[:, 1:]  # position t predicts token t + 1
    keep = (targets != -100).any(dim=0).nonzero().squeeze(-1)  # [k]
    if keep.numel() == 0:  # no answer token (cannot happen with encode_example): a zero loss with a graph
        keep = torch.zeros(1, dtype=torch.long, device=labels.device)
    outputs = model(input_ids=inputs["input_ids"], attention_mask=inputs.get("attention_mask"), logits_to_keep=keep)
    logits = outputs.logits.float()
    picked = targets[:, keep]
    flat_logits, flat_targets = logits.reshape(-1, logits.shape[-1]), picked.reshape(-1)
    if num_items_in_batch is not None:
        loss = F.cross_entropy(flat_logits, flat_targets, ignore_index=-100, reduction="sum")
        loss = loss / num_items_in_batch
    elif bool((flat_targets != -100).any()):
        loss = F.cross_entropy(flat_logits, flat_targets, ignore_index=-100)
    else:
        loss = logits.sum() * 0.0
    return loss, outputs


def answer_loss_trainer(**kwargs: Any):
    """A transformers ``Trainer`` whose loss is :func:`answer_loss` (same value as the default
    causal-LM loss, less output-head work); ``kwargs`` go to ``Trainer``. Import-lazy factory."""
    from transformers import Trainer

    class AnswerLossTrainer(Trainer):
        loss_is_scaled_for_ga = True  # answer_loss divides by the accumulated token count

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            if num_items_in_batch is None and model.training:  # no count given: mean, scaled here
                loss, outputs = answer_loss(model, inputs)
                loss = loss / self.current_gradient_accumulation_steps
            else:
                loss, outputs = answer_loss(model, inputs, num_items_in_batch)
            return (loss, outputs) if return_outputs else loss

    return AnswerLossTrainer(**kwargs)


# --- progress --------------------------------------------------------------------------


def make_callback(log_fn: LogFn | None, should_stop: Callable[[], bool] | None, progress: ProgressCallback | None):
    """A ``transformers.TrainerCallback`` that reports and cancels (import-lazy factory).

    Each optimizer step with a loss calls ``log_fn`` with ``{"step", "total", "loss",
    "eval_loss": None, "tokens_per_s", "eta_s", "time", "epoch", "lr"}`` (``time`` ISO 8601;
    ``tokens_per_s`` counts non-padding input tokens of this session; ``eta_s`` seconds left
    at this session's pace); each evaluation calls it with ``eval_loss`` set. After each step
    ``should_stop()`` is asked: True saves a checkpoint and stops training (cancel), which
    :func:`train_lora` reports as ``"cancelled"``.
    """
    from transformers import TrainerCallback

    class ProgressLogger(TrainerCallback):
        def __init__(self) -> None:
            self.cancelled = False
            self.t0 = time.perf_counter()
            self.step0 = 0
            self.tokens0 = 0

        def on_train_begin(self, args, state, control, **kw):
            self.t0 = time.perf_counter()
            self.step0 = state.global_step
            self.tokens0 = state.num_input_tokens_seen

        def _rates(self, state) -> tuple[float | None, float | None]:
            elapsed = time.perf_counter() - self.t0
            done = state.global_step - self.step0
            tps = (state.num_input_tokens_seen - self.tokens0) / elapsed if elapsed > 0 else None
            eta = elapsed / done * max(0, state.max_steps - state.global_step) if done > 0 else None
            return (round(tps, 2) if tps else None), (round(eta, 1) if eta is not None else None)

        def on_log(self, args, state, control, logs=None, **kw):
            logs = logs or {}
            if "loss" not in logs or log_fn is None:
                return
            tps, eta = self._rates(state)
            log_fn({"step": state.global_step, "total": state.max_steps, "loss": float(logs["loss"]),
                    "eval_loss": None, "tokens_per_s": tps, "eta_s": eta, "time": now_iso(),
                    "epoch": round(float(state.epoch or 0), 4), "lr": logs.get("learning_rate")})

        def on_evaluate(self, args, state, control, metrics=None, **kw):
            if log_fn is None or not metrics:
                return
            mrr = next((float(v) for k, v in metrics.items() if k.endswith("cosine_mrr@10")), None)
            if "eval_loss" not in metrics and mrr is None:
                return
            tps, eta = self._rates(state)
            record = {"step": state.global_step, "total": state.max_steps, "loss": None,
                      "eval_loss": float(metrics["eval_loss"]) if "eval_loss" in metrics else None,
                      "tokens_per_s": tps, "eta_s": eta, "time": now_iso(),
                      "epoch": round(float(state.epoch or 0), 4), "lr": None}
            if mrr is not None:
                record["mrr@10"] = mrr  # embedding fine-tune: validation MRR@10 of this epoch (selects the kept epoch)
            log_fn(record)

        def on_step_end(self, args, state, control, **kw):
            if progress is not None:
                progress(state.global_step, state.max_steps, "lora")
            if should_stop is not None and should_stop():
                self.cancelled = True
                control.should_save = True
                control.should_training_stop = True
            return control

    return ProgressLogger()


# --- training --------------------------------------------------------------------------


def sanitize_name(name: str) -> str:
    """An adapter/job name safe as a folder name: ``[A-Za-z0-9._-]``, no leading dot, <= 80 chars.

    Raises:
        ConfigError: nothing usable left.
    """
    clean = _NAME_RE.sub("-", name.strip()).strip(".-")[:80]
    if not clean:
        raise ConfigError("err.train.bad_name", name=repr(name))
    return clean


def default_name(base_model: str, kind: str = "lora") -> str:
    """``<kind>-<base folder name>-<YYYYmmdd-HHMMSS>``."""
    stem = Path(base_model.rstrip("/")).name or "model"
    return sanitize_name(f"{kind}-{stem}-{time.strftime('%Y%m%d-%H%M%S')}")


def _training_data(workspace: Workspace, cfg: LoraTrainConfig, files: Iterable[str | Path] | None,
                   use_ratings: bool, index_name: str | None, data: TrainingData | None) -> TrainingData:
    """``data`` if given, else the RAFT examples built by :func:`prepare` with ``cfg``'s split and
    distractor settings (hard negatives from the index ``index_name`` when it loads).

    Raises:
        OracleError: ``err.train.no_examples`` when there is no training example.
    """
    if data is None:
        index = hard_negative_index(workspace, index_name)
        data = prepare(workspace, index, files, use_ratings, cfg.eval_fraction, cfg.k_distractors,
                       cfg.p_no_gold, cfg.seed, cfg.max_examples, cfg.cite_sources, cfg.gold_order)
    if not data.train:
        raise OracleError("err.train.no_examples")
    return data


def training_args(cfg: LoraTrainConfig, output_dir: str, bf16: bool, device: str, has_eval: bool, **extra: Any):
    """The ``transformers.TrainingArguments`` of a run (also used by the benchmark)."""
    from transformers import TrainingArguments

    kwargs: dict[str, Any] = dict(
        output_dir=output_dir,
        per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.grad_accum,
        learning_rate=cfg.learning_rate,
        num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps,
        warmup_steps=cfg.warmup_ratio,
        lr_scheduler_type="linear",
        logging_steps=1,
        save_strategy="steps",
        save_steps=cfg.save_steps,
        save_total_limit=2,
        eval_strategy="steps" if has_eval and cfg.eval_steps else "no",
        eval_steps=cfg.eval_steps or None,
        report_to="none",
        disable_tqdm=True,
        use_cpu=not device.startswith("cuda"),
        bf16=bf16,
        seed=cfg.seed,
        data_seed=cfg.seed,
        dataloader_num_workers=0,
        remove_unused_columns=False,
        include_num_input_tokens_seen="non_padding",
        save_safetensors=True,
    )
    kwargs.update(extra)
    import inspect

    accepted = set(inspect.signature(TrainingArguments.__init__).parameters)
    return TrainingArguments(**{k: v for k, v in kwargs.items() if k in accepted})


def _quiet(trainer) -> None:
    """Drop the Trainer's stdout printer: progress goes through ``log_fn`` and logging."""
    from transformers.trainer_callback import PrinterCallback
    from transformers.trainer_callback import ProgressCallback as HFProgress

    for cb in (PrinterCallback, HFProgress):
        trainer.remove_callback(cb)


def last_checkpoint(checkpoint_dir: str | Path) -> str | None:
    """The newest ``checkpoint-<step>`` folder under ``checkpoint_dir``, or None."""
    root = Path(checkpoint_dir)
    if not root.is_dir():
        return None
    found = [(int(p.name.split("-")[-1]), p) for p in root.glob("checkpoint-*") if p.name.split("-")[-1].isdigit()]
    found = [(s, p) for s, p in found if (p / "trainer_state.json").exists()]
    return str(max(found)[1]) if found else None


def train_lora(
    workspace: Workspace,
    base_model: str = FAST_GENERATOR,
    name: str | None = None,
    cfg: LoraTrainConfig | None = None,
    files: Iterable[str | Path] | None = None,
    use_ratings: bool = True,
    index_name: str | None = DEFAULT_INDEX,
    progress: ProgressCallback | None = None,
    log_fn: LogFn | None = None,
    should_stop: Callable[[], bool] | None = None,
    resume: bool = False,
    checkpoint_dir: str | Path | None = None,
    cost_cfg: Any = None,
    data: TrainingData | None = None,
    keep_checkpoints: bool = False,
    return_model: bool = False,
) -> LoraResult:
    """Train a LoRA adapter of ``base_model`` on the workspace's QA pairs and ratings (RAFT).

    Args:
        workspace: data (``data_qa/``), index (hard negatives) and output (``adapters/``).
        base_model: generator name (bundled alias, local folder or hub id).
        name: adapter folder name under ``adapters/`` (default :func:`default_name`).
        cfg: hyper-parameters (default :class:`LoraTrainConfig`).
        files, use_ratings: which data (see :func:`oracle.training.data.load_examples`).
        index_name: index giving chunks and hard negatives; ``None`` or a missing index
            re-chunks the documents and draws random distractors.
        progress: ``progress(step, total, "lora")`` after each optimizer step.
        log_fn: receives progress records (see :func:`make_callback`).
        should_stop: polled after each step; True -> checkpoint + stop (status "cancelled").
        resume: continue from the newest checkpoint in ``checkpoint_dir`` (same data and
            seed rebuild the same examples; the step count continues).
        checkpoint_dir: where checkpoints go (default ``adapters/<name>/checkpoints``; a job
            passes ``jobs/<id>/checkpoints``).
        cost_cfg: :class:`oracle.training.cost.CostConfig` for the bill in ``train.json``.
        data: prepared data (default: :func:`oracle.training.data.prepare` with ``cfg``).
        keep_checkpoints: keep the checkpoints after a completed run.
        return_model: put the trained ``PeftModel`` in ``LoraResult.model`` (tests, notebooks).

    Returns:
        :class:`LoraResult`.

    Raises:
        ConfigError: bad settings.
        OracleError: ``err.train.no_examples`` (no training example), ``err.train.too_long``,
            ``err.train.no_checkpoint`` (``resume`` without a checkpoint).
        ModelNotFoundError: unknown base model.
    """

    from oracle.training import cost

    t_start = time.time()
    cfg = cfg or LoraTrainConfig()
    name = sanitize_name(name) if name else default_name(base_model)
    out_dir = run_dir(workspace, "lora", name)
    ckpt_dir = Path(checkpoint_dir) if checkpoint_dir else out_dir / CHECKPOINTS
    resume_from = last_checkpoint(ckpt_dir) if resume else None
    if resume and resume_from is None:
        raise OracleError("err.train.no_checkpoint", path=str(ckpt_dir))
    device = device_name()
    bf16 = use_bf16(cfg.bf16, device)
    qlora = use_qlora(cfg.qlora, device)

    data = _training_data(workspace, cfg, files, use_ratings, index_name, data)
    base_path = resolve_base(base_model)
    logger.info("lora: base %s (%s), device %s, bf16 %s, qlora %s, %d train / %d eval examples",
                base_model, base_path, device, bf16, qlora, len(data.train), len(data.eval))
    checks = self_check_examples(data.train, cfg.self_check, cfg.seed)
    model, tokenizer = load_for_training(base_path, bf16, qlora, device)
    train_enc, n_long_train = encode_all(tokenizer, list(data.train) + checks, cfg.max_seq_len)
    eval_enc, n_long_eval = encode_all(tokenizer, data.eval, cfg.max_seq_len)
    if not train_enc:
        raise OracleError("err.train.too_long", max_seq_len=cfg.max_seq_len)
    model = add_lora(model, cfg)
    n_trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    n_total = sum(p.numel() for p in model.parameters())

    callback = make_callback(log_fn, should_stop, progress)
    args = training_args(cfg, str(ckpt_dir), bf16, device, bool(eval_enc))
    trainer = answer_loss_trainer(
        model=model, args=args, train_dataset=train_enc, eval_dataset=eval_enc or None,
        data_collator=PadCollator(tokenizer.pad_token_id), callbacks=[callback],
    )
    _quiet(trainer)
    metrics: dict[str, Any] = {}
    state_file = ckpt_dir / "oracle_run.json"
    if resume_from is None and eval_enc:
        metrics["eval_loss_before"] = trainer.evaluate()["eval_loss"]
    elif resume_from is not None and state_file.exists():
        previous = read_json(state_file)
        metrics.update(previous.get("metrics", {}))
        old_files = {f["path"]: f["sha256"] for f in previous.get("data", {}).get("files", [])}
        if old_files != {f["path"]: f["sha256"] for f in data.source.files}:
            logger.warning("lora: the data files changed since the checkpoint; the resumed run trains on the new data")
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    prior_wall = float(read_json(state_file).get("wall_time_s", 0.0)) if resume_from and state_file.exists() else 0.0
    write_json_atomic(state_file, {"name": name, "base_model": base_model, "metrics": metrics,
                                   "data": data.summary(), "config": to_dict(cfg), "wall_time_s": prior_wall})
    t_train = time.perf_counter()
    output = trainer.train(resume_from_checkpoint=resume_from)
    train_s = time.perf_counter() - t_train
    tokens = trainer.state.num_input_tokens_seen
    metrics.update({
        "train_loss": output.training_loss,
        "steps": trainer.state.global_step,
        "max_steps": trainer.state.max_steps,
        "epochs": trainer.state.epoch,
        "tokens_seen": tokens,
        "train_seconds_this_session": round(train_s, 1),
        "n_trainable_params": n_trainable,
        "n_params": n_total,
        "too_long_skipped": n_long_train + n_long_eval,
        "n_self_check": len(checks),
        "n_self_check_no": sum(1 for c in checks if c.dropped_gold),
    })
    card = new_card("lora", name, base_model, base_model_path=base_path, data=data.summary(),
                    hyperparameters=to_dict(cfg), device=device, precision="bf16-autocast" if bf16 else "fp32",
                    qlora=qlora, metrics=metrics, versions=_versions())
    if callback.cancelled:
        note_wall_time(ckpt_dir, time.time() - t_start)
        logger.info("lora: cancelled at step %d; checkpoint in %s", trainer.state.global_step, ckpt_dir)
        return LoraResult(name, "cancelled", None, str(ckpt_dir), card.to_dict(), model if return_model else None)

    if eval_enc:
        metrics["eval_loss"] = trainer.evaluate()["eval_loss"]
    log_history = [h for h in trainer.state.log_history if "loss" in h]
    if log_history:
        metrics["final_loss"] = log_history[-1]["loss"]
    wall = time.time() - t_start
    card.wall_time_s = round(wall + prior_wall, 1)
    card.cost = cost.run_cost(card.wall_time_s, cost_cfg)
    save_adapter(model, tokenizer, out_dir, card)
    if not keep_checkpoints and ckpt_dir.is_dir() and ckpt_dir.resolve() != out_dir.resolve():
        shutil.rmtree(ckpt_dir, ignore_errors=True)
    logger.info("lora: saved %s (eval loss %s -> %s, %.0f s)", out_dir, metrics.get("eval_loss_before"),
                metrics.get("eval_loss"), card.wall_time_s)
    return LoraResult(name, "completed", str(out_dir), str(ckpt_dir), card.to_dict(),
                      model if return_model else None)


def note_wall_time(checkpoint_dir: str | Path, seconds: float) -> None:
    """Add ``seconds`` to the wall time recorded for a run that will be resumed (so the final
    ``train.json`` counts every session)."""
    state_file = Path(checkpoint_dir) / "oracle_run.json"
    if state_file.exists():
        data = read_json(state_file)
        data["wall_time_s"] = float(data.get("wall_time_s", 0.0)) + seconds
        write_json_atomic(state_file, data)


def save_adapter(model, tokenizer, out_dir: Path, card: RunCard) -> None:
    """Write peft files + tokenizer + the run card (``train.json``, :meth:`RunCard.save`, last) into
    ``out_dir`` atomically: everything goes to a sibling ``.<name>.<8 hex>.tmp`` first, then is
    swapped in whole (:func:`oracle.schema.replace_folder`; ``out_dir``'s ``checkpoints/`` kept, if any)."""
    out_dir = Path(out_dir)

    def write(tmp: Path) -> None:
        model.save_pretrained(str(tmp))
        tokenizer.save_pretrained(str(tmp))
        card.save(tmp)
        ckpt = out_dir / CHECKPOINTS
        if ckpt.is_dir():
            shutil.move(str(ckpt), str(tmp / CHECKPOINTS))

    replace_folder(out_dir, write)


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {}
    for pkg in ("torch", "transformers", "peft", "sentence-transformers"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    from oracle import __version__

    out["oracle"] = __version__
    return out


# --- estimate ----------------------------------------------------------------------------


def measure_step(model, encoded: Sequence[dict], bf16: bool, device: str, n: int = 2) -> float:
    """Training throughput in tokens/s: forward + backward (under bf16 autocast when ``bf16``)
    on ``n`` examples one at a time, the first as warm-up (not timed). Gradients are cleared."""
    import torch

    collate = PadCollator(0)
    samples = list(encoded[: max(2, n)])
    if not samples:
        raise ConfigError("err.train.no_examples")
    model.train()
    timed_tokens, timed_s = 0, 0.0
    for i, sample in enumerate(samples):
        batch = {k: v.to(device) for k, v in collate([sample]).items()}
        t0 = time.perf_counter()
        with torch.autocast(device_type="cuda" if device.startswith("cuda") else "cpu", dtype=torch.bfloat16, enabled=bf16):
            loss, _ = answer_loss(model, batch)
        loss.backward()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        if i > 0 or len(samples) == 1:
            timed_s += time.perf_counter() - t0
            timed_tokens += len(sample["input_ids"])
    model.zero_grad(set_to_none=True)
    return timed_tokens / timed_s


def estimate_lora(
    workspace: Workspace,
    base_model: str = FAST_GENERATOR,
    cfg: LoraTrainConfig | None = None,
    files: Iterable[str | Path] | None = None,
    use_ratings: bool = True,
    index_name: str | None = DEFAULT_INDEX,
    cost_cfg: Any = None,
    data: TrainingData | None = None,
) -> dict[str, Any]:
    """Estimate a run before starting it: builds the data, loads the model, times two real
    training steps (:func:`measure_step`) and extrapolates (:func:`oracle.training.cost.estimate`).

    Returns:
        ``{"tokens", "steps", "seconds", "usd", "brl", "usd_brl", "rate_source", "tokens_per_s",
        "n_train", "n_eval", "avg_tokens"}``.

    Raises:
        ConfigError: no training example.
    """
    from oracle.training import cost

    cfg = cfg or LoraTrainConfig()
    device = device_name()
    bf16 = use_bf16(cfg.bf16, device)
    data = _training_data(workspace, cfg, files, use_ratings, index_name, data)
    t0 = time.perf_counter()
    model, tokenizer = load_for_training(resolve_base(base_model), bf16, use_qlora(cfg.qlora, device), device)
    load_s = time.perf_counter() - t0
    train_enc, _ = encode_all(tokenizer, list(data.train) + self_check_examples(data.train, cfg.self_check, cfg.seed),
                              cfg.max_seq_len)
    eval_enc, _ = encode_all(tokenizer, data.eval, cfg.max_seq_len)
    model = add_lora(model, cfg)
    tps = measure_step(model, train_enc, bf16, device)
    n_tokens = sum(len(e["input_ids"]) for e in train_enc)
    n_eval_tokens = sum(len(e["input_ids"]) for e in eval_enc)
    epochs = cfg.epochs
    if cfg.max_steps > 0:  # max_steps overrides epochs, as in the Trainer
        per_epoch = max(1, math.ceil(math.ceil(len(train_enc) / cfg.batch_size) / cfg.grad_accum))
        epochs = cfg.max_steps / per_epoch
    est = cost.estimate(n_tokens, len(train_enc), tps, epochs, cfg.batch_size, cfg.grad_accum,
                        n_eval_tokens=n_eval_tokens, overhead_s=load_s + 10.0, cfg=cost_cfg)
    est.update({"n_train": len(train_enc), "n_eval": len(eval_enc),
                "avg_tokens": round(n_tokens / max(1, len(train_enc)), 1), "device": device,
                "precision": "bf16-autocast" if bf16 else "fp32"})
    return est
