"""RAG: the prompt with numbered sources, the relevance gate, citation parsing and mapping,
streaming. A fake index (fixed scores) isolates the logic; one test runs the real
VectorIndex with the tiny embedder."""

from __future__ import annotations

import pytest
from tiny_embedder import tiny_embedder_dir  # noqa: F401

from oracle.config import RAGConfig
from oracle.llm import FakeGenerator
from oracle.rag import NOT_FOUND
from oracle.schema import Answer, Chunk, Hit, Retrieved

EDITAL = "edital-12-2026.pdf"
MANUAL = "manual-debian.pdf"

CHUNK_VALUE = Chunk(
    chunk_id="edital:0:aaaaaaaa", doc_id="edital", doc_name=EDITAL,
    text=("Chamada pública para seleção de projetos culturais. O valor total destinado a esta "
          "chamada é de R$ 250.000,00 (duzentos e cinquenta mil reais). Cada projeto recebe no máximo R$ 25.000,00."),
    page_start=1, page_end=1, char_start=0, char_end=200,
)  # fmt: skip
CHUNK_DEADLINE = Chunk(
    chunk_id="edital:900:bbbbbbbb", doc_id="edital", doc_name=EDITAL,
    text=("O resultado preliminar será publicado em 20 de abril de 2026.\nOs recursos contra o resultado "
          "poderão ser apresentados em até cinco dias úteis após a publicação."),
    page_start=2, page_end=3, char_start=900, char_end=1100,
)  # fmt: skip
#: A chunk that names the scholarship of the off-topic question but gives no amount.
CHUNK_BOLSA = Chunk(chunk_id="e:1:x", doc_id="e", doc_name=EDITAL, page_start=1, page_end=1, char_start=0,
                    char_end=10, text="A bolsa de estudos para professores será definida em portaria própria.")
CHUNK_NETWORK = Chunk(
    chunk_id="manual:50:cccccccc", doc_id="manual", doc_name=MANUAL,
    text="Para configurar a rede, edite /etc/network/interfaces e reinicie o serviço networking.",
    page_start=7, page_end=7, char_start=50, char_end=140,
)  # fmt: skip


class FakeIndex:
    """Returns fixed hits (scores chosen by the test); records the queries."""

    name = "fake-index"

    def __init__(self, scored: list[tuple[Chunk, float]]):
        self.scored = scored
        self.queries: list[tuple[str, int, bool]] = []

    def search(self, query, top_k=4, hybrid=False):
        self.queries.append((query, top_k, hybrid))
        ranked = sorted(self.scored, key=lambda cs: -cs[1])[:top_k]
        return [Hit(chunk=c, score=s, rank=r) for r, (c, s) in enumerate(ranked, start=1)]


def hits_of(*chunks: Chunk) -> list[Hit]:
    return [Hit(chunk=c, score=0.9 - 0.01 * i, rank=i + 1) for i, c in enumerate(chunks)]


def run(question, index, generator, cfg=None, language=None):
    items = list(__import__("oracle.rag", fromlist=["stream_answer"]).stream_answer(
        question, index, generator, cfg, language))  # fmt: skip
    *pieces, final = items
    assert isinstance(final, Answer)
    if pieces and isinstance(pieces[0], Retrieved):  # the sources, before the generator reads them
        pieces = pieces[1:]
    assert all(isinstance(p, str) for p in pieces)
    return pieces, final


# --- prompt ----------------------------------------------------------------------


def test_build_messages_numbers_sources_and_ends_with_question():
    from oracle.rag import ANSWER_INSTRUCTIONS, build_messages

    question = "Qual é o valor total do edital?"
    messages = build_messages(question, hits_of(CHUNK_VALUE, CHUNK_DEADLINE, CHUNK_NETWORK), style="v1")
    assert [m["role"] for m in messages] == ["system", "user"]
    system, user = messages[0]["content"], messages[1]["content"]
    assert NOT_FOUND["pt"] in system
    assert f"--- Fonte 1 ({EDITAL}, p. 1) ---\n{CHUNK_VALUE.text}" in user
    assert f"--- Fonte 2 ({EDITAL}, p. 2-3) ---\n{CHUNK_DEADLINE.text}" in user
    assert f"--- Fonte 3 ({MANUAL}, p. 7) ---\n{CHUNK_NETWORK.text}" in user
    assert user.index("Fonte 1") < user.index("Fonte 2") < user.index("Fonte 3") < user.index(question)
    # the answer instruction comes last, after the question (small models follow it there)
    assert user.rstrip().endswith(ANSWER_INSTRUCTIONS["pt"])
    # deterministic: the fine-tuning data is built with the same function
    assert build_messages(question, hits_of(CHUNK_VALUE, CHUNK_DEADLINE, CHUNK_NETWORK), style="v1") == messages


def test_prompt_styles_v2_asks_first_and_v3_adds_an_example():
    from oracle.rag import DEFAULT_PROMPT, DIRECT_INSTRUCTIONS, ONE_SHOT, build_messages

    question = "Qual é o valor total do edital?"
    v2 = build_messages(question, hits_of(CHUNK_VALUE), style="v2")
    user = v2[1]["content"]
    assert user.startswith(f"Pergunta: {question}\n\nContexto:")  # the question before the sources...
    assert user.rstrip().endswith(f"Pergunta: {question}\n" + DIRECT_INSTRUCTIONS["pt"])  # ...and after
    assert ONE_SHOT["pt"] not in v2[0]["content"]
    v3 = build_messages(question, hits_of(CHUNK_VALUE), style="v3")
    assert v3[0]["content"].endswith(ONE_SHOT["pt"]) and v3[1] == v2[1]
    assert build_messages(question, hits_of(CHUNK_VALUE)) == build_messages(question, hits_of(CHUNK_VALUE),
                                                                            style=DEFAULT_PROMPT)
    with pytest.raises(ValueError):
        build_messages(question, [], style="v9")


def test_prompt_style_v4_asks_for_the_context_words():
    from oracle.rag import EXTRACTIVE_INSTRUCTIONS, build_messages

    question = "Qual é o valor total do edital?"
    v1 = build_messages(question, hits_of(CHUNK_VALUE), style="v1")
    v4 = build_messages(question, hits_of(CHUNK_VALUE), style="v4")
    assert v4[0] == v1[0]
    assert v4[1]["content"].startswith("Contexto:")
    assert v4[1]["content"].endswith(f"Pergunta: {question}\n" + EXTRACTIVE_INSTRUCTIONS["pt"])


def test_prompt_style_v5_puts_the_best_source_last_with_its_number():
    from oracle.config import RAGConfig
    from oracle.rag import PROMPT_STYLES, build_messages

    question = "Qual é o valor total do edital?"
    user = build_messages(question, hits_of(CHUNK_VALUE, CHUNK_DEADLINE, CHUNK_NETWORK), style="v5")[1]["content"]
    assert user.index("Fonte 3") < user.index("Fonte 2") < user.index("Fonte 1") < user.index("Pergunta:")
    assert user.index(CHUNK_VALUE.text) > user.index(CHUNK_NETWORK.text)  # the best hit keeps [1], last
    for style in PROMPT_STYLES:  # the config accepts exactly the styles rag knows
        assert RAGConfig(prompt=style).prompt == style


def test_build_messages_in_english():
    from oracle.rag import build_messages

    messages = build_messages("What is the total amount?", hits_of(CHUNK_VALUE), language="en", style="v1")
    assert NOT_FOUND["en"] in messages[0]["content"]
    assert NOT_FOUND["pt"] not in messages[0]["content"]
    assert messages[0]["content"] != build_messages("x", [], "pt")[0]["content"]
    assert "Question: What is the total amount?" in messages[1]["content"]
    assert "--- Source 1 (" in messages[1]["content"]
    assert messages[1]["content"].endswith("Answer in English in one or two complete sentences.")


