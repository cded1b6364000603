"""Fine-tuning: data (split, ratings, RAFT), LoRA training (tiny LM), embedder fine-tune (tiny
embedder), export, cost. Offline and fast: tiny models built from config (tests/tiny_lm.py,
tests/tiny_embedder.py)."""

from __future__ import annotations

import http.server
import json
import threading
from pathlib import Path

import pytest
from tiny_lm import tiny_lm_dir  # noqa: F401 - fixture

from oracle import rag
from oracle.config import Workspace
from oracle.errors import ConfigError, OracleError
from oracle.schema import Chunk, Citation, Hit, QAPair, Rating, append_jsonl
from oracle.training import cost, data
from oracle.training.lora import LoraTrainConfig

WORDS = "rede senha usuário pacote sistema arquivo documento linux debian pergunta".split()


# --- helpers -------------------------------------------------------------------------------


def make_chunks(n: int = 30, doc_id: str = "manual-0001") -> list[Chunk]:
    return [
        Chunk(
            chunk_id=f"{doc_id}:{i * 100}:{i:08x}", doc_id=doc_id, doc_name="manual.pdf",
            text=f"Sobre {WORDS[i % 10]} e {WORDS[(i * 3) % 10]}: o valor do item {i} é {i * 7}.",
            page_start=i + 1, page_end=i + 1, char_start=i * 100, char_end=i * 100 + 60,
        )
        for i in range(n)
    ]


def make_pairs(chunks: list[Chunk]) -> list[QAPair]:
    return [
        QAPair(question=f"Qual é o valor do item {i} sobre {WORDS[i % 10]}?", answer=f"O valor é {i * 7}.",
               doc_id=c.doc_id, doc_name=c.doc_name, chunk_id=c.chunk_id, page=c.page_start, language="pt",
               generator="fake")
        for i, c in enumerate(chunks)
    ]


class WordIndex:
    """A retriever by word overlap (``search``/``search_batch``/``chunks``), no model needed."""

    def __init__(self, chunks: list[Chunk]) -> None:
        self.chunks = chunks
        self.name = "words"

    def search_batch(self, queries, top_k=4, hybrid=False):
        out = []
        for q in queries:
            words = set(q.lower().replace("?", "").split())
            ranked = sorted(self.chunks, key=lambda c: (-len(words & set(c.text.lower().split())), c.chunk_id))
            out.append([Hit(chunk=c, score=0.9, rank=i + 1) for i, c in enumerate(ranked[:top_k])])
        return out

    def search(self, query, top_k=4, hybrid=False):
        return self.search_batch([query], top_k)[0]


def build_workspace(ws: Workspace, n: int = 30, embedder: str | None = None) -> list[Chunk]:
    """QA pairs in data_qa/ and, when ``embedder`` is given, a real index 'default' built with it."""
    chunks = make_chunks(n)
    append_jsonl(ws.qa_file("manual-0001"), make_pairs(chunks))
    if embedder:
        from oracle.index import VectorIndex

        index = VectorIndex.create(embedder, name="default")
        index.add(chunks)
        index.save(ws.index_dir("default"))
    return chunks


def tiny_cfg(**kw) -> LoraTrainConfig:
    base = dict(rank=4, alpha=8, max_steps=3, grad_accum=1, batch_size=1, save_steps=100, bf16="off",
                max_seq_len=512, k_distractors=2, eval_fraction=0.2, learning_rate=1e-2, warmup_ratio=0.0)
    base.update(kw)
    return LoraTrainConfig(**base)


# --- config ----------------------------------------------------------------------------------


def test_config_has_help_and_validates():
    from dataclasses import fields

    for f in fields(LoraTrainConfig):
        assert f.metadata.get("help"), f.name
    for bad in ({"rank": 0}, {"dropout": 1.0}, {"p_no_gold": 1.5}, {"eval_fraction": 1.0}, {"bf16": "maybe"},
                {"max_steps": 0}, {"target_modules": " , "}, {"max_seq_len": 10}):
        with pytest.raises(ConfigError):
            LoraTrainConfig(**bad)
    assert LoraTrainConfig(bf16=True).bf16 == "on"
    assert LoraTrainConfig(target_modules="q_proj, v_proj").modules() == ["q_proj", "v_proj"]
    gpu = LoraTrainConfig.for_device("cuda")
    assert gpu.batch_size > LoraTrainConfig().batch_size and gpu.max_seq_len > LoraTrainConfig().max_seq_len


def test_on_a_gpu_settings_left_as_they_are_take_the_gpu_preset():
    """on_device("cuda"): fields at their CPU default take CUDA_PRESET's value, a field the user set
    keeps it (rank 4 here), other fields are untouched; on a CPU nothing changes."""
    from oracle.training.lora import CUDA_PRESET

    mine = LoraTrainConfig(rank=4, epochs=3.0, learning_rate=1e-4)
    assert mine.on_device("cpu") == mine
    gpu = mine.on_device("cuda:1")
    assert (gpu.rank, gpu.epochs, gpu.learning_rate) == (4, 3.0, 1e-4)
    assert gpu.batch_size == CUDA_PRESET["batch_size"] and gpu.max_seq_len == CUDA_PRESET["max_seq_len"]
    assert gpu.alpha == CUDA_PRESET["alpha"] and gpu.k_distractors == CUDA_PRESET["k_distractors"]
    assert LoraTrainConfig().on_device("cuda") == LoraTrainConfig.for_device("cuda")


# --- data --------------------------------------------------------------------------------------


def test_split_is_stable_disjoint_and_monotonic():
    questions = [f"Pergunta número {i}?" for i in range(400)]
    at10 = {q for q in questions if data.split_of(q, 0.1) == "eval"}
    at20 = {q for q in questions if data.split_of(q, 0.2) == "eval"}
    assert 15 <= len(at10) <= 70 and at10 < at20  # ~10%, and raising the fraction only adds questions
    assert {q for q in questions if data.split_of(q, 0.1) == "eval"} == at10  # stable
    # the same question, differently spaced or cased, lands on the same side
    assert all(data.split_of("  " + q.upper() + " ", 0.1) == data.split_of(q, 0.1) for q in questions[:50])
    with pytest.raises(ConfigError):
        data.split_of("x", 1.0)


