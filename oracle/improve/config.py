"""The parameters of one "Melhorar o Oráculo" run: :class:`ImproveConfig` (the job's typed spec).

The dataclass *is* the job parameter set (issue 9, typed job specs): :func:`oracle.improve.start`
submits an :class:`ImproveJob` holding it (``job.json`` params ``{"config": ImproveConfig.to_dict()}``)
and the worker rebuilds it with :meth:`ImproveJob.from_params` (:meth:`ImproveConfig.from_dict`).
The embedder and LoRA hyper-parameters are the existing config classes, nested
(:class:`oracle.training.embedding.EmbedTrainConfig`, :class:`oracle.training.lora.LoraTrainConfig`);
their held-out share is forced to :attr:`ImproveConfig.eval_fraction`, so the three stages and the
before/after evaluation hold out the same questions (:func:`oracle.training.data.split_of`).

No secret is ever part of it: an OpenAI-compatible server's key is read from ``OPENAI_API_KEY``
in the process that generates.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from oracle.config import DEFAULT_GENERATOR, DEFAULT_INDEX, FAST_GENERATOR, to_dict
from oracle.errors import ConfigError
from oracle.jobs.spec import JobSpec

STAGES = ("pairs", "embedder", "generator", "evaluate")
"""The stages of a run, in order: training questions, embedder fine-tune (gated), generator LoRA,
before/after evaluation and promotion."""

TARGET_STYLES = ("quote_first", "sentence")
"""How a LoRA target carries its pair's verified quote (:func:`oracle.improve.stages.add_quotes`):
``quote_first``, the quote line then the teacher's answer (:func:`oracle.improve.stages.quoted_target`);
``sentence``, the quoted sentence itself is the answer, with its citation
(:func:`oracle.improve.stages.sentence_target`)."""

DEFAULT_MAX_CHUNKS = 100
"""Chunks per document that get training questions by default. On 2 CPU cores 100 chunks took
32.5 min of a 1 h 11 min run on the Ubuntu packaging guide (session 10) and 1 h 17 min of a 2 h 01 min
run on the 104-page Debian Edu manual from the app (session 12; ~33 s per chunk when nothing else ran,
bench/RESULTS.md). Every chunk of that manual (254) would take about 2.5 times as long."""

ROUND_TRIP_K = 0
"""Stage 1 keeps a pair only when the chat's retriever puts its passage in this many hits for its
question (:func:`oracle.improve.pairs.retrieves_own_passage`); 0 turns the check off."""

TEACHER_CANDIDATES = (DEFAULT_GENERATOR, FAST_GENERATOR)
"""Bundled generators that may write the training questions, strongest first
(:func:`strongest_generator`)."""


def _embed_default():
    from oracle.training.embedding import EmbedTrainConfig

    return EmbedTrainConfig()


def _lora_default():
    from oracle.training.lora import LoraTrainConfig

    return LoraTrainConfig()


@dataclass
class ImproveConfig:
    """Everything one run of the pipeline needs; every field has help text and is validated.

    Raises:
        ConfigError: a value out of range (``__post_init__``), or an unknown stage name.
    """

    teacher: str = field(
        default="",
        metadata={"help": "Generator that writes the training questions (the teacher): a bundled name, a folder, "
                          "or openai:<model> for an OpenAI-compatible server (key in OPENAI_API_KEY). Empty: the "
                          "strongest available (openai:<ORACLE_TEACHER_MODEL> when OPENAI_BASE_URL is set, else "
                          "the bundled 1.5B when installed, else the 0.5B)."},
    )
    base_url: str = field(
        default="",
        metadata={"help": "Base URL of the OpenAI-compatible server of an openai:<model> teacher (vLLM, Ollama, "
                          "llama.cpp server); empty: OPENAI_BASE_URL."},
    )
    concurrency: int = field(
        default=4,
        metadata={"help": "Requests sent at the same time to an OpenAI-compatible teacher (a local model "
                          "answers one request at a time whatever this says)."},
    )
    max_chunks: int = field(
        default=DEFAULT_MAX_CHUNKS,
        metadata={"help": "Chunks per document that get questions, spread evenly over the whole document "
                          "(0 = every chunk). Noise chunks (tables of contents, page headers) are never used. "
                          "The teacher's time grows with it: 20-35 s per chunk for the bundled 1.5B on "
                          "llama.cpp, 2 CPU cores."},
    )
    pairs_per_chunk: int = field(default=2, metadata={"help": "Question/answer pairs asked for per chunk."})
    max_new_tokens: int = field(default=384, metadata={"help": "Token budget of one question-writing reply."})
    temperature: float = field(default=0.3, metadata={"help": "Sampling temperature of the teacher (0 = greedy)."})
    max_retries: int = field(default=1, metadata={"help": "Extra attempts when a reply is not valid JSON."})
    round_trip_k: int = field(
        default=ROUND_TRIP_K,
        metadata={"help": "A training question is kept only when the chat's search, asked that question, "
                          "finds its passage among this many chunks (round-trip consistency; 0 = off). "
                          "Questions that fail are mostly ones that cannot be understood alone (\"Qual é o "
                          "nome do livro?\")."},
    )
    min_chunk_tokens: int = field(default=40, metadata={"help": "Chunks shorter than this (tokens) get no questions."})
    use_existing_pairs: bool = field(
        default=True,
        metadata={"help": "Also train on the question/answer pairs already in data_qa/ (the Perguntas e respostas "
                          "tab), besides the ones this run writes."},
    )
    reviewed_only: bool = field(
        default=False,
        metadata={"help": "Train only on pairs a person approved in review (leaves out unreviewed generated pairs, "
                          "this run's too)."},
    )
    use_ratings: bool = field(
        default=True,
        metadata={"help": "Train on answers rated valid in Chat (a corrected answer replaces the model's)."},
    )
    eval_fraction: float = field(
        default=0.2,
        metadata={"help": "Share of questions held out (never trained on) to measure before and after, in (0, 1)."},
    )
    eval_limit: int = field(
        default=40,
        metadata={"help": "Questions answered in the before/after evaluation, per question file (held-out "
                          "questions, and each gold set: at most this many answerable and this many unanswerable, "
                          "spread over the file; 0 = all). Each costs one answer of each model."},
    )
    n_offtopic: int = field(
        default=8,
        metadata={"help": "Questions the documents cannot answer, added to the evaluation to measure abstention "
                          "(correct refusals)."},
    )
    gold: list[str] = field(
        default_factory=list,
        metadata={"help": "Gold sets (JSONL, bench/gold/README.md) of the user's documents, scored before and after "
                          "besides the held-out questions."},
    )
    index_name: str = field(default=DEFAULT_INDEX, metadata={"help": "The chat's index (chunks, hard negatives)."})
    student: str = field(
        default=FAST_GENERATOR,
        metadata={"help": "The fast chat model that gets the LoRA adapter (the student)."},
    )
    stages: list[str] = field(
        default_factory=lambda: list(STAGES),
        metadata={"help": "Stages to run, among pairs, embedder, generator, evaluate (order is fixed)."},
    )
    min_mrr_gain: float = field(
        default=0.1,
        metadata={"help": "The tuned embedder is kept only when its validation MRR@10 beats the base model's by "
                          "more than this. The validation questions are the teacher's, easier than a "
                          "person's, and few (4-10 in a 100-chunk run): gains of 0.028, 0.042 and 0.075 "
                          "on them were losses of 0.004-0.025 on the Debian Edu gold set, while 0.159 was a "
                          "gain of 0.048 on the Ubuntu one (bench/RESULTS.md, sessions 15 and 26)."},
    )
    min_keyfact_gain: float = field(
        default=0.0,
        metadata={"help": "Promotion needs the key-fact accuracy after to beat the one before by more than this "
                          "(and abstention not to fall)."},
    )
    distill: bool = field(
        default=False,
        metadata={"help": "LoRA targets: the teacher's own answer to the chat prompt of each training example "
                          "(sequence-level distillation), kept when it holds the pair's key facts and no "
                          "unsupported figure; otherwise the pair's answer. Costs one teacher answer per example."},
    )
    target_style: str = field(
        default="quote_first",
        metadata={"help": "LoRA targets (oracle.improve.config.TARGET_STYLES): quote_first, the verified quote "
                          "line then the pair's answer; sentence, the verified quote itself is the answer, "
                          "with its citation."},
    )
    seed: int = field(default=42, metadata={"help": "Random seed (chunk sampling, RAFT draws, training)."})
    embedding: Any = field(default_factory=_embed_default,
                           metadata={"help": "Embedder fine-tune hyper-parameters (EmbedTrainConfig)."})
    lora: Any = field(default_factory=_lora_default, metadata={"help": "LoRA hyper-parameters (LoraTrainConfig)."})

    def __post_init__(self) -> None:
        from oracle.training.embedding import EmbedTrainConfig
        from oracle.training.lora import LoraTrainConfig

        for name in ("concurrency", "pairs_per_chunk", "max_new_tokens"):
            if getattr(self, name) <= 0:
                raise ConfigError.positive(name, getattr(self, name))
        for name in ("max_chunks", "max_retries", "round_trip_k", "min_chunk_tokens", "eval_limit",
                     "n_offtopic", "min_mrr_gain", "min_keyfact_gain", "temperature"):
            if getattr(self, name) < 0:
                raise ConfigError.non_negative(name, getattr(self, name))
        if not 0.0 < self.eval_fraction < 1.0:
            raise ConfigError.out_of_range("eval_fraction", self.eval_fraction, "(0, 1)")
        if self.target_style not in TARGET_STYLES:
            raise ConfigError.not_one_of("target_style", self.target_style, TARGET_STYLES)
        unknown = [s for s in self.stages if s not in STAGES]
        if unknown or not self.stages:
            raise ConfigError.not_one_of("stages", self.stages, STAGES)
        self.stages = [s for s in STAGES if s in self.stages]
        self.gold = [str(g) for g in self.gold or []]
        if isinstance(self.embedding, dict):
            self.embedding = EmbedTrainConfig.from_dict(self.embedding)
        if isinstance(self.lora, dict):
            self.lora = LoraTrainConfig.from_dict(self.lora)
        # one held-out split for the three stages and the evaluation
        self.embedding.eval_fraction = self.eval_fraction
        self.lora.eval_fraction = self.eval_fraction
        self.lora.seed = self.embedding.seed = self.seed

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (nested configs as dicts): the ``params`` of the job."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["embedding"] = to_dict(self.embedding)
        out["lora"] = to_dict(self.lora)
        out["gold"] = list(self.gold)
        out["stages"] = list(self.stages)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImproveConfig:
        """Rebuild from :meth:`to_dict` (unknown keys ignored, so an older ``job.json`` still reads)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class ImproveJob(JobSpec):
    """A run of the staged pipeline (kind ``improve``: :func:`oracle.improve.runs.run_job`).

    Attributes:
        config: the run's :class:`ImproveConfig`.
    """

    kind: ClassVar[str] = "improve"
    nested: ClassVar = {"config": lambda data: ImproveConfig.from_dict(data)}

    config: ImproveConfig = field(default_factory=ImproveConfig)