def test_parse_citations():
    from oracle.rag import parse_citations

    assert parse_citations("A [1]. B [1, 2]. C [3][2]. D [ 4 ; 1 ]") == [1, 2, 3, 4]
    assert parse_citations("fora [9] e [0] e [2]", n_sources=3) == [2]
    assert parse_citations("sem citação, [a], [1.5]") == []


def test_best_snippet_picks_the_overlapping_sentence_and_caps_length():
    from oracle.rag import best_snippet

    snippet = best_snippet(CHUNK_VALUE.text, "O valor total é R$ 250.000,00 [1].")
    assert snippet.startswith("O valor total destinado") and "250.000,00" in snippet
    assert "Chamada" not in snippet and "Cada projeto" not in snippet
    long = "palavra " * 200 + "."
    assert len(best_snippet(long, "palavra")) <= 300


# --- answers ---------------------------------------------------------------------


def test_answer_streams_and_maps_citations_to_doc_and_page():
    index = FakeIndex([(CHUNK_VALUE, 0.88), (CHUNK_DEADLINE, 0.84), (CHUNK_NETWORK, 0.80)])
    reply = ("O valor total é de R$ 250.000,00 [1]. Os recursos cabem em até cinco dias úteis "
             "após a publicação [2][1].")  # fmt: skip
    gen = FakeGenerator(replies=[reply], name="local:fake-model", adapter="adapters/v1")
    cfg = RAGConfig(top_k=3, min_score=0.82, max_new_tokens=77, temperature=0.0)
    pieces, ans = run("Qual é o valor total do edital e o prazo de recurso?", index, gen, cfg)
    assert len(pieces) > 3 and "".join(pieces).strip() == ans.text == reply
    assert index.queries == [("Qual é o valor total do edital e o prazo de recurso?", 3, True)]  # hybrid by default
    assert gen.call_kwargs == [{"max_new_tokens": 77, "temperature": 0.0, "suppress_start": None}]
    # the best hit passes the gate: every retrieved hit reaches the prompt, numbered by rank
    prompt = gen.calls[0][1]["content"]
    assert f"--- Fonte 3 ({MANUAL}, p. 7) ---\n{CHUNK_NETWORK.text}" in prompt
    assert [c.n for c in ans.citations] == [1, 2]
    first, second = ans.citations
    assert (first.doc_name, first.page, first.chunk_id) == (EDITAL, 1, CHUNK_VALUE.chunk_id)
    assert (second.doc_name, second.page, second.chunk_id) == (EDITAL, 2, CHUNK_DEADLINE.chunk_id)
    assert "250.000,00" in first.snippet and "cinco dias" in second.snippet
    assert first.score == pytest.approx(0.88) and len(first.snippet) <= 300
    assert [s.chunk_id for s in ans.sources] == [
        c.chunk_id for c in (CHUNK_VALUE, CHUNK_DEADLINE, CHUNK_NETWORK)
    ]
    assert [s.n for s in ans.sources] == [1, 2, 3]
    assert ans.grounded is True
    assert (ans.model, ans.adapter, ans.index) == ("local:fake-model", "adapters/v1", "fake-index")
    assert ans.language == "pt" and ans.elapsed_s > 0


def test_uncited_answer_gets_citations_attributed_by_overlap():
    index = FakeIndex([(CHUNK_VALUE, 0.9), (CHUNK_NETWORK, 0.85)])
    reply = "Para configurar a rede, edite o arquivo interfaces. Depois tome um café com os colegas."
    _, ans = run("Como configurar a rede?", index, FakeGenerator(replies=[reply]), RAGConfig(min_score=0.5))
    # the supported sentence cites the network chunk (source 2); the unsupported one stays uncited
    assert ans.text == "Para configurar a rede, edite o arquivo interfaces [2]. Depois tome um café com os colegas."
    assert [(c.n, c.doc_name, c.page) for c in ans.citations] == [(2, MANUAL, 7)]
    assert [s.doc_name for s in ans.sources] == [EDITAL, MANUAL] and ans.grounded is True


def test_quote_lines_are_split_off_the_answer():
    from oracle.rag import split_quote_lines

    first = 'Trecho: "O servidor principal é 10.0.2.2." [1]\nO IP é 10.0.2.2 [1].'
    assert split_quote_lines(first) == ("O IP é 10.0.2.2 [1].", ["O servidor principal é 10.0.2.2."])
    last = 'O IP é 10.0.2.2 [1].\nTrecho: “O servidor principal é 10.0.2.2.” [1][2]'  # version-1 targets, curly quotes
    assert split_quote_lines(last) == ("O IP é 10.0.2.2 [1].", ["O servidor principal é 10.0.2.2."])
    assert split_quote_lines('Excerpt: "Unclosed quote') == ("", ["Unclosed quote"])
    assert split_quote_lines("Sem trecho: a resposta.") == ("Sem trecho: a resposta.", [])


def test_an_adapters_quote_line_is_not_part_of_the_answer():
    index = FakeIndex([(CHUNK_NETWORK, 0.9), (CHUNK_VALUE, 0.85)])
    quote = 'Trecho: "Para configurar a rede, edite /etc/network/interfaces e reinicie o serviço networking." [1]'
    reply = quote + "\nEdite /etc/network/interfaces e reinicie o serviço networking [1]."
    pieces, ans = run("Como configurar a rede?", index, FakeGenerator(replies=[reply]), RAGConfig(min_score=0.5))
    assert "".join(pieces).strip() == reply  # the stream is the model's reply as it came
    assert ans.text == "Edite /etc/network/interfaces e reinicie o serviço networking [1]." and ans.verdict == ""
    assert [c.chunk_id for c in ans.citations] == [CHUNK_NETWORK.chunk_id]
    # a reply that is only its quote: the quoted sentence, when a source holds it, is the answer
    _, ans = run("Como configurar a rede?", index, FakeGenerator(replies=[quote]), RAGConfig(min_score=0.5))
    assert ans.text.startswith("Para configurar a rede, edite /etc/network/interfaces") and ans.text.endswith("[1]")
    # a quote that no source holds (a looping adapter) leaves nothing: an empty reply, retried, then
    # the source sentence that best covers the question is quoted (the echo guard)
    looping = 'Trecho: "Trecho: "Trecho: "Trecho: "Trecho: "'
    gen = FakeGenerator(replies=[looping, looping])
    _, ans = run("Como configurar a rede?", index, gen, RAGConfig(min_score=0.5))
    assert len(gen.calls) == 2 and ans.verdict == "quoted" and "Trecho" not in ans.text


def test_unsupported_answer_stays_uncited_but_keeps_sources():
    index = FakeIndex([(CHUNK_NETWORK, 0.9)])
    gen = FakeGenerator(replies=["Pergunte ao suporte técnico amanhã."])
    _, ans = run("Como configurar a rede?", index, gen, RAGConfig(min_score=0.5))
    assert ans.text == "Pergunte ao suporte técnico amanhã." and ans.citations == []
    assert [s.doc_name for s in ans.sources] == [MANUAL] and ans.sources[0].page == 7


def test_nothing_relevant_answers_not_found_without_calling_the_generator():
    index = FakeIndex([(CHUNK_VALUE, 0.70), (CHUNK_NETWORK, 0.69)])
    gen = FakeGenerator(replies=["inventado [1]"])
    pieces, ans = run("Qual é a capital da Mongólia?", index, gen, RAGConfig(min_score=0.8), language="pt")
    assert gen.calls == []
    assert ans.text == NOT_FOUND["pt"] == "".join(pieces)
    assert ans.grounded is False and ans.citations == [] and ans.sources == []
    _, ans_en = run("What is the capital of Mongolia?", index, gen, RAGConfig(min_score=0.8), language="en")
    assert ans_en.text == NOT_FOUND["en"] and gen.calls == []