def test_load_examples_ratings_corrected_invalid_rejected(workspace):
    chunks = make_chunks(4)
    pairs = make_pairs(chunks)
    pairs[3].status = "rejected"
    append_jsonl(workspace.qa_file("manual-0001"), pairs)
    cite = Citation(n=2, doc_id="manual-0001", doc_name="manual.pdf", page=1, snippet="s", chunk_id=chunks[0].chunk_id)
    valid = Rating(question=pairs[0].question, answer="resposta do modelo [2]", valid=True, citations=[cite],
                   corrected_answer="Resposta corrigida.", answer_id="a1")
    kept = Rating(question="Como instalo o pacote?", answer="Use apt [2].", valid=True, citations=[cite], answer_id="a2")
    later_invalid = Rating(question="Pergunta ruim?", answer="errada", valid=True, answer_id="a3",
                           created_at="2026-01-01T00:00:00+00:00")
    append_jsonl(workspace.validated, [valid, kept, later_invalid])
    append_jsonl(workspace.invalid, [Rating(question="Pergunta ruim?", answer="errada", valid=False, answer_id="a3",
                                            created_at="2026-01-02T00:00:00+00:00"),
                                     Rating(question="Outra?", answer="não", valid=False, answer_id="a4")])
    got = data.load_examples(workspace)
    by_q = {e.question: e for e in got.examples}
    assert by_q[pairs[0].question].answer == "Resposta corrigida."  # the person's correction wins over the QA pair
    assert by_q[pairs[0].question].source == "rating"
    assert "Pergunta ruim?" not in by_q and "Outra?" not in by_q  # invalid ratings never train
    assert pairs[3].question not in by_q  # rejected in review
    assert by_q["Como instalo o pacote?"].gold_chunk_ids == [chunks[0].chunk_id]
    assert (got.n_invalid, got.n_rejected, got.n_duplicates) == (1, 1, 1)
    # every file that fed the examples is recorded: invalid.jsonl took "Pergunta ruim?" out
    assert {Path(f["path"]).name for f in got.files} == {"validated.jsonl", "invalid.jsonl", "manual-0001.qa.jsonl"}
    assert all(len(f["sha256"]) == 64 for f in got.files)
    invalid = next(f for f in got.files if f["path"].endswith("invalid.jsonl"))
    assert invalid["n_examples"] == 0 and invalid["n_excluded"] == 1
    assert {Path(f["path"]).name for f in data.load_examples(workspace, use_ratings=False).files} == {
        "manual-0001.qa.jsonl"}  # ratings not read: neither ratings file is listed
    # a rating's [n] markers follow its chunk to the new position
    ex = by_q["Como instalo o pacote?"]
    raft, _ = data.build_raft([ex], {c.chunk_id: c for c in chunks}, k_distractors=3, p_no_gold=0.0, seed=1)
    pos = raft[0].gold_positions[0]
    assert raft[0].hits[pos - 1].chunk.chunk_id == chunks[0].chunk_id
    assert raft[0].target == f"Use apt [{pos}]."


def _rating(question: str, valid: bool, when: str, answer_id: str, *, cited: list[str] = (),
            retrieved: list[str] = (), corrected: str | None = None, answer: str = "resposta do modelo [1]") -> Rating:
    cites = [Citation(n=i + 1, doc_id="manual-0001", doc_name="manual.pdf", page=1, snippet="s", chunk_id=c)
             for i, c in enumerate(cited)]
    return Rating(question=question, answer=answer, valid=valid, citations=cites, corrected_answer=corrected,
                  answer_id=answer_id, retrieved_chunk_ids=list(retrieved), created_at=when)


def test_a_thumbs_down_with_a_correction_trains_on_what_chat_retrieved(workspace):
    from oracle.training.embedding import build_pairs

    chunks = make_chunks(8)
    pool = {c.chunk_id: c for c in chunks}
    shown = [chunks[5].chunk_id, chunks[2].chunk_id, chunks[0].chunk_id]  # chat's rank order
    # only invalid.jsonl exists: a correction trains even when nothing was ever rated 👍
    append_jsonl(workspace.invalid, [
        _rating("Qual é o valor do item 2?", False, "2026-01-01T00:00:00+00:00", "c1", cited=[chunks[0].chunk_id],
                retrieved=shown, corrected="O valor do item 2 é 14."),
        _rating("Outra pergunta?", False, "2026-01-01T00:00:01+00:00", "n1", cited=[chunks[1].chunk_id],
                retrieved=[chunks[1].chunk_id]),  # 👎 without the right answer: nothing to learn
    ])
    got = data.load_examples(workspace, files=[])
    (ex,) = got.examples
    assert (ex.question, ex.answer, ex.source) == ("Qual é o valor do item 2?", "O valor do item 2 é 14.", "rating")
    assert ex.gold_chunk_ids == []  # the wrong answer's citation is no evidence
    assert ex.context_chunk_ids == shown and ex.source_file == "invalid.jsonl"
    assert (got.n_ratings, got.n_corrected, got.n_invalid) == (1, 1, 0)
    (invalid,) = got.files
    assert invalid["path"].endswith("invalid.jsonl") and invalid["n_examples"] == 1 and invalid["n_excluded"] == 0
    # RAFT: exactly chat's chunks, in chat's order, never "not found", no distractors even with negatives at hand
    negatives = data.mine_negatives(got.examples, WordIndex(chunks), 3)
    assert negatives[ex.example_id]
    raft, stats = data.build_raft(got.examples, pool, negatives, k_distractors=3, p_no_gold=1.0, seed=1)
    (r,) = raft
    assert [h.chunk.chunk_id for h in r.hits] == shown and [h.rank for h in r.hits] == [1, 2, 3]
    assert r.target == "O valor do item 2 é 14." and not r.dropped_gold and r.gold_positions == []
    assert (stats.n_built, stats.n_chat_context, stats.n_no_gold, stats.n_random_distractors) == (1, 1, 0, 0)
    # no (question -> chunk) pair for the embedder
    assert build_pairs(got.examples, pool, None, 1, seed=0)["anchor"] == []
    # chunks gone from the index are left out; none left: skipped and counted
    del pool[chunks[2].chunk_id]
    (r,) = data.build_raft(got.examples, pool, {}, 3, 0.0, 1)[0]
    assert [h.chunk.chunk_id for h in r.hits] == [chunks[5].chunk_id, chunks[0].chunk_id]
    raft, stats = data.build_raft(got.examples, {c.chunk_id: c for c in chunks[6:]}, {}, 3, 0.0, 1)
    assert raft == [] and stats.n_missing_gold == 1


def test_the_latest_rating_decides_between_a_correction_and_a_thumbs_up(workspace):
    chunks = make_chunks(4)
    q1, q2 = "Qual é o valor do item 1?", "Qual é o valor do item 3?"
    cited, shown = [chunks[1].chunk_id], [chunks[1].chunk_id, chunks[3].chunk_id]
    append_jsonl(workspace.invalid, [
        _rating(q1, False, "2026-01-01T00:00:00+00:00", "a1", cited=cited, retrieved=shown, corrected="É 7."),
        _rating(q2, False, "2026-01-02T00:00:00+00:00", "a2", cited=cited, retrieved=shown, corrected="É 21."),
    ])
    append_jsonl(workspace.validated, [
        _rating(q1, True, "2026-01-02T00:00:00+00:00", "a1", cited=cited, retrieved=shown, answer="É 7 [1]."),
        _rating(q2, True, "2026-01-01T00:00:00+00:00", "a2", cited=cited, retrieved=shown, answer="É 21 [1]."),
    ])
    got = data.load_examples(workspace, files=[])
    by_q = {e.question: e for e in got.examples}
    assert set(by_q) == {q1, q2}
    # 👎 with a correction, then 👍: the 👍 counts (model's answer, cited chunk as gold)
    assert (by_q[q1].answer, by_q[q1].gold_chunk_ids, by_q[q1].source_file) == ("É 7 [1].", cited, "validated.jsonl")
    assert by_q[q1].context_chunk_ids == shown  # kept on valid ratings too
    # 👍, then 👎 with a correction: the correction counts, without gold
    assert (by_q[q2].answer, by_q[q2].gold_chunk_ids, by_q[q2].source_file) == ("É 21.", [], "invalid.jsonl")
    assert (got.n_corrected, got.n_invalid) == (1, 0)
    n = {Path(f["path"]).name: f["n_examples"] for f in got.files}
    assert n == {"validated.jsonl": 1, "invalid.jsonl": 1}