def with_settings(cfg: ImproveConfig, settings: dict[str, Any]) -> ImproveConfig:
    """A copy of ``cfg`` with ``settings`` applied: the one place where the tab's "Avançado" choices
    become the main button's run.

    Args:
        cfg: the run's parameters before (unchanged).
        settings: ``{path: value}``, a path a field of :class:`ImproveConfig` (``"eval_fraction"``,
            ``"use_ratings"``, ``"student"``...) or of its nested configs (``"lora.rank"``,
            ``"embedding.epochs"``...). A value is converted to the field's type (``4.0`` -> ``4``
            for an int field, as number widgets send floats); None leaves the field as it is.

    Returns:
        A new, validated :class:`ImproveConfig` (the held-out share of the nested configs follows
        ``eval_fraction``, as always).

    Raises:
        ConfigError: an unknown path, a value of the wrong kind or out of range.
        OracleError: ``improve.err.eval_fraction``: no question held out (the before/after
            comparison needs some).
    """
    from oracle.errors import OracleError

    data = cfg.to_dict()
    for path, value in settings.items():
        if value is None:
            continue
        *parents, name = path.split(".")
        target = data
        for part in parents:
            target = target.get(part) if isinstance(target, dict) else None
        if not isinstance(target, dict) or name not in target:
            raise ConfigError("err.config.unknown_setting", name=path)
        target[name] = _as_type(path, value, target[name])
    if float(data["eval_fraction"]) <= 0.0:
        raise OracleError("improve.err.eval_fraction")
    return ImproveConfig.from_dict(data)


