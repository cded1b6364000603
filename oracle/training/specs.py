"""The typed parameters of each job kind (:class:`oracle.jobs.JobSpec` subclasses) and their registry.

The app's "Ajuste fino" tab and the command line build these objects and hand them to
:func:`oracle.jobs.submit`, which writes :meth:`~oracle.jobs.JobSpec.to_params` into
``job.json``; the job process (:mod:`oracle.training.run`) rebuilds the same class with
:func:`spec_from_params` and passes it to the kind's runner. The config dataclasses are the
parameters: :class:`~oracle.training.lora.LoraTrainConfig`,
:class:`~oracle.training.embedding.EmbedTrainConfig`, :class:`~oracle.training.cost.CostConfig`
and :class:`~oracle.improve.config.ImproveConfig` ride nested, validated when the spec is built.

The JSON shape of every kind's ``params`` is the one the plain dicts had, so a ``job.json``
written before the specs existed still reads. Importing this module loads no heavy library.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from oracle.config import DEFAULT_INDEX
from oracle.errors import JobError
from oracle.improve.config import ImproveJob
from oracle.jobs.spec import JobSpec
from oracle.training.cost import CostConfig
from oracle.training.embedding import EmbedTrainConfig
from oracle.training.lora import LoraTrainConfig


def _cost(data: dict[str, Any]) -> CostConfig:
    """A :class:`CostConfig` from its dict (unknown keys ignored: an older ``job.json`` still reads)."""
    known = CostConfig.__dataclass_fields__
    return CostConfig(**{k: v for k, v in data.items() if k in known})


@dataclass
class LoraJob(JobSpec):
    """A LoRA run of the generator (kind ``lora``): :func:`oracle.training.lora.train_lora`'s arguments.

    Attributes:
        base_model: the generator to adapt: a bundled name, a local folder or a hub id.
        name: the adapter's name (``adapters/<name>/``); None: one derived from the base model.
        files: QA files to train on (absolute paths); None: every ``data_qa/*.qa.jsonl``;
            ``[]``: the ratings only.
        use_ratings: add the rated answers (``data_qa/validated.jsonl``) to the examples.
        index_name: the index whose chunks give the RAFT distractors.
        config: the hyper-parameters.
        cost: prices for the cost estimate (None: :class:`CostConfig`'s defaults and environment).
    """

    kind: ClassVar[str] = "lora"
    nested: ClassVar = {"config": LoraTrainConfig.from_dict, "cost": _cost}

    base_model: str
    name: str | None = None
    files: list[str] | None = None
    use_ratings: bool = True
    index_name: str = DEFAULT_INDEX
    config: LoraTrainConfig = field(default_factory=LoraTrainConfig)
    cost: CostConfig | None = None


@dataclass
class EstimateJob(LoraJob):
    """The time and cost of the LoRA run :class:`LoraJob` describes, from two real training steps
    (kind ``estimate``: :func:`oracle.training.lora.estimate_lora`); ``name`` is not used."""

    kind: ClassVar[str] = "estimate"


@dataclass
class EmbeddingJob(JobSpec):
    """A fine-tune of the retriever's embedder (kind ``embedding``: :func:`oracle.training.embedding.train_embedder`).

    Attributes:
        base_embedder: the embedder to tune (bundled name, folder, hub id); None: the index's own.
        name: the tuned model's name (``adapters/<name>/``); None: one derived from the base.
        files, use_ratings, index_name: the training data, as in :class:`LoraJob`.
        config: the hyper-parameters.
    """

    kind: ClassVar[str] = "embedding"
    nested: ClassVar = {"config": EmbedTrainConfig.from_dict}

    base_embedder: str | None = None
    name: str | None = None
    files: list[str] | None = None
    use_ratings: bool = True
    index_name: str = DEFAULT_INDEX
    config: EmbedTrainConfig = field(default_factory=EmbedTrainConfig)


@dataclass
class ReindexJob(JobSpec):
    """Re-embed an index's chunks with another embedder (kind ``reindex``: :func:`oracle.training.embedding.reindex`).

    Attributes:
        embedder: the embedder (a folder, e.g. a tuned one in ``adapters/``, or a name).
        index_name: the index whose chunks are re-embedded.
        target_name: the new index's name; None: replace ``index_name`` in place.
    """

    kind: ClassVar[str] = "reindex"

    embedder: str
    index_name: str = DEFAULT_INDEX
    target_name: str | None = None


@dataclass
class MergeJob(JobSpec):
    """Merge a LoRA adapter into its base model (kind ``merge``: :func:`oracle.training.export.merge_adapter`).

    Attributes:
        adapter_dir: the adapter's folder.
        output_dir: where the merged model is written.
        base_model: the base model; None: the one the adapter names.
    """

    kind: ClassVar[str] = "merge"

    adapter_dir: str
    output_dir: str
    base_model: str | None = None


@dataclass
class SelftestJob(JobSpec):
    """A job that counts (kind ``selftest``): exercises the job machinery in tests in about a second.

    Attributes:
        steps: steps to count to; each writes a checkpoint and a log record.
        sleep_s: seconds slept per step.
        fail_at: the step at which it raises (None: never).
    """

    kind: ClassVar[str] = "selftest"

    steps: int = 5
    sleep_s: float = 0.05
    fail_at: int | None = None


SPECS: dict[str, type[JobSpec]] = {
    cls.kind: cls for cls in (LoraJob, EstimateJob, EmbeddingJob, ReindexJob, MergeJob, SelftestJob, ImproveJob)
}
"""Job kind -> its spec class; the same names as :data:`oracle.jobs.KINDS`."""


def spec_from_params(kind: str, params: dict[str, Any]) -> JobSpec:
    """The spec of a ``job.json``: its ``kind``'s class rebuilt from its ``params``.

    Raises:
        JobError: unknown kind, or params that do not make a spec of it (a required field
            missing, a wrong type).
        oracle.errors.ConfigError: a nested config's value is out of range.
    """
    cls = SPECS.get(kind)
    if cls is None:
        raise JobError("err.job.unknown_kind", kind=kind, known=", ".join(sorted(SPECS)))
    try:
        return cls.from_params(params)
    except (TypeError, ValueError) as err:
        raise JobError("err.job.bad_params", kind=kind, detail=str(err)) from None