def test_model_saying_not_found_is_not_grounded():
    index = FakeIndex([(CHUNK_NETWORK, 0.9)])
    gen = FakeGenerator(replies=[NOT_FOUND["pt"]])
    # min_coverage 0: past the lexical gate, so that the model's own "not found" is what is tested
    _, ans = run("Qual é o horário de atendimento?", index, gen, RAGConfig(min_score=0.5, min_coverage=0.0),
                 language="pt")
    assert len(gen.calls) == 1 and ans.grounded is False and ans.citations == []
    assert ans.verdict == "not_found"


def test_lexical_gate_refuses_a_question_whose_words_the_sources_lack():
    """A high cosine is not enough: the chunks must contain the question's rare words."""
    index = FakeIndex([(CHUNK_NETWORK, 0.95), (CHUNK_DEADLINE, 0.9)])
    gen = FakeGenerator(replies=["R$ 1.200 [1]"])
    _, ans = run("Qual é o valor da bolsa de estudos para professores?", index, gen, RAGConfig(min_score=0.5),
                 language="pt")
    assert gen.calls == [] and ans.grounded is False and ans.verdict == "off_topic"
    assert ans.text == NOT_FOUND["pt"]
    # the same question with the gate off reaches the model
    _, ans = run("Qual é o valor da bolsa de estudos para professores?", index, gen,
                 RAGConfig(min_score=0.5, guard=False), language="pt")
    assert len(gen.calls) == 1 and ans.text.startswith("R$ 1.200")


def test_answer_with_a_number_absent_from_the_sources_becomes_not_found():
    """The edital case: the question is on topic, the model invents a figure."""
    index = FakeIndex([(CHUNK_VALUE, 0.9)])
    gen = FakeGenerator(replies=["Cada projeto recebe R$ 30.000,00 do total."])
    _, ans = run("Quanto cada projeto recebe no máximo?", index, gen, RAGConfig(min_score=0.5), language="pt")
    assert ans.text == NOT_FOUND["pt"] and ans.grounded is False
    assert ans.verdict == "unsupported" and ans.unsupported == ["30.000,00"]
    assert ans.draft.startswith("Cada projeto recebe R$ 30.000,00")
    # a figure the source states passes, cited with the sentence that holds it
    gen = FakeGenerator(replies=["Cada projeto recebe no máximo R$ 25.000,00."])
    _, ans = run("Quanto cada projeto recebe no máximo?", index, gen, RAGConfig(min_score=0.5), language="pt")
    assert ans.verdict == "" and ans.grounded and "25.000,00" in ans.text
    assert ans.citations[0].snippet == "Cada projeto recebe no máximo R$ 25.000,00."
    assert ans.citations[0].verified


def test_the_sources_are_announced_before_the_generator_reads_them():
    """One Retrieved, with the hits in prompt order, comes before the answer's first piece; a gate
    that answers "not found" at once announces nothing."""
    from oracle.rag import stream_answer

    index = FakeIndex([(CHUNK_VALUE, 0.9), (CHUNK_DEADLINE, 0.85)])
    seen_by_generator: list[int] = []
    items = []
    gen = FakeGenerator(fn=lambda m: (seen_by_generator.append(len(items)), "O valor é R$ 250.000,00.")[1])
    for item in stream_answer("Qual é o valor total da chamada?", index, gen, RAGConfig(min_score=0.5), "pt"):
        items.append(item)
    assert isinstance(items[0], Retrieved) and isinstance(items[-1], Answer)
    assert [h.chunk for h in items[0].hits] == [CHUNK_VALUE, CHUNK_DEADLINE]
    assert [s.chunk_id for s in items[-1].sources] == [CHUNK_VALUE.chunk_id, CHUNK_DEADLINE.chunk_id]
    assert seen_by_generator == [1]  # the generator was called after the announcement
    assert sum(isinstance(i, Retrieved) for i in items) == 1
    gated = list(stream_answer("Qual é o valor total da chamada?", index, FakeGenerator(replies=[]),
                               RAGConfig(min_score=0.95), "pt"))  # fmt: skip
    assert not any(isinstance(i, Retrieved) for i in gated) and gated[-1].text == NOT_FOUND["pt"]


CHUNK_CONTACT = Chunk(
    chunk_id="edital:1500:dddddddd", doc_id="edital", doc_name=EDITAL, page_start=4, page_end=4,
    char_start=1500, char_end=1650,
    text=("Dúvidas sobre a chamada pública podem ser enviadas para cultura@prefeitura.example.br. "
          "O edital completo está publicado em https://prefeitura.example.br/editais."),
)  # fmt: skip


@pytest.mark.parametrize(
    "chunk, question, without, verdict, right",
    [
        (CHUNK_VALUE, "Qual é o valor total destinado à chamada pública de projetos culturais?",
         "A chamada pública destina um valor total aos projetos culturais.", "no_figure",
         "O valor total destinado à chamada é de R$ 250.000,00."),
        (CHUNK_CONTACT, "Qual é o e-mail para tirar dúvidas sobre a chamada pública?",
         "As dúvidas podem ser tiradas em https://prefeitura.example.br/editais.", "no_email",
         "As dúvidas podem ser enviadas para cultura@prefeitura.example.br."),
    ],
)  # fmt: skip
def test_an_answer_without_the_kind_of_thing_the_question_asks_for_becomes_not_found(
    chunk, question, without, verdict, right
):
    """Expected answer types: a figure asked for and none given, an e-mail asked for and a web
    address given; the same sources answered with the right kind of thing pass."""
    index = FakeIndex([(chunk, 0.9)])
    _, ans = run(question, index, FakeGenerator(replies=[without]), RAGConfig(min_score=0.5), language="pt")
    assert ans.text == NOT_FOUND["pt"] and ans.verdict == verdict and ans.draft == without
    _, ans = run(question, index, FakeGenerator(replies=[right]), RAGConfig(min_score=0.5), language="pt")
    assert ans.verdict == "" and right.rstrip(".") in ans.text


def test_a_web_address_answers_a_question_that_does_not_ask_for_an_email():
    index = FakeIndex([(CHUNK_CONTACT, 0.9)])
    gen = FakeGenerator(replies=["O edital está em https://prefeitura.example.br/editais."])
    _, ans = run("Onde está publicado o edital completo?", index, gen, RAGConfig(min_score=0.5), language="pt")
    assert ans.verdict == "" and "https://prefeitura.example.br/editais" in ans.text


def test_echo_is_retried_then_quoted():
    """An answer that repeats the question is retried once with another instruction; when the
    retry echoes too, the sentence of the sources that best covers the question is shown."""
    from oracle.rag import RETRY_INSTRUCTIONS

    index = FakeIndex([(CHUNK_DEADLINE, 0.9)])
    question = "Quando será publicado o resultado preliminar?"
    gen = FakeGenerator(replies=["Quando será publicado o resultado preliminar? [1]",
                                 "O resultado preliminar será publicado em 20 de abril de 2026."])
    _, ans = run(question, index, gen, RAGConfig(min_score=0.5), language="pt")
    assert len(gen.calls) == 2 and gen.calls[1][-1]["content"].endswith(RETRY_INSTRUCTIONS["pt"])
    assert ans.verdict == "retried" and "20 de abril de 2026" in ans.text
    assert ans.draft.startswith("Quando será publicado")
    gen = FakeGenerator(replies=["O resultado preliminar.", ""])
    _, ans = run(question, index, gen, RAGConfig(min_score=0.5), language="pt")
    assert ans.verdict == "quoted"
    assert ans.text.startswith("O resultado preliminar será publicado em 20 de abril de 2026.")
    assert ans.citations and ans.citations[0].verified