def _as_type(path: str, value: Any, current: Any) -> Any:
    """``value`` converted to the type of ``current`` (bool, int, float, str); ConfigError when it
    does not convert (``2.5`` for an int, a word for a number)."""
    try:
        if isinstance(current, bool):
            return bool(value)
        if isinstance(current, int):
            number = float(value)
            if not number.is_integer():
                raise ValueError(value)
            return int(number)
        if isinstance(current, float):
            return float(value)
        if isinstance(current, str):
            return str(value).strip()
    except (TypeError, ValueError):
        kind = next(k for k in (bool, int, float, str) if isinstance(current, k)).__name__  # bool before int
        raise ConfigError(f"err.config.type.{kind}", name=path, value=repr(value)) from None
    return value


def strongest_generator(cfg: ImproveConfig) -> str:
    """The teacher's generator spec: ``cfg.teacher`` when set; else ``openai:<ORACLE_TEACHER_MODEL>``
    when a server is configured (``cfg.base_url`` or ``OPENAI_BASE_URL``) and names a model; else the
    first of :data:`TEACHER_CANDIDATES` whose packages are installed (the 1.5B, else the 0.5B), on
    llama.cpp when it can run it (:func:`teacher_engine`)."""
    if cfg.teacher:
        return cfg.teacher
    model = os.environ.get("ORACLE_TEACHER_MODEL", "")
    if model and (cfg.base_url or os.environ.get("OPENAI_BASE_URL")):
        return f"openai:{model}"
    from importlib import metadata

    from oracle import models

    for name in TEACHER_CANDIDATES:
        spec = models.GENERATORS.get(name)
        if spec is None:
            continue
        try:
            for f in spec.files:
                metadata.distribution(f.package)
        except metadata.PackageNotFoundError:
            continue
        return teacher_engine(name)
    return teacher_engine(FAST_GENERATOR)


def teacher_engine(name: str) -> str:
    """``"llamacpp:<name>"`` when llama.cpp can run bundled generator ``name`` (a GGUF model,
    ``llama-cpp-python`` installed) and ``ORACLE_ENGINE`` does not ask for transformers; else ``name``.

    The chat's engine follows the first token (:func:`oracle.llm.local_engine`), which on a CPU with
    AMX is the transformers path's. A teacher's reply is a JSON list of a few hundred tokens, so
    decoding decides: on that CPU the 1.5B wrote a 2-pair reply in 23.4 s on llama.cpp against 43.9 s
    on transformers (1.88x; ``bench/bench_teacher_engine.py``, bench/RESULTS.md)."""
    from oracle.llm import local_engine

    if os.environ.get("ORACLE_ENGINE", "").strip().lower() == "transformers":
        return name
    return f"llamacpp:{name}" if local_engine(name, engine="llama.cpp") == "llama.cpp" else name