def test_a_rating_with_no_cited_and_no_retrieved_chunk_is_skipped_and_counted(workspace):
    chunks = make_chunks(10)
    append_jsonl(workspace.validated, [
        _rating("Pergunta sem trecho algum?", True, "2026-01-01T00:00:00+00:00", "e1"),  # an old line, say
        _rating("Qual é o valor do item 4?", True, "2026-01-01T00:00:01+00:00", "e2", cited=[chunks[4].chunk_id],
                retrieved=[chunks[4].chunk_id], answer="É 28 [1]."),
    ])
    append_jsonl(workspace.invalid, [_rating("Correção sem trechos?", False, "2026-01-01T00:00:02+00:00", "e3",
                                             corrected="A resposta certa.")])
    got = data.load_examples(workspace, files=[])
    assert len(got.examples) == 3
    raft, stats = data.build_raft(got.examples, {c.chunk_id: c for c in chunks}, {}, 3, 0.0, 1)
    assert [r.question for r in raft] == ["Qual é o valor do item 4?"]  # never trained on random chunks
    assert (stats.n_no_context, stats.n_built, stats.n_missing_gold) == (2, 1, 0)
    td = data.prepare(workspace, WordIndex(chunks), files=[], eval_fraction=0.0)
    assert td.stats["no_context"] == 2 and [r.question for r in td.train] == ["Qual é o valor do item 4?"]
    assert td.summary()["n_corrected_invalid"] == 1


def test_heldout_never_in_train(workspace):
    chunks = build_workspace(workspace, 60)
    td = data.prepare(workspace, WordIndex(chunks), eval_fraction=0.3)
    train_keys = {data.question_key(e.question) for e in td.train}
    eval_keys = {data.question_key(e.question) for e in td.eval}
    assert td.eval and td.train and not (train_keys & eval_keys)
    assert all(data.split_of(e.question, 0.3) == "eval" for e in td.eval)


def test_raft_gold_position_varies_and_no_gold_probability():
    chunks = make_chunks(40)
    pool = {c.chunk_id: c for c in chunks}
    examples = [data.TrainExample(question=f"Pergunta {i} sobre {WORDS[i % 10]}?", answer=f"Resposta {i}.",
                                  gold_chunk_ids=[chunks[i % 40].chunk_id]) for i in range(300)]
    index = WordIndex(chunks)
    negatives = data.mine_negatives(examples, index, 3)
    raft, stats = data.build_raft(examples, pool, negatives, k_distractors=3, p_no_gold=0.25, seed=7)
    assert len(raft) == 300
    with_gold = [r for r in raft if not r.dropped_gold]
    positions = {r.gold_positions[0] for r in with_gold}
    assert positions == {1, 2, 3, 4}  # gold at every position of 4
    share = sum(r.dropped_gold for r in raft) / len(raft)
    assert 0.17 < share < 0.33 and stats.n_no_gold == sum(r.dropped_gold for r in raft)
    not_found = rag.not_found_sentence("pt")
    for r in raft:
        ids = [h.chunk.chunk_id for h in r.hits]
        gold = r.example.gold_chunk_ids[0]
        if r.dropped_gold:
            assert gold not in ids and r.target == not_found and len(ids) == 3
        else:
            assert ids.count(gold) == 1 and len(ids) == 4
            assert r.target.endswith(f"[{r.gold_positions[0]}].")  # cites the gold source, as chat does
            # distractors are the retriever's hard negatives (top non-gold hits), not random chunks
            assert [i for i in ids if i != gold] == [c.chunk_id for c in negatives[r.example.example_id]]
    assert data.build_raft(examples, pool, negatives, 3, 0.25, 7)[0][5].hits == raft[5].hits  # deterministic
    assert not any(r.dropped_gold for r in data.build_raft(examples[:50], pool, negatives, 3, 0.0, 7)[0])
    assert all(r.dropped_gold for r in data.build_raft(examples[:50], pool, negatives, 3, 1.0, 7)[0])
    with pytest.raises(ConfigError):
        data.build_raft(examples, pool, negatives, 3, 1.2, 7)


def test_the_gold_chunk_can_go_where_the_retriever_ranks_it():
    """gold_order="retrieved": the gold chunk sits among its distractors where the retriever ranks
    it (as the chat orders its sources), last when it is not retrieved; "random" is RAFT's draw,
    unchanged by the option."""
    chunks = make_chunks(40)
    pool = {c.chunk_id: c for c in chunks}
    examples = [data.TrainExample(question=f"Pergunta {i} sobre {WORDS[i % 10]} e {WORDS[(i * 7) % 10]}?",
                                  answer=f"Resposta {i}.", gold_chunk_ids=[chunks[i % 40].chunk_id]) for i in range(120)]
    index = WordIndex(chunks)
    ranks: dict[str, int] = {}
    negatives = data.mine_negatives(examples, index, 3, ranks=ranks)
    assert negatives == data.mine_negatives(examples, index, 3)  # the ranks change nothing else
    for ex in examples:
        hits = index.search(ex.question, top_k=3 + 1 + 2)
        ids = [h.chunk.chunk_id for h in hits]
        gold = ex.gold_chunk_ids[0]
        assert ranks[ex.example_id] == (min(ids.index(gold), 3) if gold in ids else 3)
    assert len(set(ranks.values())) > 1
    ordered, _ = data.build_raft(examples, pool, negatives, 3, 0.0, 7, gold_order="retrieved", ranks=ranks)
    assert [r.gold_positions[0] for r in ordered] == [ranks[ex.example_id] + 1 for ex in examples]
    for r in ordered:  # the distractors keep their rank order around it
        others = [h.chunk.chunk_id for h in r.hits if h.chunk.chunk_id != r.example.gold_chunk_ids[0]]
        assert others == [c.chunk_id for c in negatives[r.example.example_id]]
    random_order, _ = data.build_raft(examples, pool, negatives, 3, 0.0, 7, gold_order="random", ranks=ranks)
    default, _ = data.build_raft(examples, pool, negatives, 3, 0.0, 7)
    assert [r.gold_positions for r in random_order] == [r.gold_positions for r in default]
    assert {r.gold_positions[0] for r in default} == {1, 2, 3, 4}
    with pytest.raises(ConfigError):
        data.build_raft(examples, pool, negatives, 3, 0.0, 7, gold_order="first")
    with pytest.raises(ConfigError):
        LoraTrainConfig(gold_order="first")