def test_a_heading_is_retried_like_an_echo():
    """A reply that is only a section heading of a source names where the answer is instead of
    giving it: it is retried, and a heading again falls back to the best sentence, never the
    heading itself."""
    heading = Chunk(
        chunk_id="manual:900:dddddddd", doc_id="manual", doc_name=MANUAL,
        text="11.3.3 Resumo do site\nO resumo do site é mantido pelo administrador da rede escolar.",
        page_start=9, page_end=9, char_start=900, char_end=990,
    )
    index = FakeIndex([(heading, 0.9)])
    question = "Quem gerencia o resumo do site?"
    gen = FakeGenerator(replies=["11.3.3 Resumo do site [1]", "O administrador da rede escolar [1]."])
    _, ans = run(question, index, gen, RAGConfig(min_score=0.5), language="pt")
    assert len(gen.calls) == 2 and ans.verdict == "retried"
    assert ans.text == "O administrador da rede escolar [1]." and ans.draft == "11.3.3 Resumo do site [1]"
    gen = FakeGenerator(replies=["11.3.3 Resumo do site [1]", "1. 11.3.3 Resumo do site"])
    _, ans = run(question, index, gen, RAGConfig(min_score=0.5), language="pt")
    assert ans.verdict == "quoted"
    assert ans.text == "O resumo do site é mantido pelo administrador da rede escolar. [1]"


def test_a_reply_that_sends_the_reader_to_the_sources_is_retried_like_an_echo():
    """ "Siga os passos descritos no contexto fornecido" names no step: it is retried, and the
    retry's answer is shown; a reply that names the step and cites the context is kept."""
    index = FakeIndex([(CHUNK_DEADLINE, 0.9)])
    question = "Quando será publicado o resultado preliminar?"
    deferral = "Para saber quando será publicado o resultado preliminar, siga as informações descritas no contexto fornecido."
    gen = FakeGenerator(replies=[deferral, "O resultado preliminar será publicado em 20 de abril de 2026."])
    _, ans = run(question, index, gen, RAGConfig(min_score=0.5), language="pt")
    assert len(gen.calls) == 2 and ans.verdict == "retried" and ans.draft == deferral
    assert "20 de abril de 2026" in ans.text
    gen = FakeGenerator(replies=["Conforme o contexto, o resultado preliminar sai em 20 de abril de 2026 [1]."])
    _, ans = run(question, index, gen, RAGConfig(min_score=0.5), language="pt")
    assert len(gen.calls) == 1 and ans.verdict == "" and "20 de abril de 2026" in ans.text


def test_a_loop_stops_the_stream_and_is_cut():
    """A reply repeating one line is stopped soon after its third time (the generator is closed,
    so no more tokens are spent) and cut where the loop starts."""
    index = FakeIndex([(CHUNK_VALUE, 0.9)])
    item = "Cada projeto recebe no máximo R$ 25.000,00 [1]."
    looping = "\n".join(f"{i}. {item}" for i in range(1, 40))
    gen = FakeGenerator(replies=[looping])
    pieces, ans = run("Quanto recebe cada projeto?", index, gen, RAGConfig(min_score=0.5))
    streamed = "".join(pieces)
    assert len(streamed) < 4 * len(item)  # stopped within a line of the third, not at the 39th
    assert ans.text == f"1. {item}" and ans.verdict == ""
    assert ans.draft == streamed.strip()  # the reply as it came
    assert len(gen.calls) == 1
    # without the guards the reply streams to its end, as the model wrote it
    gen = FakeGenerator(replies=[looping])
    pieces, ans = run("Quanto recebe cada projeto?", index, gen, RAGConfig(min_score=0.5, guard=False))
    assert "".join(pieces) == looping


def test_language_detected_from_question():
    index = FakeIndex([(CHUNK_VALUE, 0.9)])
    gen = FakeGenerator(fn=lambda messages: "The total is R$ 250,000.00 [1].")
    _, ans = run("What is the total amount reserved for this public call for projects?", index, gen)
    assert ans.language == "en"
    assert NOT_FOUND["en"] in gen.calls[0][0]["content"]
    assert "Question:" in gen.calls[0][1]["content"]


def test_answer_equals_the_end_of_the_stream():
    from oracle.rag import answer

    index = FakeIndex([(CHUNK_VALUE, 0.9)])
    ans = answer(
        "Qual é o valor?", index, FakeGenerator(replies=["R$ 250.000,00 [1]"]), RAGConfig(min_score=0.5)
    )
    assert isinstance(ans, Answer) and ans.text == "R$ 250.000,00 [1]" and ans.citations[0].page == 1


def test_end_to_end_with_vector_index(tiny_embedder_dir):  # noqa: F811
    from oracle.index import VectorIndex
    from oracle.rag import retrieve, stream_answer

    index = VectorIndex.create(tiny_embedder_dir, name="rag")
    index.add([CHUNK_VALUE, CHUNK_DEADLINE, CHUNK_NETWORK])
    # the tiny embedder has no prompts: the exact chunk text is the nearest, cosine 1
    hits = retrieve(index, CHUNK_NETWORK.text, RAGConfig(top_k=2))
    assert len(hits) == 2 and hits[0].chunk.chunk_id == CHUNK_NETWORK.chunk_id
    gen = FakeGenerator(fn=lambda messages: "Edite /etc/network/interfaces [1].")
    assert hits[0].score == pytest.approx(1.0, abs=1e-4) and hits[1].score < hits[0].score
    # guard off: the question is the chunk itself, so any answer "echoes" it
    *_, ans = stream_answer(CHUNK_NETWORK.text, index, gen, RAGConfig(top_k=2, min_score=0.99, guard=False))
    assert ans.citations[0].doc_name == MANUAL and ans.citations[0].page == 7
    assert len(ans.sources) == 2 and ans.grounded
    # a question whose best hit is under the gate never reaches the generator
    other = "Quem ganhou a Copa do Mundo de 1970?"
    best = retrieve(index, other, RAGConfig(top_k=1))[0].score
    *_, gated = stream_answer(other, index, gen, RAGConfig(top_k=2, min_score=min(1.0, best + 1e-3)))
    assert gated.grounded is False and len(gen.calls) == 1
    assert ans.index == "rag"


@pytest.mark.slow
def test_real_models_answer_from_the_pdf_with_citations(workspace, tmp_path):
    """Default embedder + default generator on the 3-page notice: the facts of its 7 questions,
    cited to the right page, for all but one at most (the gold sets measure the rate; the 1.5B
    answers "not found" to one of them, with the answer in the first source)."""
    from docs import FACTS, make_pt_pdf

    from oracle.config import DEFAULT_GENERATOR
    from oracle.index import build_index
    from oracle.ingest import ingest_file
    from oracle.llm import get_generator
    from oracle.rag import answer

    doc = ingest_file(make_pt_pdf(tmp_path))
    index = build_index([doc], workspace, "edital")
    generator = get_generator(DEFAULT_GENERATOR)
    right = []
    for question, fact in FACTS.items():
        ans = answer(question, index, generator, RAGConfig(max_new_tokens=80))
        if ans.grounded and fact["evidence"] in ans.text and ans.citations and ans.citations[0].page == fact["page"]:
            right.append(question)
    assert len(right) >= len(FACTS) - 1, sorted(set(FACTS) - set(right))
    # clearly off-topic (e5 cosine ~0.77, under the default gate): refused without generating
    off = answer("Quem ganhou a Copa do Mundo de 1970?", index, generator, RAGConfig(max_new_tokens=60))
    assert off.grounded is False and off.text == NOT_FOUND["pt"] and off.sources == []


