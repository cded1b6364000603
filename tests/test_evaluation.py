"""Retrieval and answer metrics on hand-computed cases; generator evaluation through RAG."""

from __future__ import annotations

import math

import pytest

from oracle import evaluation as ev
from oracle.llm import FakeGenerator
from oracle.schema import Chunk, Hit
from oracle.training.data import TrainExample


def test_retrieval_metrics_hand_computed():
    ranked = ["a", "b", "c", "d"]
    assert ev.hit_at_k(ranked, {"c"}, 1) == 0.0 and ev.hit_at_k(ranked, {"c"}, 3) == 1.0
    assert ev.reciprocal_rank(ranked, {"c"}) == pytest.approx(1 / 3)
    assert ev.reciprocal_rank(ranked, {"c"}, k=2) == 0.0
    assert ev.ndcg_at_k(ranked, {"c"}, 10) == pytest.approx((1 / math.log2(4)) / 1.0)  # = 0.5
    two = (1 / math.log2(2) + 1 / math.log2(5)) / (1 / math.log2(2) + 1 / math.log2(3))
    assert ev.ndcg_at_k(ranked, {"a", "d"}, 10) == pytest.approx(two)
    assert ev.ndcg_at_k(ranked, set(), 10) == 0.0
    m = ev.retrieval_metrics([["a", "b"], ["x", "y", "z", "w", "v", "b"], ["q"]], [{"a"}, {"b"}, {"nope"}])
    assert m["hit@1"] == pytest.approx(1 / 3) and m["hit@5"] == pytest.approx(1 / 3) and m["hit@10"] == pytest.approx(2 / 3)
    assert m["mrr@10"] == pytest.approx((1 + 1 / 6 + 0) / 3)
    assert m["ndcg@10"] == pytest.approx((1 + 1 / math.log2(7) + 0) / 3) and m["n_queries"] == 3
    with pytest.raises(ValueError):
        ev.retrieval_metrics([["a"]], [])


def test_retrieval_metrics_match_sentence_transformers_information_retrieval_evaluator():
    """Our hit@k, MRR@10 and nDCG@10 give the figures of sentence-transformers'
    InformationRetrievalEvaluator.compute_metrics on the same rankings (what embedding training
    reports), including several relevant ids, one beyond rank 10 and a miss; a query without a
    relevant id counts as a miss here, where the library leaves it out."""
    from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator

    rankings = [
        ["a", "b", "c", "d"],                                        # first hit at rank 1
        ["x", "y", "c", "a", "z"],                                   # two relevant, ranks 3 and 4
        ["x", "y", "z", "w", "v", "u", "t", "s", "r", "q", "b"],     # relevant only at rank 11
        ["x", "d", "y", "e"],                                        # ranks 2 and 4 of three relevant
        ["x", "y"],                                                  # miss
        ["x"] + [f"r{i}" for i in range(1, 12)],                     # more relevant ids (12) than k
    ]
    relevants = [{"a"}, {"c", "a"}, {"b"}, {"d", "e", "f"}, {"b"}, {f"r{i}" for i in range(1, 13)}]
    ours = ev.retrieval_metrics(rankings, relevants, ks=(1, 3, 5, 10))

    ids = [str(i) for i in range(len(rankings))]
    corpus = {c: c for r in rankings for c in r} | {c: c for rel in relevants for c in rel}
    lib = InformationRetrievalEvaluator(
        queries={q: q for q in ids}, corpus=corpus, relevant_docs=dict(zip(ids, relevants)),
        accuracy_at_k=[1, 3, 5, 10], mrr_at_k=[10], ndcg_at_k=[10], precision_recall_at_k=[10], map_at_k=[10],
        write_csv=False,
    ).compute_metrics([[{"corpus_id": c, "score": -rank} for rank, c in enumerate(r)] for r in rankings])

    for k in (1, 3, 5, 10):
        assert ours[f"hit@{k}"] == pytest.approx(lib["accuracy@k"][k])
    assert ours["mrr@10"] == pytest.approx(lib["mrr@k"][10])
    assert ours["ndcg@10"] == pytest.approx(lib["ndcg@k"][10])
    assert (ours["hit@1"], ours["hit@3"], ours["hit@10"]) == pytest.approx((1 / 6, 4 / 6, 4 / 6))
    assert ours["mrr@10"] == pytest.approx((1 + 1 / 3 + 0 + 1 / 2 + 0 + 1 / 2) / 6)

    # A query with no relevant id: the library drops it, ours counts it (a question whose gold
    # chunk is gone from the index must lower the score, not vanish from it).
    with_empty = ev.retrieval_metrics(rankings + [["a"]], relevants + [set()], ks=(1, 3, 5, 10))
    assert with_empty["mrr@10"] == pytest.approx(lib["mrr@k"][10] * 6 / 7) and with_empty["n_queries"] == 7