def test_self_check_examples_ask_the_chats_judge_question():
    """A share of RAFT examples also gives a self-check example: the chat's judge prompt, "Sim" with
    the example's own context, "Não" with its distractors alone; never "Não" when the distractors
    hold the answer's words; deterministic; nothing from examples without a gold chunk."""
    chunks = make_chunks(40)
    pool = {c.chunk_id: c for c in chunks}
    examples = [data.TrainExample(question=f"Pergunta {i} sobre {WORDS[i % 10]}?", answer=f"Resposta número {1000 + i}.",
                                  gold_chunk_ids=[chunks[i % 40].chunk_id]) for i in range(200)]
    negatives = data.mine_negatives(examples, WordIndex(chunks), 3)
    raft, _ = data.build_raft(examples, pool, negatives, k_distractors=3, p_no_gold=0.1, seed=7)
    checks = data.self_check_examples(raft, 1.0, seed=7)
    eligible = [r for r in raft if not r.dropped_gold]
    assert len(checks) == len(eligible) and all(c.ending == "judge" for c in checks)
    by_id = {r.example.example_id: r for r in eligible}
    yes = [c for c in checks if c.target == "Sim"]
    no = [c for c in checks if c.target == "Não"]
    assert len(yes) + len(no) == len(checks) and 0.35 < len(no) / len(checks) < 0.65
    for c in checks:
        source = by_id[c.example.example_id]
        ids = [h.chunk.chunk_id for h in c.hits]
        gold = c.example.gold_chunk_ids[0]
        assert c.messages()[-1]["content"].endswith(rag.ANSWERABLE_INSTRUCTIONS["pt"])
        assert c.messages()[:-1] == source.messages()[:-1]
        if c.target == "Sim":
            assert ids == [h.chunk.chunk_id for h in source.hits] and c.gold_positions == source.gold_positions
        else:
            assert gold not in ids and ids == [h.chunk.chunk_id for h in source.hits if h.chunk.chunk_id != gold]
            assert [h.rank for h in c.hits] == [1, 2, 3] and c.dropped_gold and not c.gold_positions
    assert [(c.example.example_id, c.target) for c in data.self_check_examples(raft, 1.0, seed=7)] == [
        (c.example.example_id, c.target) for c in checks]
    assert 0.3 < len(data.self_check_examples(raft, 0.5, seed=7)) / len(eligible) < 0.7
    assert data.self_check_examples(raft, 0.0) == [] and data.self_check_examples(checks, 1.0) == []

    # distractors that state the answer too: "Sim", never "Não"
    leaky = [Chunk(chunk_id=f"leak:{i}", doc_id="d", doc_name="d.pdf", text=f"Resposta número {1000 + i} aqui.",
                   page_start=1, page_end=1, char_start=0, char_end=30) for i in range(200)]
    hard = {ex.example_id: [leaky[i]] for i, ex in enumerate(examples)}
    raft2, _ = data.build_raft(examples, {**pool, **{c.chunk_id: c for c in leaky}}, hard, k_distractors=1, seed=7)
    assert {c.target for c in data.self_check_examples(raft2, 1.0, seed=7)} == {"Sim"}
    with pytest.raises(ConfigError):
        data.self_check_examples(raft, 1.5)


def test_export_alpaca_and_sharegpt(workspace, tmp_path):
    chunks = build_workspace(workspace, 10)
    td = data.prepare(workspace, WordIndex(chunks), eval_fraction=0.0)
    for fmt in data.EXPORT_FORMATS:
        path = tmp_path / f"train.{fmt}.jsonl"
        assert data.export_dataset(td.train, path, fmt) == len(td.train)
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        first, msgs = rows[0], td.train[0].messages()
        assert first["system"] == msgs[0]["content"]
        if fmt == "alpaca":
            assert first["instruction"] == msgs[1]["content"] and first["output"] == td.train[0].target
        else:
            assert [c["from"] for c in first["conversations"]] == ["human", "gpt"]
            assert first["conversations"][1]["value"] == td.train[0].target
    with pytest.raises(ConfigError):
        data.export_dataset(td.train, tmp_path / "x.jsonl", "csv")


# --- tokenisation: train prompt == chat prompt --------------------------------------------------------


def test_training_prompt_equals_chat_prompt_and_labels_mask_prompt(tiny_lm_dir):
    from transformers import AutoTokenizer

    from oracle.llm import TransformersGenerator
    from oracle.training.lora import encode_example

    tok = AutoTokenizer.from_pretrained(tiny_lm_dir)
    chunks = make_chunks(6)
    ex = data.TrainExample(question="Qual é o valor do item 3?", answer="O valor é 21.", gold_chunk_ids=[chunks[3].chunk_id])
    raft, _ = data.build_raft([ex], {c.chunk_id: c for c in chunks}, k_distractors=2, p_no_gold=0.0, seed=3)
    enc = encode_example(tok, raft[0], max_seq_len=2048)

    gen = TransformersGenerator(tiny_lm_dir)
    gen._model, gen._tokenizer = object(), tok  # the chat prompt needs the tokenizer only
    chat_ids = gen._inputs(rag.build_messages(ex.question, raft[0].hits, "pt"))["input_ids"][0].tolist()
    n = len(chat_ids)
    assert enc["input_ids"][:n] == chat_ids  # same prompt tokens as chat, for the same question and chunks
    assert enc["labels"][:n] == [-100] * n  # no loss on the prompt
    assert enc["labels"][n:] == enc["input_ids"][n:] and len(enc["labels"]) > n  # loss on every answer token
    answer = tok.decode(enc["input_ids"][n:])
    assert answer.startswith(raft[0].target) and answer.rstrip().endswith("<|im_end|>")