def test_retrieve_passes_top_k_and_hybrid():
    from oracle.rag import retrieve

    index = FakeIndex([(CHUNK_VALUE, 0.9), (CHUNK_DEADLINE, 0.8), (CHUNK_NETWORK, 0.7)])
    hits = retrieve(index, "valor", RAGConfig(top_k=2, hybrid=True))
    assert [h.chunk.chunk_id for h in hits] == [CHUNK_VALUE.chunk_id, CHUNK_DEADLINE.chunk_id]
    assert index.queries == [("valor", 2, True)]


class GatedIndex(FakeIndex):
    """A FakeIndex with the relevance gate a real index records for its embedder."""

    def __init__(self, scored, min_score: float):
        super().__init__(scored)
        self.min_score = min_score


def test_gate_is_the_indexs_unless_the_config_sets_one():
    from oracle.rag import relevance_gate

    assert RAGConfig().min_score is None
    # best hit 0.75: between an e5-like index gate (0.82) and a lower explicit one (0.5)
    index = GatedIndex([(CHUNK_VALUE, 0.75), (CHUNK_NETWORK, 0.6)], min_score=0.82)
    gen = FakeGenerator(fn=lambda messages: "R$ 250.000,00 [1]")
    _, gated = run("Qual é o valor?", index, gen, RAGConfig(), language="pt")
    assert gated.grounded is False and gated.text == NOT_FOUND["pt"] and gen.calls == []
    _, ans = run("Qual é o valor?", index, gen, RAGConfig(min_score=0.5), language="pt")
    assert ans.grounded is True and len(gen.calls) == 1 and ans.citations[0].page == 1
    # the other way round: a low index gate (MiniLM-like) lets it through, an explicit 0.8 does not
    low = GatedIndex([(CHUNK_VALUE, 0.75)], min_score=0.28)
    _, ans_low = run("Qual é o valor?", low, gen, None, language="pt")
    assert ans_low.grounded is True and len(gen.calls) == 2
    _, explicit = run("Qual é o valor?", low, gen, RAGConfig(min_score=0.8), language="pt")
    assert explicit.grounded is False and len(gen.calls) == 2
    assert relevance_gate(low, RAGConfig()) == 0.28 and relevance_gate(low, RAGConfig(min_score=-1.0)) == -1.0
    assert relevance_gate(FakeIndex([]), RAGConfig()) == 0.0  # an object without a gate: none


def test_config_accepts_no_gate_and_rejects_out_of_range():
    from oracle.errors import ConfigError

    assert RAGConfig(min_score=None).min_score is None and RAGConfig(min_score=-1.0).min_score == -1.0
    with pytest.raises(ConfigError):
        RAGConfig(min_score=1.5)


def test_answer_resting_on_a_chunk_that_ignores_the_question_becomes_not_found():
    """The retrieved set covers the question, but the sentence the model answers from (source 2)
    speaks of something else: the answer is refused with verdict off_topic."""
    value = CHUNK_BOLSA
    index = FakeIndex([(value, 0.9), (CHUNK_VALUE, 0.89)])
    gen = FakeGenerator(replies=["O valor total destinado a esta chamada é de R$ 250.000,00 [2]."])
    _, ans = run("Qual é o valor da bolsa de estudos para professores?", index, gen, RAGConfig(min_score=0.5),
                 language="pt")
    assert len(gen.calls) == 1 and ans.verdict == "off_topic" and ans.grounded is False
    assert ans.draft.startswith("O valor total destinado") and ans.text == NOT_FOUND["pt"]


def test_numbers_that_are_part_of_names_do_not_refuse_an_answer_to_a_question_without_a_figure():
    """A list of manual pages ("grep(1)") answers a question that asks for no figure: the "1"
    sits in table rows that do not repeat the question's words, which is no reason to refuse.
    The same numbers given for a question that asks for a figure are still refused."""
    table = Chunk(chunk_id="ref:0:dddddddd", doc_id="ref", doc_name="referencia.pdf", page_start=3, page_end=3,
                  char_start=0, char_end=200,
                  text=("As ferramentas de texto que usam expressões regulares estendidas estão na tabela abaixo.\n"
                        "Nome\nPágina\ngrep(1)\negrep(1)"))
    reply = "As ferramentas são grep(1) e egrep(1) [1]."
    gen = FakeGenerator(replies=[reply])
    _, ans = run("Quais ferramentas de texto usam expressões regulares estendidas?", FakeIndex([(table, 0.9)]), gen,
                 RAGConfig(min_score=0.5), language="pt")
    assert ans.verdict == "" and ans.grounded and ans.text.startswith("As ferramentas são grep(1)")
    gen = FakeGenerator(replies=["As ferramentas estendidas são 1 [1]."])
    _, ans = run("Quantas ferramentas de texto usam expressões regulares estendidas?", FakeIndex([(table, 0.9)]),
                 gen, RAGConfig(min_score=0.5), language="pt")
    assert ans.verdict == "off_topic" and ans.text == NOT_FOUND["pt"]


def test_the_generators_own_judgement_replaces_the_cited_chunk_gate():
    """A generator that can judge is asked, after its answer, whether the sources hold it: the
    same prompt up to the question, ending with ANSWERABLE_INSTRUCTIONS. Under min_answerable the
    answer is refused (verdict unanswerable, draft kept); over it, the answer stands even where the
    lexical gate on the cited chunk would have refused it (the case of the test above)."""
    from oracle.rag import ANSWERABLE_INSTRUCTIONS, build_messages

    value = CHUNK_BOLSA
    index = FakeIndex([(value, 0.9), (CHUNK_VALUE, 0.89)])
    question = "Qual é o valor da bolsa de estudos para professores?"
    reply = "O valor total destinado a esta chamada é de R$ 250.000,00 [2]."
    for p_yes, verdict in ((0.2, "unanswerable"), (0.8, "")):
        gen = FakeGenerator(replies=[reply], judge_fn=lambda messages, p=p_yes: p)
        _, ans = run(question, index, gen, RAGConfig(min_score=0.5), language="pt")
        assert ans.verdict == verdict and ans.p_answerable == p_yes
        assert (ans.text == NOT_FOUND["pt"]) == (verdict == "unanswerable")
        assert ans.draft == (reply if verdict else "")
        judged = gen.judge_calls[0]
        answered = gen.calls[0]
        assert judged[1]["content"].endswith(ANSWERABLE_INSTRUCTIONS["pt"])
        # the same prompt up to the last line: an engine's prefix cache serves all but that line
        assert judged[1]["content"].rsplit("\n", 1)[0] == answered[1]["content"].rsplit("\n", 1)[0]
        ranked = [Hit(chunk=value, score=0.9, rank=1), Hit(chunk=CHUNK_VALUE, score=0.89, rank=2)]
        assert judged == build_messages(question, ranked, "pt", ending="judge")
    # min_answerable 0 turns the check off: the lexical gate on the cited chunk decides again
    gen = FakeGenerator(replies=[reply], judge_fn=lambda messages: 0.9)
    _, ans = run(question, index, gen, RAGConfig(min_score=0.5, min_answerable=0.0), language="pt")
    assert gen.judge_calls == [] and ans.verdict == "off_topic" and ans.p_answerable is None


