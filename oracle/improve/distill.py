"""The teacher's own answers as LoRA targets: sequence-level knowledge distillation (Kim and Rush,
2016, "Sequence-Level Knowledge Distillation") on the RAFT examples of the generator stage.

A RAFT example (:class:`oracle.training.data.RaftExample`) is the chat prompt of a training
question, with its gold chunk among distractors; its target is the answer the teacher wrote when it
made the pair, from the gold chunk alone. Here the teacher answers the example's chat prompt itself,
sources, distractors and all, as the chat would ask it; that answer becomes the target when it can
be trusted: it is not a refusal, it holds every key fact of the pair
(:func:`oracle.improve.stages.keyfacts_of`: what the pair's answer adds to the question and its
quote states), and it has no number or name found in none of its sources
(:func:`oracle.grounding.unsupported_claims`). Otherwise the pair's answer stays. Examples without
their gold chunk keep the not-found target.

The teacher's answers are kept in ``<run>/distilled.jsonl`` (one ``{"key", "answer"}`` per
example, ``answer`` empty when it was not kept), so a resumed stage does not ask again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

DISTILLED_FILE = "distilled.jsonl"


@dataclass
class DistillStats:
    """Counts of :func:`distill_targets`.

    Attributes:
        n_asked: examples the teacher answered (in this call or, read back, earlier in the run).
        n_kept: of them, answers that became the target.
        n_refused: of them, refusals ("não encontrei") or empty answers.
        n_missing_facts: of them, answers missing a key fact of the pair.
        n_unsupported: of them, answers with a number or name in none of their sources.
        n_no_facts: examples whose pair gives no key fact to check (the pair's answer stays).
        seconds: time spent asking the teacher in this call.
    """

    n_asked: int = 0
    n_kept: int = 0
    n_refused: int = 0
    n_missing_facts: int = 0
    n_unsupported: int = 0
    n_no_facts: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def example_key(example: Any) -> str:
    """What identifies a RAFT example across a resume: its question and the chunk ids of its prompt
    in order (the same seed draws the same distractors)."""
    from oracle.training.data import question_key

    return question_key(example.question) + "|" + ",".join(h.chunk.chunk_id for h in example.hits)


def judge(answer: str, facts: list[list[str]], sources: Sequence[str], question: str) -> str:
    """Whether the teacher's ``answer`` can be a target: ``"kept"``, ``"refused"``,
    ``"missing_facts"`` or ``"unsupported"`` (``facts``: the pair's key facts, each a list of
    surfaces; ``sources``: the texts of the prompt's chunks)."""
    from oracle.grounding import contains_fact, unsupported_claims
    from oracle.rag import is_abstention

    if not answer.strip() or is_abstention(answer):
        return "refused"
    if not all(any(contains_fact(answer, s) for s in fact) for fact in facts):
        return "missing_facts"
    if unsupported_claims(answer, sources, question):
        return "unsupported"
    return "kept"


def distill_targets(
    examples: Sequence[Any],
    teacher: Any,
    pair_facts: dict[str, list[list[str]]],
    run_dir: str | Path,
    max_new_tokens: int = 256,
    progress: Callable[[int, int, str], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> DistillStats:
    """Replace the targets of ``examples`` by the teacher's answers where they pass :func:`judge`.

    Args:
        examples: RAFT examples (:class:`oracle.training.data.RaftExample`), changed in place
            (``target``); those without their gold chunk (``dropped_gold``) or without gold
            positions are left alone.
        teacher: a generator (``generate(messages, max_new_tokens, temperature)``), asked greedily.
        pair_facts: ``{question_key: key facts}`` of the training pairs.
        run_dir: where ``distilled.jsonl`` keeps the answers (read first: a resume asks nothing twice).
        max_new_tokens: token budget of one answer (the chat's default).
        progress: ``progress(done, total, "distill")`` after each example.
        should_stop: polled before each question; True stops early (the answers so far are kept).

    Returns:
        :class:`DistillStats`.

    Raises:
        GenerationError: the teacher failed.
    """
    import time

    from oracle.schema import append_jsonl, iter_jsonl
    from oracle.training.data import question_key

    path = Path(run_dir) / DISTILLED_FILE
    done: dict[str, dict[str, str]] = {r["key"]: r for r in iter_jsonl(path)} if path.exists() else {}
    todo = [ex for ex in examples if ex.gold_positions and not ex.dropped_gold]
    stats = DistillStats()
    start = time.perf_counter()
    for i, ex in enumerate(todo, start=1):
        facts = pair_facts.get(question_key(ex.question)) or []
        if not facts:
            stats.n_no_facts += 1
            continue
        key = example_key(ex)
        if key not in done:
            if should_stop is not None and should_stop():
                break
            answer = teacher.generate(ex.messages(), max_new_tokens=max_new_tokens, temperature=0.0).strip()
            verdict = judge(answer, facts, [h.chunk.text for h in ex.hits], ex.question)
            done[key] = {"key": key, "answer": answer if verdict == "kept" else "", "verdict": verdict}
            append_jsonl(path, [done[key]])
        record = done[key]
        stats.n_asked += 1
        verdict = record.get("verdict") or ("kept" if record.get("answer") else "refused")
        setattr(stats, f"n_{verdict}", getattr(stats, f"n_{verdict}") + 1)
        if record.get("answer"):
            ex.target = record["answer"]
        if progress is not None:
            progress(i, len(todo), "distill")
    stats.seconds = round(time.perf_counter() - start, 1)
    logger.info("distill: %s", stats.to_dict())
    return stats