def test_answer_loss_equals_the_full_causal_lm_loss_and_gradients(tiny_lm_dir):
    """Projecting only the answer positions changes the work, not the loss or its gradients."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from oracle.training.lora import PadCollator, answer_loss, encode_example

    tok = AutoTokenizer.from_pretrained(tiny_lm_dir)
    chunks = make_chunks(6)
    exs = [data.TrainExample(question=f"Qual é o valor do item {i}?", answer=f"O valor é {7 * i}.",
                             gold_chunk_ids=[chunks[i].chunk_id]) for i in (1, 3)]
    raft, _ = data.build_raft(exs, {c.chunk_id: c for c in chunks}, k_distractors=1, p_no_gold=0.0, seed=3)
    batch = PadCollator(tok.pad_token_id)([encode_example(tok, r, max_seq_len=2048) for r in raft])
    assert batch["input_ids"].shape[0] == 2 and (batch["labels"] == -100).float().mean() > 0.5

    model = AutoModelForCausalLM.from_pretrained(tiny_lm_dir, dtype=torch.float32)
    full = model(**batch).loss  # transformers' own loss over [batch, seq, vocab] logits
    full.backward()
    grads_full = [p.grad.clone() for p in model.parameters() if p.grad is not None]
    model.zero_grad()
    ours, out = answer_loss(model, batch)
    ours.backward()
    grads_ours = [p.grad.clone() for p in model.parameters() if p.grad is not None]
    n_answer = int((batch["labels"][:, 1:] != -100).sum())
    assert out.logits.shape[1] < batch["input_ids"].shape[1] // 2  # fewer positions projected
    assert ours.item() == pytest.approx(full.item(), rel=1e-5)
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(grads_full, grads_ours, strict=True))
    summed, _ = answer_loss(model, batch, num_items_in_batch=2 * n_answer)  # half of an accumulated batch
    assert summed.item() == pytest.approx(full.item() / 2, rel=1e-5)


def test_long_examples_drop_distractors_not_gold(tiny_lm_dir):
    from transformers import AutoTokenizer

    from oracle.training.lora import encode_example

    tok = AutoTokenizer.from_pretrained(tiny_lm_dir)
    chunks = make_chunks(6)
    ex = data.TrainExample(question="Qual é o valor do item 3?", answer="O valor é 21.", gold_chunk_ids=[chunks[3].chunk_id])
    raft, _ = data.build_raft([ex], {c.chunk_id: c for c in chunks}, k_distractors=4, p_no_gold=0.0, seed=1)
    full = encode_example(tok, raft[0], 100000)
    short = encode_example(tok, raft[0], len(full["input_ids"]) - 1)
    assert short is not None and len(short["input_ids"]) < len(full["input_ids"])
    text = tok.decode(short["input_ids"])
    assert chunks[3].text in text
    assert encode_example(tok, raft[0], 64) is None


def test_a_context_from_chat_keeps_its_first_chunk_when_cut_to_fit(tiny_lm_dir):
    from transformers import AutoTokenizer

    from oracle.training.lora import encode_example, encode_messages

    tok = AutoTokenizer.from_pretrained(tiny_lm_dir)
    chunks = make_chunks(6)
    ex = data.TrainExample(question="Qual é o valor do item 3?", answer="O valor é 21.", source="rating",
                           context_chunk_ids=[chunks[3].chunk_id, chunks[1].chunk_id])
    (raft,), _ = data.build_raft([ex], {c.chunk_id: c for c in chunks}, k_distractors=4, p_no_gold=0.0, seed=1)
    one = data.RaftExample(ex, raft.hits[:1], raft.target)
    n_one = len(encode_messages(tok, one.messages(), one.target)["input_ids"])
    short = encode_example(tok, raft, n_one)
    assert short is not None and chunks[3].text in tok.decode(short["input_ids"])
    assert chunks[1].text not in tok.decode(short["input_ids"])
    assert encode_example(tok, raft, n_one - 1) is None  # never the answer with no context at all


# --- LoRA -------------------------------------------------------------------------------------------


def _weights(model) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_lora_changes_adapter_not_base_and_reloads_same(workspace, tiny_lm_dir):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    chunks = build_workspace(workspace, 20)
    td = data.prepare(workspace, WordIndex(chunks), eval_fraction=0.2)
    from oracle.training.lora import train_lora

    logs = []
    result = train_lora(workspace, tiny_lm_dir, "t1", tiny_cfg(max_steps=4, self_check=0.5), data=td,
                        log_fn=logs.append, return_model=True)
    assert result.status == "completed"
    base = AutoModelForCausalLM.from_pretrained(tiny_lm_dir, dtype=torch.float32)
    original = _weights(base)
    trained = result.model
    lora_b = {k: v for k, v in trained.state_dict().items() if "lora_B" in k}
    assert lora_b and all(v.abs().sum() > 0 for v in lora_b.values())  # LoRA B starts at zero: it learned
    for key, value in trained.state_dict().items():
        if "lora_" in key:
            continue
        plain = key.replace("base_model.model.", "").replace(".base_layer", "")
        assert torch.equal(value, original[plain]), key  # base weights untouched
    # the saved adapter reloads and gives the same outputs
    out = Path(result.adapter_dir)
    assert (out / "adapter_config.json").exists() and (out / "adapter_model.safetensors").exists()
    info = json.loads((out / "train.json").read_text())
    assert info["base_model"] == tiny_lm_dir and info["hyperparameters"]["rank"] == 4
    assert info["data"]["files"][0]["sha256"] and info["wall_time_s"] > 0 and info["cost"]["rate_source"] in ("api", "fallback")
    assert info["metrics"]["eval_loss_before"] > 0 and info["metrics"]["eval_loss"] > 0 and info["metrics"]["steps"] == 4
    # self-check examples joined the training examples, and the adapter judges its own sources
    from oracle.llm import adapter_judges_itself

    assert info["metrics"]["n_self_check"] == len(data.self_check_examples(td.train, 0.5, 42)) > 0
    assert 0 < info["metrics"]["n_self_check_no"] < info["metrics"]["n_self_check"]
    assert info["hyperparameters"]["self_check"] == 0.5 and adapter_judges_itself(str(out))
    reloaded = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_lm_dir), str(out)).eval()
    trained.eval()
    ids = torch.tensor([[5, 17, 42, 99, 7]])
    with torch.no_grad():
        assert torch.allclose(reloaded(input_ids=ids).logits, trained(input_ids=ids).logits, atol=1e-5)
        assert not torch.allclose(base(input_ids=ids).logits, trained(input_ids=ids).logits, atol=1e-4)
    # one log line per step with the documented fields, plus eval lines
    steps = [r for r in logs if r["loss"] is not None]
    assert [r["step"] for r in steps] == [1, 2, 3, 4] and all(r["total"] == 4 for r in steps)
    assert all(r["tokens_per_s"] and r["tokens_per_s"] > 0 for r in steps) and steps[-1]["eta_s"] == 0
    assert [r["step"] for r in logs if r["eval_loss"] is not None] == [0, 4]
    assert not Path(result.checkpoint_dir).exists()  # checkpoints removed after a completed run


def test_cancel_then_resume_continues_from_checkpoint(workspace, tiny_lm_dir):
    from oracle.training.lora import last_checkpoint, train_lora

    chunks = build_workspace(workspace, 20)
    td = data.prepare(workspace, WordIndex(chunks), eval_fraction=0.2)
    ckpt = workspace.jobs / "j1" / "checkpoints"
    calls = {"n": 0}

    def stop_after_two():
        calls["n"] += 1
        return calls["n"] >= 2

    logs = []
    first = train_lora(workspace, tiny_lm_dir, "t2", tiny_cfg(max_steps=5), data=td, log_fn=logs.append,
                       should_stop=stop_after_two, checkpoint_dir=ckpt)
    assert first.status == "cancelled" and first.adapter_dir is None
    assert last_checkpoint(ckpt).endswith("checkpoint-2")  # saved at the cancel, though save_steps=100
    assert not (workspace.adapters / "t2" / "adapter_config.json").exists()
    second = train_lora(workspace, tiny_lm_dir, "t2", tiny_cfg(max_steps=5), data=td, log_fn=logs.append,
                        resume=True, checkpoint_dir=ckpt)
    assert second.status == "completed"
    assert [r["step"] for r in logs if r["loss"] is not None] == [1, 2, 3, 4, 5]  # the step count continues
    assert second.info["metrics"]["steps"] == 5
    assert "eval_loss_before" in second.info["metrics"]  # carried over from the first session
    with pytest.raises(OracleError):
        train_lora(workspace, tiny_lm_dir, "t3", tiny_cfg(), data=td, resume=True, checkpoint_dir=workspace.jobs / "none")


def test_merge_adapter_matches_peft_outputs(workspace, tiny_lm_dir, tmp_path):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from oracle.training.export import merge_adapter, model_card
    from oracle.training.lora import train_lora

    chunks = build_workspace(workspace, 12)
    td = data.prepare(workspace, WordIndex(chunks), eval_fraction=0.0)
    res = train_lora(workspace, tiny_lm_dir, "m1", tiny_cfg(max_steps=2), data=td)
    merged_dir = merge_adapter(res.adapter_dir, tmp_path / "merged", dtype="float32")
    merged = AutoModelForCausalLM.from_pretrained(merged_dir).eval()
    peft_model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_lm_dir), res.adapter_dir).eval()
    ids = torch.tensor([[3, 14, 15, 92, 65]])
    with torch.no_grad():
        assert torch.allclose(merged(input_ids=ids).logits, peft_model(input_ids=ids).logits, atol=1e-4)
    assert not any("lora" in k for k in merged.state_dict())
    card = model_card(res.adapter_dir, "me/oracle-test")
    assert card.startswith("---\nlibrary_name: peft") and "RAFT" in card and "me/oracle-test" in card


def test_push_needs_token_and_never_logs_it(workspace, tmp_path, monkeypatch, caplog):
    from oracle.training import export

    folder = tmp_path / "adapter"
    folder.mkdir()
    (folder / "train.json").write_text(json.dumps({"kind": "lora", "base_model": "x/y", "name": "a"}))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    with pytest.raises(OracleError) as err:
        export.push_to_hub(folder, "me/repo")
    assert err.value.key == "err.train.no_token"
    with pytest.raises(OracleError):
        export.push_to_hub(folder, "not-a-repo", token="hf_x")

    calls = []

    class FakeApi:
        def __init__(self, token=None):
            calls.append(("init", token))

        def create_repo(self, repo_id, private=None, exist_ok=False):
            calls.append(("create", repo_id, private, exist_ok))
            return f"https://huggingface.co/{repo_id}"

        def upload_folder(self, repo_id, folder_path, commit_message=None, ignore_patterns=None):
            calls.append(("upload", repo_id, Path(folder_path).name, tuple(ignore_patterns)))
            raise RuntimeError("network down for token hf_secret123")

    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    monkeypatch.setenv("HF_TOKEN", "hf_secret123")
    caplog.set_level("DEBUG")
    with pytest.raises(OracleError) as err:
        export.push_to_hub(folder, "me/repo")
    assert err.value.key == "err.train.push_failed" and "hf_secret123" not in str(err.value)
    assert calls[0] == ("init", "hf_secret123") and calls[1] == ("create", "me/repo", True, True)
    assert "checkpoints/*" in calls[2][3]
    assert "hf_secret123" not in caplog.text
    assert (folder / "README.md").read_text().startswith("---")  # the model card goes with it


# --- cost -----------------------------------------------------------------------------------------------


def test_cost_falls_back_offline_and_uses_api_when_reachable():
    closed = cost.CostConfig(rate_url="http://127.0.0.1:9/rates", fallback_usd_brl=5.25, timeout_s=1.0,
                             hourly_price_usd=2.0)
    rate, source = cost.usd_to_brl(closed, use_cache=False)
    assert (rate, source) == (5.25, "fallback")
    bill = cost.run_cost(1800, closed)
    assert bill["usd"] == pytest.approx(1.0) and bill["brl"] == pytest.approx(5.25) and bill["rate_source"] == "fallback"

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = json.dumps({"result": "success", "rates": {"BRL": 4.9, "EUR": 0.9}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        live = cost.CostConfig(rate_url=f"http://127.0.0.1:{server.server_port}/latest/USD", fallback_usd_brl=5.25)
        assert cost.usd_to_brl(live, use_cache=False) == (4.9, "api")
    finally:
        server.shutdown()


def test_estimate_arithmetic():
    cfg = cost.CostConfig(hourly_price_usd=3.6, fallback_usd_brl=5.0, rate_url="http://127.0.0.1:9/")
    est = cost.estimate(n_train_tokens=10_000, n_examples=90, tokens_per_s=100.0, epochs=2, batch_size=1,
                        grad_accum=4, overhead_s=0.0, cfg=cfg)
    assert est["tokens"] == 20_000 and est["steps"] == 46  # Trainer: ceil(90 / 4) = 23 steps per epoch, x 2
    assert est["seconds"] == pytest.approx(200.0) and est["usd"] == pytest.approx(0.2) and est["brl"] == pytest.approx(1.0)
    with pytest.raises(ConfigError):
        cost.estimate(1, 1, 0.0, 1, 1, 1, cfg=cfg)


def test_estimated_steps_match_the_trainer(workspace, tiny_lm_dir):
    """The estimate's optimizer steps are the Trainer's own count (partial accumulation included)."""
    from oracle.training.lora import estimate_lora, train_lora

    chunks = build_workspace(workspace, 12)
    td = data.prepare(workspace, WordIndex(chunks), eval_fraction=0.2)
    cfg = tiny_cfg(max_steps=-1, epochs=2.0, grad_accum=4)
    est = estimate_lora(workspace, tiny_lm_dir, cfg, data=td, cost_cfg=cost.CostConfig(rate_url="http://127.0.0.1:9/"))
    res = train_lora(workspace, tiny_lm_dir, "steps", cfg, data=td)
    assert len(td.train) % 4 != 0  # a partial accumulation at each epoch's end: where naive arithmetic drifts
    assert est["steps"] == res.info["metrics"]["max_steps"]


def test_estimate_lora_measures_a_step(workspace, tiny_lm_dir):
    from oracle.training.lora import estimate_lora

    chunks = build_workspace(workspace, 12)
    td = data.prepare(workspace, WordIndex(chunks), eval_fraction=0.2)
    est = estimate_lora(workspace, tiny_lm_dir, tiny_cfg(max_steps=-1, epochs=2.0), data=td,
                        cost_cfg=cost.CostConfig(rate_url="http://127.0.0.1:9/"))
    assert est["tokens_per_s"] > 0 and est["n_train"] == len(td.train) and est["steps"] == 2 * len(td.train)
    assert est["tokens"] == pytest.approx(2 * est["avg_tokens"] * est["n_train"], rel=0.01)
    assert est["seconds"] > est["tokens"] / est["tokens_per_s"]  # plus evaluation and loading


# --- embedding fine-tune ----------------------------------------------------------------------------


def topic_workspace(ws: Workspace, tmp_path: Path, n: int = 30) -> str:
    """A tiny 32-dim embedder, ``n`` chunks and one question per chunk sharing its chunk's two
    topic words (learnable in 2 epochs), indexed as 'default'. Returns the embedder's folder."""
    from tiny_embedder import build_tiny_embedder

    from oracle.index import VectorIndex

    base = build_tiny_embedder(tmp_path / "tiny-emb-ft", dim=32)
    chunks = [Chunk(chunk_id=f"d:{i}:x", doc_id="d", doc_name="d.pdf", page_start=1, page_end=1, char_start=i,
                    char_end=i + 1, text=f"{WORDS[i % 10]} {WORDS[(i * 3) % 10]} trecho {i} " * 3) for i in range(n)]
    pairs = [QAPair(question=f"{WORDS[i % 10]} {WORDS[(i * 3) % 10]} {i}?", answer=f"trecho {i}", doc_id="d",
                    doc_name="d.pdf", chunk_id=c.chunk_id, page=1, language="pt", generator="fake")
             for i, c in enumerate(chunks)]
    append_jsonl(ws.qa_file("d"), pairs)
    index = VectorIndex.create(base, name="default")
    index.add(chunks)
    index.save(ws.index_dir("default"))
    return base