def test_the_judge_has_the_last_word_on_the_lexical_gate():
    """Retrieved chunks that share few of the question's rare words: without a judge, refused
    before generation (off_topic); a judge says yes -> answered (one judgement, not asked again
    after the answer); a judge says no -> refused without generating (unanswerable)."""
    index = FakeIndex([(CHUNK_NETWORK, 0.9)])
    question = "Como reinicio a placa de rede?"
    reply = "Edite /etc/network/interfaces e reinicie o serviço networking [1]."
    plain = FakeGenerator(replies=[reply])
    _, ans = run(question, index, plain, RAGConfig(min_score=0.5, min_coverage=0.9), language="pt")
    assert ans.verdict == "off_topic" and plain.calls == []
    yes = FakeGenerator(replies=[reply], judge_fn=lambda messages: 0.7)
    _, ans = run(question, index, yes, RAGConfig(min_score=0.5, min_coverage=0.9), language="pt")
    assert ans.verdict == "" and ans.text.startswith("Edite") and ans.p_answerable == 0.7
    assert len(yes.judge_calls) == 1 and len(yes.calls) == 1
    no = FakeGenerator(replies=[reply], judge_fn=lambda messages: 0.3)
    pieces, ans = run(question, index, no, RAGConfig(min_score=0.5, min_coverage=0.9), language="pt")
    assert ans.verdict == "unanswerable" and ans.text == NOT_FOUND["pt"] and no.calls == []
    assert pieces == [NOT_FOUND["pt"]] and ans.grounded is False and ans.p_answerable == 0.3


def test_a_judge_not_trusted_to_overrule_can_only_refuse():
    """judge_overrules False (the 0.5B, adapters, unlisted models): the lexical gates stay, the judge
    is not asked before generating, and a 'Não' still refuses an answer the gates let through."""
    value = CHUNK_BOLSA
    index = FakeIndex([(value, 0.9), (CHUNK_VALUE, 0.89)])
    reply = "O valor total destinado a esta chamada é de R$ 250.000,00 [2]."
    gen = FakeGenerator(replies=[reply], judge_fn=lambda messages: 0.9, judge_overrules=False)
    _, ans = run("Qual é o valor da bolsa de estudos para professores?", index, gen, RAGConfig(min_score=0.5),
                 language="pt")
    assert ans.verdict == "off_topic" and ans.p_answerable == 0.9  # the cited-chunk gate still refuses
    network = FakeIndex([(CHUNK_NETWORK, 0.9)])
    gen = FakeGenerator(replies=["Edite /etc/network/interfaces [1]."], judge_fn=lambda m: 0.9,
                        judge_overrules=False)
    _, ans = run("Como reinicio a placa de rede?", network, gen, RAGConfig(min_score=0.5, min_coverage=0.9),
                 language="pt")
    assert ans.verdict == "off_topic" and gen.calls == [] and gen.judge_calls == []
    gen = FakeGenerator(replies=["Edite /etc/network/interfaces e reinicie o serviço networking [1]."],
                        judge_fn=lambda m: 0.2, judge_overrules=False)
    _, ans = run("Como configurar a rede?", network, gen, RAGConfig(min_score=0.5), language="pt")
    assert ans.verdict == "unanswerable" and ans.text == NOT_FOUND["pt"] and len(gen.calls) == 1


def test_only_the_bundled_15b_overrules_the_lexical_gates():
    from oracle.llm import LlamaCppGenerator, TransformersGenerator, _judge_overrules

    assert LlamaCppGenerator("qwen2.5-coder-1.5b-instruct").judge_overrules
    assert not LlamaCppGenerator("qwen2.5-coder-0.5b-instruct").judge_overrules
    assert TransformersGenerator("qwen2.5-coder-1.5b-instruct").judge_overrules
    assert not TransformersGenerator("some/hub-model").judge_overrules
    assert not _judge_overrules("qwen2.5-coder-1.5b-instruct", "runs/lora-1")  # an adapter: not measured


def test_the_judge_is_not_asked_about_refusals_it_cannot_overrule():
    """A reply that another guard refuses, or a 'not found' from a generator whose judgement is not
    trusted (or with min_answerable 0), costs no judgement."""
    index = FakeIndex([(CHUNK_VALUE, 0.9)])
    question = "Qual é o valor total do edital?"
    gen = FakeGenerator(replies=[NOT_FOUND["pt"]], judge_fn=lambda messages: 0.9, judge_overrules=False)
    _, ans = run(question, index, gen, RAGConfig(min_score=0.5), language="pt")
    assert ans.verdict == "not_found" and gen.judge_calls == [] and len(gen.calls) == 1
    gen = FakeGenerator(replies=[NOT_FOUND["pt"]], judge_fn=lambda messages: 0.9)
    _, ans = run(question, index, gen, RAGConfig(min_score=0.5, min_answerable=0.0), language="pt")
    assert ans.verdict == "not_found" and gen.judge_calls == [] and len(gen.calls) == 1
    gen = FakeGenerator(replies=["O valor total é de R$ 999.999,00 [1]."], judge_fn=lambda messages: 0.9)
    _, ans = run(question, index, gen, RAGConfig(min_score=0.5), language="pt")
    assert ans.verdict == "unsupported" and gen.judge_calls == []


def test_a_refusal_the_trusted_judge_disputes_is_answered_again():
    """The generator says 'not found', but judges (min_answerable or more) that the sources hold
    the answer: it answers the same prompt once more, barred from starting as the refusal did, and
    that answer goes through the same guards. Judged under min_answerable, the refusal stands."""
    index = FakeIndex([(CHUNK_VALUE, 0.9)])
    question = "Qual é o valor total do edital?"
    second = "O valor total destinado a esta chamada é de R$ 250.000,00 [1]."
    gen = FakeGenerator(replies=[NOT_FOUND["pt"], second], judge_fn=lambda messages: 0.8)
    pieces, ans = run(question, index, gen, RAGConfig(min_score=0.5), language="pt")
    assert ans.verdict == "reconsidered" and ans.text == second and ans.draft == NOT_FOUND["pt"]
    assert ans.grounded and [c.n for c in ans.citations] == [1] and ans.p_answerable == 0.8
    assert "".join(pieces) == NOT_FOUND["pt"]  # the stream is the first reply; the face shows the final text
    assert len(gen.judge_calls) == 1 and len(gen.calls) == 2  # one judgement serves the check after it too
    assert gen.calls[0] == gen.calls[1]  # the same prompt: an engine's prefix cache serves it
    assert [kw["suppress_start"] for kw in gen.call_kwargs] == [None, NOT_FOUND["pt"]]
    # judged under min_answerable: the refusal stands, no second answer
    gen = FakeGenerator(replies=[NOT_FOUND["pt"], second], judge_fn=lambda messages: 0.3)
    _, ans = run(question, index, gen, RAGConfig(min_score=0.5), language="pt")
    assert ans.verdict == "not_found" and ans.text == NOT_FOUND["pt"] and len(gen.calls) == 1
    assert ans.p_answerable == 0.3
    # the second answer refuses too, or names a figure found in no source: not found
    for reply, verdict in ((NOT_FOUND["pt"], "not_found"), ("O valor total é de R$ 999.999,00 [1].", "unsupported")):
        gen = FakeGenerator(replies=[NOT_FOUND["pt"], reply], judge_fn=lambda messages: 0.8)
        _, ans = run(question, index, gen, RAGConfig(min_score=0.5), language="pt")
        assert ans.verdict == verdict and ans.text == NOT_FOUND["pt"] and len(gen.calls) == 2
    # judged before generating (the lexical gate would refuse): that judgement decides, not asked again
    network = FakeIndex([(CHUNK_NETWORK, 0.9)])
    reply = "Edite /etc/network/interfaces e reinicie o serviço networking [1]."
    gen = FakeGenerator(replies=[NOT_FOUND["pt"], reply], judge_fn=lambda messages: 0.7)
    _, ans = run("Como reinicio a placa de rede?", network, gen, RAGConfig(min_score=0.5, min_coverage=0.9),
                 language="pt")
    assert ans.verdict == "reconsidered" and ans.text.startswith("Edite") and len(gen.judge_calls) == 1