def test_evaluate_retriever_uses_search_batch():
    chunks = [Chunk(chunk_id=c, doc_id="d", doc_name="d", text=c, page_start=1, page_end=1, char_start=0, char_end=1)
              for c in "abc"]

    class Fixed:
        def search_batch(self, queries, top_k=4, hybrid=False):
            return [[Hit(chunk=c, score=1.0, rank=i + 1) for i, c in enumerate(chunks[:top_k])] for _ in queries]

    m = ev.evaluate_retriever(Fixed(), [("q1", {"b"}), ("q2", {"a"})])
    assert m["mrr@10"] == pytest.approx((0.5 + 1.0) / 2) and m["hit@1"] == 0.5


def test_token_f1_squad_style():
    assert ev.token_f1("The cat sat", "cat sat down", "en") == pytest.approx(0.8)  # P = 1, R = 2/3
    assert ev.token_f1("Não é possível [1].", "não é possível", "pt") == 1.0  # markers, case, punctuation
    assert ev.token_f1("O servidor usa LDAP", "usa um servidor LDAP", "pt") == 1.0  # articles dropped, order ignored
    assert ev.token_f1("não", "nao", "pt") == 0.0  # accents are kept
    assert ev.token_f1("", "", "pt") == 1.0 and ev.token_f1("algo", "", "pt") == 0.0
    assert ev.exact_match("A senha.", "senha", "pt") == 1.0


def test_rouge_l_unicode_tokens():
    # tokens (articles dropped): [gato, subiu, no, telhado] vs [gato, está, no, telhado]: LCS 3 -> P = R = F = 3/4
    assert ev.rouge_l("o gato subiu no telhado", "o gato está no telhado", "pt") == pytest.approx(0.75)
    assert ev.rouge_l("configuração da ação", "configuração da ação", "pt") == 1.0
    assert ev.rouge_l("ação", "acao", "pt") == 0.0  # rouge-score's default tokenizer would keep only "a" / "o"
    assert ev.rouge_l("z y x", "x y z", "en") == pytest.approx(1 / 3)  # LCS 1 of 3: order matters, unlike F1
    agg = ev.answer_metrics(["o gato", "x"], ["gato", "y"])
    assert agg["token_f1"] == pytest.approx(0.5) and agg["n"] == 2


class TinyIndex:
    """Returns the chunk named in the question first (score 0.9), others below min_score."""

    name = "tiny"

    def __init__(self, chunks):
        self.chunks = chunks

    def search(self, query, top_k=4, hybrid=False):
        ranked = sorted(self.chunks, key=lambda c: c.chunk_id not in query)
        return [Hit(chunk=c, score=0.9 if i == 0 else 0.1, rank=i + 1) for i, c in enumerate(ranked[:top_k])]

    def search_batch(self, queries, top_k=4, hybrid=False):
        return [self.search(q, top_k) for q in queries]


def test_evaluate_generator_through_rag():
    chunks = [Chunk(chunk_id=f"c{i}", doc_id="d", doc_name="d.pdf", text=f"O valor {i} é {i * 7}.", page_start=i + 1,
                    page_end=i + 1, char_start=0, char_end=10) for i in range(3)]
    examples = [TrainExample(question=f"Qual o valor de c{i}?", answer=f"O valor é {i * 7}.", gold_chunk_ids=[f"c{i}"])
                for i in range(3)]
    perfect = FakeGenerator(fn=lambda m: "O valor é " + m[-1]["content"].split(" é ")[1].split(".")[0] + ". [1]")
    res = ev.evaluate_generator(examples, TinyIndex(chunks), perfect)
    assert res["n"] == 3 and res["token_f1"] == 1.0 and res["rouge_l"] == 1.0
    assert res["gold_cited_rate"] == 1.0 and res["gold_retrieved_rate"] == 1.0 and res["not_found_rate"] == 0.0
    assert len(perfect.calls) == 3  # answered through rag, one generation per question
    wrong = FakeGenerator(fn=lambda m: "Os documentos não contêm a resposta para esta pergunta.")
    res = ev.evaluate_generator(examples, TinyIndex(chunks), wrong, max_questions=2)
    assert res["n"] == 2 and res["not_found_rate"] == 1.0 and res["token_f1"] < 0.3 and res["gold_cited_rate"] == 0.0
    rows = ev.ablation(examples, {"base": TinyIndex(chunks)}, {"good": perfect, "bad": wrong})
    assert [(r["index"], r["generator"]) for r in rows] == [("base", "good"), ("base", "bad")]
    assert rows[0]["token_f1"] > rows[1]["token_f1"] and rows[0]["mrr@10"] == 1.0