@pytest.fixture
def ir_spy(monkeypatch):
    """Records every ``InformationRetrievalEvaluator`` call as ``(name, query ids, by_trainer)``
    (the trainer passes its epoch; a direct ``evaluator(model)`` call does not) and the anchors
    of every training dataset given to ``SentenceTransformerTrainer``."""
    import sentence_transformers
    from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator

    spy = {"calls": [], "anchors": [], "trainer_evaluators": []}
    real_call = InformationRetrievalEvaluator.__call__

    def call(self, model, output_path=None, epoch=-1, steps=-1):
        spy["calls"].append((self.name, frozenset(self.queries_ids), epoch != -1))
        return real_call(self, model, output_path=output_path, epoch=epoch, steps=steps)

    class Trainer(sentence_transformers.SentenceTransformerTrainer):
        def __init__(self, *args, **kwargs):
            spy["anchors"].append(list(kwargs["train_dataset"]["anchor"]))
            spy["trainer_evaluators"].append(kwargs.get("evaluator"))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(InformationRetrievalEvaluator, "__call__", call)
    monkeypatch.setattr(sentence_transformers, "SentenceTransformerTrainer", Trainer)
    return spy


def test_embed_validation_split_is_stable_disjoint_and_independent_of_the_test_split():
    from oracle.training.embedding import split_validation

    examples = [data.TrainExample(question=f"Pergunta número {i}?", answer="a") for i in range(400)]
    for eval_fraction in (0.1, 0.3):
        train, test = data.split_examples(examples, eval_fraction)
        fit, val = split_validation(train, 0.15)
        ids = [{e.example_id for e in side} for side in (fit, val, test)]
        assert not (ids[0] & ids[1]) and not (ids[0] & ids[2]) and not (ids[1] & ids[2])
        assert len(ids[0]) + len(ids[1]) + len(ids[2]) == 400 and 0.05 * len(train) < len(val) < 0.3 * len(train)
        assert split_validation(train, 0.15) == (fit, val)  # stable
    # a question's validation side does not depend on eval_fraction (its own salt)
    _, val_a = split_validation(data.split_examples(examples, 0.1)[0], 0.15)
    _, val_b = split_validation(data.split_examples(examples, 0.3)[0], 0.15)
    test_b = {e.example_id for e in data.split_examples(examples, 0.3)[1]}
    assert {e.example_id for e in val_a} - test_b == {e.example_id for e in val_b}
    with pytest.raises(ConfigError):
        split_validation(examples, 1.0)
    with pytest.raises(ConfigError):
        from oracle.training.embedding import EmbedTrainConfig

        EmbedTrainConfig(val_fraction=-0.1)