def test_yes_share_compares_the_first_tokens_probabilities():
    import numpy as np

    from oracle.llm import _yes_share

    logits = np.log(np.array([0.1, 0.3, 0.1, 0.2, 0.3]))
    assert _yes_share(logits, [1, 2], [3]) == pytest.approx(0.4 / 0.6)
    assert _yes_share(logits, [1], [1, 3]) == pytest.approx(0.0)  # a shared id counts for neither side
    assert _yes_share(logits, [], []) == 0.5


def test_not_found_sentence_is_a_versioned_constant_not_a_translation(monkeypatch):
    """The reply fine-tuned adapters learned (RAFT's target) is pinned beside the prompt: a
    translation edited in oracle.i18n cannot change it; changing it means PROMPT_VERSION + retrain."""
    from oracle import i18n
    from oracle.rag import PROMPT_VERSION, not_found_sentence

    assert NOT_FOUND == {  # what adapters of PROMPT_VERSION 2 were trained to say
        "pt": "Os documentos não contêm a resposta para esta pergunta.",
        "en": "The documents do not contain the answer to this question.",
    } and PROMPT_VERSION == 2
    monkeypatch.setitem(i18n.STRINGS, "rag.not_found", {"pt": "Não sei.", "en": "No idea."})
    assert not_found_sentence("pt") == NOT_FOUND["pt"] and not_found_sentence("en-US") == NOT_FOUND["en"]
    assert not_found_sentence(None) == NOT_FOUND["pt"]

def test_is_abstention_recognises_declining_replies():
    from oracle.rag import is_abstention

    assert is_abstention(NOT_FOUND["pt"]) and is_abstention(NOT_FOUND["en"])
    assert is_abstention("O contexto não menciona o valor da bolsa.")
    assert is_abstention("Não há informação sobre isso nas fontes [1].")
    assert is_abstention("The context does not mention it.")
    assert not is_abstention("Não, o servidor principal não usa DHCP [1].")
    assert not is_abstention("O valor é R$ 250.000,00 [1].")
    # a bare yes or no before a refusal (prompt v7 asks yes/no questions to open so)
    assert is_abstention("Não. " + NOT_FOUND["pt"]) and is_abstention("No, " + NOT_FOUND["en"])
    assert not is_abstention("Sim. O rmdir remove diretórios vazios [1].")


def test_a_figure_from_an_unrelated_sentence_is_refused():
    """The issue's case: the mayor's salary answered with the notice's total amount."""
    mayor = Chunk(chunk_id="e:2:y", doc_id="e", doc_name=EDITAL, page_start=3, page_end=3, char_start=300,
                  char_end=400, text="O resultado final será homologado pelo prefeito de São João das Águas.")
    index = FakeIndex([(CHUNK_VALUE, 0.9), (mayor, 0.88)])
    gen = FakeGenerator(replies=["O salário do prefeito de São João das Águas é de R$ 250.000,00 [1]."])
    _, ans = run("Qual é o salário do prefeito de São João das Águas?", index, gen, RAGConfig(min_score=0.5),
                 language="pt")
    assert ans.verdict == "off_topic" and ans.text == NOT_FOUND["pt"]
    assert "250.000,00" in ans.draft


def test_attributed_markers_stay_out_of_list_numbers():
    """The demo's list answer: markers go after each item's text, never inside "1."."""
    from oracle.rag import attribute_citations

    hits = hits_of(Chunk(chunk_id="e:0:z", doc_id="e", doc_name=EDITAL, page_start=2, page_end=2, char_start=0,
                         char_end=10, text="Documentos exigidos: cópia do estatuto social registrado em cartório; "
                                           "ata de eleição da diretoria atual."))
    text = ("Os documentos exigidos são:\n\n1. Cópia do estatuto social registrado em cartório\n"
            "2. Ata de eleição da diretoria atual.")
    out = attribute_citations(text, hits)
    assert "1 [1]." not in out and "2 [1]." not in out
    assert "\n1. Cópia" in out and "\n2. Ata" in out and "[1]" in out


def _doc_chunk(n: int, page: int, text: str) -> Chunk:
    return Chunk(chunk_id=f"g:{n}:a", doc_id="g", doc_name="guia.pdf", page_start=page, page_end=page,
                 char_start=n * 100, char_end=n * 100 + len(text), text=text)


def test_a_sentence_is_attributed_by_what_it_adds_to_the_question():
    """The packaging guide's case: the answer restates the question in Portuguese and adds the
    command, which only the untranslated English chunk holds. Counting all its words, the
    Portuguese chunk that merely speaks of chroots "won" (and was cited, with a quote that does
    not support the answer); what the sentence adds, the command and its option, is in the
    English one."""
    from oracle.rag import attribute_citations

    portuguese = _doc_chunk(1, 47, "Um chroot permite criar um ambiente de outra arquitetura. "
                                   "Use o comando debootstrap para criar um novo chroot:")
    english = _doc_chunk(2, 49, "You might want to specify another architecture. For this, you can use "
                                "$ mk-sbuild xenial --arch=i386")
    question = "Como crio um chroot do sbuild para outra arquitetura, como i386?"
    text = ("Para criar um chroot do sbuild para outra arquitetura, use o comando `mk-sbuild` "
            "com `--arch=i386`.")
    out = attribute_citations(text, hits_of(portuguese, english), question)
    assert out.endswith("[2].")
    assert attribute_citations(text, hits_of(english, portuguese), question).endswith("[1].")


def test_a_sentence_whose_addition_no_source_holds_stays_uncited():
    """Shared question words do not make a citation: a sentence whose own content (a URL, a
    number) is in no source is left without a marker, and a short option is not found inside a
    longer word ("-g" in "apt-get")."""
    from oracle.rag import attribute_citations

    backup = _doc_chunk(1, 73, "By default, backups are stored in the /skole/backup/ directory.")
    debug = _doc_chunk(2, 260, "Instale os pacotes com apt-get install -y gdb antes de depurar.")
    question = "Em que endereço fica a interface web de backup?"
    out = attribute_citations("A interface web de backup fica em `http://tjener.intern/backup`.",
                              hits_of(backup, debug), question)
    assert "[" not in out
    out = attribute_citations("Compile o programa com a opção `-g`.", hits_of(debug),
                              "Com que opção compilo o programa para depurar?")
    assert "[" not in out


def test_a_citation_its_source_does_not_hold_moves_to_the_source_that_does():
    """A small model's source numbers can follow where its training put the gold chunk: a sentence
    none of whose cited sources holds it cites the one that does; a supported citation, and a
    sentence no source holds, keep the model's markers."""
    from oracle.rag import attribute_citations

    group = _doc_chunk(1, 80, "O Debian usa um esquema de grupo privado de utilizador (UPG): cada utilizador "
                              "tem o seu próprio grupo privado.")
    other = _doc_chunk(2, 81, "O comando adduser cria a conta e a pasta pessoal do novo utilizador.")
    question = "Por que cada usuário tem um grupo com o próprio nome?"
    text = "Porque o Debian usa um esquema de grupo privado de utilizador (UPG) e cada utilizador tem o seu grupo [2]."
    assert attribute_citations(text, hits_of(group, other), question).endswith("grupo [1].")
    assert attribute_citations(text, hits_of(other, group), question) == text  # [2] holds it: kept
    two = "O adduser cria a conta [1]. Cada utilizador tem o seu próprio grupo privado (UPG) [1]."
    assert attribute_citations(two, hits_of(other, group), question) == (
        "O adduser cria a conta [1]. Cada utilizador tem o seu próprio grupo privado (UPG) [2].")
    nowhere = "Isso vem do Unix System V, de 1983 [2]."
    assert attribute_citations(nowhere, hits_of(group, other), question) == nowhere


def test_added_support_counts_commands_whole_and_numbers_double():
    from oracle.grounding import added_support, has_code_token

    assert has_code_token("--arch=i386", "$ mk-sbuild xenial --arch=i386")
    assert not has_code_token("-g", "sudo apt-get install gdb")
    assert has_code_token("-g", "compile com gcc -g -O0")
    share, code = added_support("Use `mk-sbuild` com `--arch=i386`.", "Como crio um chroot?",
                                "$ mk-sbuild xenial --arch=i386")
    assert code and share > 0.6
    # the question's own words add nothing: a restatement scores zero wherever it is
    assert added_support("Como crio um chroot?", "Como crio um chroot?", "crio um chroot") == (0.0, False)
    # a number the question lacks weighs double: 2 of 3 when only the number is found
    share, code = added_support("São 256 megabytes.", "Quanta memória?", "mínimo de 256 MiB")
    assert share == pytest.approx(2 / 3) and not code


def test_prompt_style_v6_asks_for_every_part_of_the_question():
    from oracle.config import RAGConfig
    from oracle.rag import COMPLETE_INSTRUCTIONS, build_messages

    question = "Qual é o valor total e qual é o prazo?"
    for lang in ("pt", "en"):
        v1 = build_messages(question, hits_of(CHUNK_VALUE, CHUNK_DEADLINE), language=lang, style="v1")
        v6 = build_messages(question, hits_of(CHUNK_VALUE, CHUNK_DEADLINE), language=lang, style="v6")
        assert v6[0] == v1[0]  # the same system prompt
        assert v6[1]["content"].endswith(COMPLETE_INSTRUCTIONS[lang])
        # v1's user message up to its last line, then v6's own last line
        assert v6[1]["content"].rsplit("\n", 1)[0] == v1[1]["content"].rsplit("\n", 1)[0]
    assert "todas as partes da pergunta" in COMPLETE_INSTRUCTIONS["pt"]
    assert RAGConfig(prompt="v6").prompt == "v6"


def test_prompt_style_v7_asks_a_yes_no_question_for_its_verdict_and_reason():
    from oracle.config import RAGConfig
    from oracle.rag import ANSWER_INSTRUCTIONS, POLAR_INSTRUCTIONS, build_messages

    hits = hits_of(CHUNK_VALUE, CHUNK_DEADLINE)
    for lang, polar, open_question in (
        ("pt", "Posso me inscrever depois do prazo?", "Qual é o prazo de inscrição?"),
        ("en", "Can I register after the deadline?", "What is the registration deadline?"),
    ):
        v1 = build_messages(polar, hits, language=lang, style="v1")
        v7 = build_messages(polar, hits, language=lang, style="v7")
        assert v7[0] == v1[0]
        assert v7[1]["content"].endswith(POLAR_INSTRUCTIONS[lang])
        assert v7[1]["content"].rsplit("\n", 1)[0] == v1[1]["content"].rsplit("\n", 1)[0]
        # any other question is asked exactly as v1 asks it
        assert build_messages(open_question, hits, language=lang, style="v7") == build_messages(
            open_question, hits, language=lang, style="v1")
        assert build_messages(open_question, hits, language=lang, style="v7")[1]["content"].endswith(
            ANSWER_INSTRUCTIONS[lang])
    assert "Sim ou Não" in POLAR_INSTRUCTIONS["pt"] and "por quê" in POLAR_INSTRUCTIONS["pt"]
    assert RAGConfig(prompt="v7").prompt == "v7"


def test_the_judge_overrules_the_lexical_gate_only_with_a_margin():
    """Where the lexical gate would refuse, a trusted judge's P(yes) must reach min_answerable +
    OVERRULE_MARGIN to answer; just over min_answerable the gate stands (off_topic, nothing
    generated), and under it the judge refuses (unanswerable)."""
    from oracle.rag import OVERRULE_MARGIN

    index = FakeIndex([(CHUNK_NETWORK, 0.9)])
    question = "Como reinicio a placa de rede?"
    reply = "Edite /etc/network/interfaces e reinicie o serviço networking [1]."
    cfg = RAGConfig(min_score=0.5, min_coverage=0.9, min_answerable=0.5)
    cases = ((0.5 + OVERRULE_MARGIN / 2, "off_topic"), (0.5 + OVERRULE_MARGIN, ""), (0.49, "unanswerable"))
    for p_yes, verdict in cases:
        gen = FakeGenerator(replies=[reply], judge_fn=lambda messages, p=p_yes: p)
        _, ans = run(question, index, gen, cfg, language="pt")
        assert ans.verdict == verdict and ans.p_answerable == p_yes
        assert len(gen.calls) == (1 if verdict == "" else 0)
        assert (ans.text == NOT_FOUND["pt"]) == (verdict != "")


def test_a_yes_no_question_is_judged_with_three_choices_and_a_higher_bar():
    """A trusted judge (the 1.5B) is asked a yes/no question's POLAR_ANSWERABLE_INSTRUCTIONS (yes /
    no / not in the sources), so that a "não" answer is not taken for "the sources do not say"; its
    P(A or B) must reach min_answerable + POLAR_JUDGE_SHIFT. An open question, an English one, or a
    judge not trusted (the 0.5B) keeps the Sim/Não question and the plain bar."""
    from oracle.rag import ANSWERABLE_INSTRUCTIONS, POLAR_ANSWERABLE_INSTRUCTIONS, POLAR_JUDGE_SHIFT, judge_threshold

    index = FakeIndex([(CHUNK_NETWORK, 0.9)])
    cfg = RAGConfig(min_score=0.5, min_coverage=0.0, min_answerable=0.5)
    polar = "Posso configurar a rede sem editar o /etc/network/interfaces?"
    reply = "Não, é preciso editar /etc/network/interfaces e reiniciar o serviço networking [1]."
    for p_yes, verdict in ((0.5 + POLAR_JUDGE_SHIFT - 0.01, "unanswerable"), (0.5 + POLAR_JUDGE_SHIFT, "")):
        gen = FakeGenerator(replies=[reply], judge_fn=lambda messages, p=p_yes: p, judge_overrules=True)
        assert judge_threshold(gen, polar, "pt", cfg) == pytest.approx(0.5 + POLAR_JUDGE_SHIFT)
        _, ans = run(polar, index, gen, cfg, language="pt")
        assert ans.verdict == verdict and ans.p_answerable == p_yes
        assert gen.judge_calls[0][1]["content"].endswith("\n" + POLAR_ANSWERABLE_INSTRUCTIONS["pt"])
    assert judge_threshold(gen, polar, "pt", RAGConfig(min_answerable=0.0)) == 0.0  # the judge off
    open_question = "Como configuro a rede?"
    assert judge_threshold(gen, open_question, "pt", cfg) == 0.5
    untrusted = FakeGenerator(replies=[reply], judge_fn=lambda messages: 0.55, judge_overrules=False)
    assert judge_threshold(untrusted, polar, "pt", cfg) == 0.5
    assert judge_threshold(gen, "Can I configure the network without editing the file?", "en", cfg) == 0.5
    _, ans = run(polar, index, untrusted, cfg, language="pt")
    assert ans.verdict == "" and untrusted.judge_calls[0][1]["content"].endswith("\n" + ANSWERABLE_INSTRUCTIONS["pt"])
    gen = FakeGenerator(replies=["Edite /etc/network/interfaces e reinicie o serviço networking [1]."],
                        judge_fn=lambda messages: 0.55, judge_overrules=True)
    _, ans = run(open_question, index, gen, cfg, language="pt")
    assert ans.verdict == "" and gen.judge_calls[0][1]["content"].endswith("\n" + ANSWERABLE_INSTRUCTIONS["pt"])