def test_embedding_finetune_reports_before_after_and_reindexes(workspace, tmp_path, ir_spy):
    from sentence_transformers import SentenceTransformer

    from oracle.index import load_index
    from oracle.training.embedding import EVAL_NAME, VAL_NAME, EmbedTrainConfig, evaluate_embedder, train_embedder

    topic_workspace(workspace, tmp_path)
    logs = []
    res = train_embedder(workspace, cfg=EmbedTrainConfig(epochs=2, batch_size=4, eval_fraction=0.2, learning_rate=1e-3),
                         log_fn=logs.append)
    m = res.info["metrics"]
    for key in ("hit@1", "hit@5", "hit@10", "mrr@10", "ndcg@10"):
        assert 0.0 <= m["before"][key] <= 1.0 and 0.0 <= m["after"][key] <= 1.0
    assert m["n_eval_queries"] > 0 and m["after"]["mrr@10"] > m["before"]["mrr@10"]  # learnable: shared words
    # selection: validation questions carved out of the training side, the best epoch kept
    assert m["selection"] == "validation_mrr@10" and m["selection_reason"] is None and m["n_val_queries"] > 0
    val = m["validation"]
    assert [e["epoch"] for e in val["epochs"]] == [1.0, 2.0] and m["kept_epoch"] in (1.0, 2.0)
    assert val["best"]["mrr@10"] == max(e["mrr@10"] for e in val["epochs"])
    assert m["beat_base_on_validation"] == (val["best"]["mrr@10"] > val["before"]["mrr@10"])
    assert m["improved"] is (m["beat_base_on_validation"] and m["after"]["mrr@10"] > m["before"]["mrr@10"])
    # the three sets are disjoint; the trainer only ever evaluated the validation questions, and the
    # test questions were scored exactly twice (base model before, kept model after)
    train_ex, test_ex = data.split_examples(data.load_examples(workspace).examples, 0.2)
    test_ids, test_questions = {e.example_id for e in test_ex}, {e.question for e in test_ex}
    val_ids = {ids for name, ids, _ in ir_spy["calls"] if name == VAL_NAME}
    assert len(val_ids) == 1
    val_ids = next(iter(val_ids))
    by_trainer = [(name, ids) for name, ids, trainer in ir_spy["calls"] if trainer]
    assert len(by_trainer) == 2 and all(name == VAL_NAME and ids == val_ids for name, ids in by_trainer)
    assert [ids for name, ids, trainer in ir_spy["calls"] if name == EVAL_NAME] == [frozenset(test_ids)] * 2
    assert set(ir_spy["trainer_evaluators"][0].queries_ids) == val_ids  # the trainer's only evaluator
    anchors = set(ir_spy["anchors"][0])
    val_questions = {e.question for e in train_ex if e.example_id in val_ids}
    assert not (val_ids & test_ids) and not (anchors & val_questions) and not (anchors & test_questions)
    assert len(val_questions) == len(val_ids)
    folder = Path(res.model_dir)
    saved = json.loads((folder / "train.json").read_text())
    assert saved["kind"] == "embedding" and saved["metrics"]["kept_epoch"] == m["kept_epoch"]
    assert saved["hyperparameters"]["val_fraction"] == 0.15 and saved["data"]["n_val"] == len(val_ids)
    assert SentenceTransformer(str(folder)).get_embedding_dimension() == 32
    assert any(r.get("mrr@10") is not None for r in logs) and logs[-1]["test_mrr@10"] == m["after"]["mrr@10"]
    # same held-out questions, measured independently through the index metrics
    after = evaluate_embedder(workspace, str(folder), eval_fraction=0.2)
    assert after["mrr@10"] == pytest.approx(m["after"]["mrr@10"], abs=0.02)
    # re-index: the old index stays as .prev, the new one answers with the new embedder
    from oracle.training.embedding import reindex

    out = reindex(workspace, "default", str(folder))
    assert out["n_chunks"] == 30 and Path(out["previous"]).is_dir()
    assert load_index(workspace, "default", cache=False).embedder == str(folder)
    assert not (workspace.indexes / "default.new").exists()


def test_embedder_worse_than_base_is_saved_but_flagged_and_warned(workspace, tmp_path, capsys, monkeypatch):
    """Trained on wrong pairs, the tiny model gets worse: no epoch beats the base on validation,
    the model is still saved, train.json says improved false, and the app and the CLI advise
    against re-indexing.

    The pairs are adversarial: each training question's positive is the next question's chunk
    (other topic words) and its own chunk becomes its hard negative, so training pulls every
    question away from the chunk sharing its words, and the validation questions (same topics)
    lose their gold chunks (validation MRR@10 0.31 -> about 0.1 at a sane lr). This does not
    depend on the CPU's numerics, unlike the lr=5.0 "wreck" used before (an AVX2 EPYC improved
    0.31 -> 0.42 with it, and lr=1.0 still beat the base on an AMX Xeon)."""
    from oracle import cli, jobs
    from oracle.training import embedding
    from oracle.training.embedding import EmbedTrainConfig, train_embedder
    from oracle.ui.context import UIContext
    from oracle.ui.finetune import reindex_warning, result_markdown, runs_table

    real_build_pairs = embedding.build_pairs

    def wrong_pairs(examples, chunks, index, n_negatives, seed):
        cols = real_build_pairs(examples, chunks, index, n_negatives, seed)
        gold = cols["positive"]
        assert len(set(gold)) == len(gold) >= 2 and n_negatives >= 1
        cols["positive"] = gold[1:] + gold[:1]  # rotated: every question gets another one's chunk
        cols["negative_1"] = list(gold)  # and its own chunk as the negative
        return cols

    monkeypatch.setattr(embedding, "build_pairs", wrong_pairs)
    topic_workspace(workspace, tmp_path)
    res = train_embedder(workspace, name="wrecked", cfg=EmbedTrainConfig(
        epochs=2, batch_size=4, eval_fraction=0.2, learning_rate=1e-2, warmup_ratio=0.0))
    m = json.loads((Path(res.model_dir) / "train.json").read_text())["metrics"]
    assert res.status == "completed" and (Path(res.model_dir) / "modules.json").exists()
    assert m["selection"] == "validation_mrr@10"
    assert m["validation"]["best"]["mrr@10"] <= m["validation"]["before"]["mrr@10"]
    assert m["beat_base_on_validation"] is False and m["improved"] is False
    # the app: the finished job's result, the re-index step and the runs table warn (pt and en)
    ctx = UIContext(workspace)
    status = jobs.JobStatus(job_id="j", kind="embedding", state=jobs.COMPLETED,
                            result={"name": "wrecked", "model_dir": res.model_dir, "metrics": m})
    pt, en = result_markdown(ctx, status, "pt"), result_markdown(ctx, status, "en")
    assert "não superou o modelo base" in pt and "reindexar com este modelo não é recomendado" in pt
    assert "did not beat the base model" in en and "re-indexing with this model is not recommended" in en
    assert "a melhor na validação" in pt and "the best on validation" in en
    assert "não é recomendado" in reindex_warning(ctx, res.model_dir, "pt")
    assert "not recommended" in reindex_warning(ctx, res.model_dir, "en")
    reindexed = jobs.JobStatus(job_id="r", kind="reindex", state=jobs.COMPLETED,
                               result={"index": "default", "n_chunks": 30, "embedder": res.model_dir})
    assert "not recommended" in result_markdown(ctx, reindexed, "en")
    assert any("no gain" in str(row) for row in runs_table(ctx, "en").values.tolist())
    # the CLI prints the same warning after the result
    cli._print_result(status)
    out = capsys.readouterr().out
    assert "não superou o modelo base" in out and "não é recomendado" in out
    # an improved run or a bundled model gets no warning
    good = {**m, "improved": True, "beat_base_on_validation": True}
    ok = jobs.JobStatus(job_id="k", kind="embedding", state=jobs.COMPLETED, result={"name": "x", "metrics": good})
    assert "recomendado" not in result_markdown(ctx, ok, "pt") and reindex_warning(ctx, "intfloat/e5", "pt") == ""


def test_embed_few_training_questions_keep_the_last_epoch_without_validation(workspace, tmp_path, ir_spy):
    from oracle.training.embedding import (
        MIN_TRAIN_FOR_VALIDATION,
        EmbedTrainConfig,
        estimate_embedding,
        train_embedder,
    )

    topic_workspace(workspace, tmp_path, n=16)
    cfg = EmbedTrainConfig(epochs=1, batch_size=4, eval_fraction=0.2, learning_rate=1e-3)
    logs = []
    res = train_embedder(workspace, cfg=cfg, log_fn=logs.append)
    m = res.info["metrics"]
    n_train = len(data.split_examples(data.load_examples(workspace).examples, 0.2)[0])
    # the estimate the app and the command line show is the trainer's own step count
    planned = {r["total"] for r in logs if r.get("total")}
    assert estimate_embedding(workspace, cfg) == {"n": n_train, "steps": max(planned)}
    assert n_train < MIN_TRAIN_FOR_VALIDATION
    assert m["selection"] == "last_epoch" and m["selection_reason"] == "too_few_train_questions"
    assert m["kept_epoch"] == 1.0 and m["validation"] is None and m["beat_base_on_validation"] is None
    assert m["improved"] is (m["after"]["mrr@10"] > m["before"]["mrr@10"])
    assert ir_spy["trainer_evaluators"] == [None] and not any(trainer for _, _, trainer in ir_spy["calls"])
    assert len(ir_spy["anchors"][0]) == n_train  # no training question was set aside


def test_training_follows_the_one_device_policy(monkeypatch):
    """Training and inference pick the device in one place: ``ORACLE_DEVICE`` is honoured by both."""
    from oracle import models
    from oracle.training import lora

    monkeypatch.setenv("ORACLE_DEVICE", "cuda:1")
    assert lora.device_name() == models.default_device() == "cuda:1"
    monkeypatch.delenv("ORACLE_DEVICE")
    assert lora.device_name() == models.default_device()
    monkeypatch.setenv("ORACLE_DTYPE", "float32")
    assert lora.use_bf16("auto", "cpu") is False and lora.use_bf16("on", "cpu") is True


def test_a_run_killed_between_the_two_renames_of_its_save_is_still_listed(workspace):
    """A save writes a sibling folder and swaps it in; a kill between the renames leaves only
    siblings: listing the runs puts the complete one back and drops the half-written one."""
    import json

    from oracle.training.card import list_runs

    whole = workspace.adapters / ".lora-x.0123abcd.old"
    whole.mkdir()
    (whole / "train.json").write_text(json.dumps({"name": "lora-x", "kind": "lora", "created_at": "2026"}),
                                      encoding="utf-8")
    (workspace.adapters / ".lora-x.89abcdef.tmp").mkdir()  # killed before its train.json: incomplete
    assert [r.name for r in list_runs(workspace)] == ["lora-x"]
    assert sorted(p.name for p in workspace.adapters.iterdir() if p.is_dir()) == ["lora-x"]


def test_oracle_device_cpu_keeps_training_on_the_cpu_when_a_gpu_is_visible(workspace, tiny_lm_dir, tmp_path,
                                                                              monkeypatch):
    """``ORACLE_DEVICE=cpu`` is honoured by the training side as by inference
    (:func:`oracle.models.device.default_device`): with a GPU visible, LoRA and the embedder
    fine-tune load their models on the CPU, QLoRA stays off and the Trainer is told to use the CPU.
    The GPU is faked (``torch.cuda.is_available`` answers True) and each run stops where its model
    would load; without ``ORACLE_DEVICE`` the same runs would load on ``"cuda"``."""
    import sentence_transformers
    import torch

    from oracle import models
    from oracle.training import lora
    from oracle.training.embedding import EmbedTrainConfig, train_embedder

    lora_td = data.prepare(workspace, WordIndex(build_workspace(workspace, 20)), eval_fraction=0.2)
    emb_ws = Workspace(tmp_path / "emb-home")
    topic_workspace(emb_ws, tmp_path, n=16)

    class Loaded(Exception):
        """Raised where a run would load its model."""

    loads: list[tuple[str, str, bool]] = []

    def lora_load(path, bf16, qlora, device):
        loads.append(("lora", device, qlora))
        raise Loaded

    def st_load(path, *args, device=None, **kwargs):
        loads.append(("embedding", device, False))
        raise Loaded

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(lora, "load_for_training", lora_load)
    monkeypatch.setattr(sentence_transformers, "SentenceTransformer", st_load)
    monkeypatch.setenv("ORACLE_DTYPE", "float32")  # best_dtype("cuda") would ask the (fake) GPU
    for env, want in ((None, "cuda"), ("cpu", "cpu")):
        if env is None:
            monkeypatch.delenv("ORACLE_DEVICE", raising=False)
        else:
            monkeypatch.setenv("ORACLE_DEVICE", env)
        loads.clear()
        assert lora.device_name() == models.default_device() == want
        with pytest.raises(Loaded):
            lora.train_lora(workspace, tiny_lm_dir, "dev", tiny_cfg(), data=lora_td)
        with pytest.raises(Loaded):
            train_embedder(emb_ws, cfg=EmbedTrainConfig(epochs=1, batch_size=4, hard_negatives=0))
        assert [(kind, device) for kind, device, _ in loads] == [("lora", want), ("embedding", want)]
    assert loads[0][2] is False and lora.use_qlora("auto", "cpu") is False  # QLoRA needs CUDA
    args = lora.training_args(tiny_cfg(), str(tmp_path / "ckpt"), bf16=False, device=lora.device_name(),
                              has_eval=False)
    assert args.use_cpu is True and args.device.type == "cpu"
