"""Retrieval-augmented answers: question -> top-k chunks -> prompt with numbered sources ->
an answer that cites ``[n]`` -> :class:`oracle.schema.Answer` with its citations.

Retrieval-augmented generation after Lewis et al. 2020 ("Retrieval-Augmented Generation
for Knowledge-Intensive NLP Tasks"); numbered in-text citations in the style of
Gao et al. 2023 ("Enabling Large Language Models to Generate Text with Citations", ALCE).

The steps:

1. :func:`retrieve`: the ``top_k`` nearest chunks (dense, or dense + BM25 fused).
2. Relevance gate: when even the best hit scores under the gate (:func:`relevance_gate`:
   ``RAGConfig.min_score`` when set, else the index's ``min_score``, which follows its
   embedder; a cosine), the answer is :data:`NOT_FOUND` and the generator is never
   called (``grounded=False``): a small model given irrelevant text invents an answer.
   Otherwise all ``top_k`` hits go to the prompt (e5 cosines are compressed into ~0.7-0.95,
   so a per-hit cut at the same level would drop relevant chunks on noise).
3. :func:`build_messages`: THE prompt template (fine-tuning reuses it; train and serve must
   match). Deterministic: same question, hits and language, same messages.
4. The generator streams the answer; :func:`stream_answer` yields its pieces, then the
   final :class:`Answer`, whose ``citations`` are the sources whose ``[n]`` the text cites.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from oracle.config import PROMPT_STYLES, RAGConfig  # noqa: F401 - PROMPT_STYLES is part of this module's API
from oracle.schema import Answer, Citation, Hit, Retrieved

logger = logging.getLogger(__name__)

SNIPPET_MAX_CHARS = 300
"""Longest citation snippet, in characters."""

#: The exact reply when the documents do not contain the answer, by language: what the system
#: prompts ask for (their ``{not_found}``), what the relevance gate and the answer guards reply,
#: what chat shows, and the target fine-tuning trains on when the right chunk is left out
#: (:func:`oracle.training.data.build_raft`). A constant beside the prompt, not a translation in
#: :mod:`oracle.i18n`: editing it changes what trained adapters learned to say (and
#: :func:`_is_not_found` would no longer know their refusals), so bump :data:`PROMPT_VERSION`
#: and retrain.
NOT_FOUND: dict[str, str] = {
    "pt": "Os documentos não contêm a resposta para esta pergunta.",
    "en": "The documents do not contain the answer to this question.",
}

#: System prompts by answer language. ``{not_found}`` is :data:`NOT_FOUND` in that language.
#: Changing these changes what fine-tuned adapters were trained on: retrain after editing.
SYSTEM_PROMPTS: dict[str, str] = {
    "pt": (
        "Você é um assistente que responde perguntas em português usando somente o contexto fornecido. "
        "Se o contexto não contém a resposta, responda exatamente: {not_found}"
    ),
    "en": (
        "You are an assistant that answers questions in English using only the context provided. "
        "If the context does not contain the answer, reply exactly: {not_found}"
    ),
}

#: The last line of the user message. It asks for a plain answer, not for citations: asked to
#: cite ("end each sentence with [n]"), Qwen2.5 0.5B copied source headers instead of answering
#: (3 of 3 test questions of tests/docs.py); asked for a plain answer it answered all 3
#: correctly in Portuguese. Citations are then attributed by :func:`attribute_citations`;
#: a model that writes ``[n]`` itself keeps its own.
ANSWER_INSTRUCTIONS: dict[str, str] = {
    "pt": "Responda em português com uma ou duas frases completas.",
    "en": "Answer in English in one or two complete sentences.",
}

# Prompt styles (``RAGConfig.prompt``; the names in :data:`oracle.config.PROMPT_STYLES`, imported
# here), each measured on the gold sets (bench/RESULTS.md):
#
# * ``"v1"``: context, then the question, then :data:`ANSWER_INSTRUCTIONS` (the first design);
# * ``"v2"``: the question before the context too (the model reads the sources knowing what it
#   looks for), and :data:`DIRECT_INSTRUCTIONS`: give the information asked for directly, never
#   repeat the question;
# * ``"v3"``: ``"v2"`` plus a one-shot example (:data:`ONE_SHOT`) in the system prompt;
# * ``"v4"``: ``"v1"`` ending with :data:`EXTRACTIVE_INSTRUCTIONS`: answer in the context's own
#   words (extractive answering: the names, numbers and commands of the answer are copied, so
#   they can be verified against the source);
# * ``"v5"``: ``"v1"`` with the sources in reverse rank order, the best one last, next to the
#   question (they keep their numbers: ``Fonte 4`` … ``Fonte 1``). Small models use the start
#   and the end of a long context best (Liu et al. 2023, "Lost in the Middle");
# * ``"v6"``: ``"v1"`` ending with :data:`COMPLETE_INSTRUCTIONS`: answer every part of the question
#   and copy the context's names, numbers and commands (7 of the 1.5B's 12 wrong answers on the dev
#   sample, session 9, gave one of a question's two facts and left out the other). Not kept: on the
#   first 40 answerable dev questions it found 13 where v1 found 17, refusing 3 that v1 answered;
# * ``"v7"``: ``"v1"``, but a yes/no question (:func:`oracle.grounding.is_polar_question`) ends with
#   :data:`POLAR_INSTRUCTIONS`: open with "Sim" or "Não" and say why. Asked for one or two
#   sentences, the 1.5B restated a yes/no question as a statement ("Não devo ativar o DHCP nas
#   redes internas."), without the reason a person's answer gives; every other question as v1. Not
#   kept: on the 29 yes/no questions of the three dev sets and 12 yes/no ones they do not answer, key
#   facts 17% → 21% (one question), abstention 100% → 92% (an invented "Não"), answer p50 7.6 → 12.4 s;
#   the 1.5B opened with "Sim" where the sources say no (bench/RESULTS.md, session 33).

#: The last line of the user message in prompt styles v2 and v3. Kept short: a first draft that
#: also said "for a yes/no question, start with Sim/Não" and listed "(número, nome, comando,
#: caminho ou passos)" made Qwen2.5 0.5B open most answers with "Sim," and parrot the list
#: (bench/RESULTS.md, answer quality).
DIRECT_INSTRUCTIONS: dict[str, str] = {
    "pt": "Responda em português com uma ou duas frases completas, dando diretamente a informação pedida. "
          "Não repita a pergunta.",
    "en": "Answer in English in one or two complete sentences, giving the information asked for directly. "
          "Do not repeat the question.",
}

#: The last line of the user message in prompt style v4.
EXTRACTIVE_INSTRUCTIONS: dict[str, str] = {
    "pt": "Responda em português com uma ou duas frases, usando as palavras exatas do contexto.",
    "en": "Answer in English in one or two sentences, using the exact words of the context.",
}

#: The last line of the user message in prompt style v6.
COMPLETE_INSTRUCTIONS: dict[str, str] = {
    "pt": "Responda em português com uma ou duas frases completas, respondendo a todas as partes da pergunta "
          "e copiando do contexto os nomes, números e comandos exatos.",
    "en": "Answer in English in one or two complete sentences, answering every part of the question and "
          "copying the exact names, numbers and commands from the context.",
}

#: The last line of the user message in prompt style v7 for a yes/no question
#: (:func:`oracle.grounding.is_polar_question`). Only those questions get it: an instruction to all
#: questions to "start with Sim/Não" made the 0.5B open most answers with "Sim"
#: (:data:`DIRECT_INSTRUCTIONS`).
POLAR_INSTRUCTIONS: dict[str, str] = {
    "pt": "Responda em português com uma ou duas frases completas: comece com Sim ou Não e diga por quê, "
          "com as informações do contexto.",
    "en": "Answer in English in one or two complete sentences: start with Yes or No and say why, with the "
          "information in the context.",
}

#: The last line of the user message when the generator judges whether the sources answer the
#: question (:func:`answerable_probability`): the same prompt as the answer's up to the question, so
#: an engine that keeps the answer's prompt in its cache reads only this line again.
ANSWERABLE_INSTRUCTIONS: dict[str, str] = {
    "pt": "Antes de responder: as fontes acima trazem a informação que a pergunta pede? Responda apenas Sim ou Não.",
    "en": "Before answering: do the sources above hold the information the question asks for? Answer only Yes or No.",
}

#: The last line of the judge's prompt for a yes/no question where :func:`three_choice_judge` says so
#: (Portuguese, the 1.5B): three choices, so that "the answer is no" is not read as "the sources do
#: not say". The English line was measured and is not asked (its scores passed the bar). Asked
#: :data:`ANSWERABLE_INSTRUCTIONS`, the 1.5B gave the sources of right "não" answers P(Sim) 0.20-0.50
#: (bench/RESULTS.md, session 21).
POLAR_ANSWERABLE_INSTRUCTIONS: dict[str, str] = {
    "pt": "Antes de responder: o que as fontes acima dizem sobre a pergunta? A) que sim; B) que não; "
          "C) as fontes não trazem essa informação. Responda apenas A, B ou C.",
    "en": "Before answering: what do the sources above say about the question? A) yes; B) no; "
          "C) the sources do not hold this information. Answer only A, B or C.",
}

#: The choices of :data:`POLAR_ANSWERABLE_INSTRUCTIONS` that mean "the sources answer" and the one that
#: means they do not.
POLAR_CHOICES: tuple[tuple[str, ...], tuple[str, ...]] = (("A", "B"), ("C",))

POLAR_JUDGE_SHIFT = 0.1
"""How much higher than ``RAGConfig.min_answerable`` the three-choice judgement of a yes/no question
must be (:func:`judge_threshold`): two of its three choices mean "answerable", and its scores sit
higher and closer together than the two-choice judge's. On the 26 yes/no questions of the three dev
sets and 12 yes/no questions those documents do not answer (bench/RESULTS.md, session 21), P(A or B)
was 0.52-0.76 for the first and 0.39-0.60 for the second; at 0.6, 17 of 26 pass and 12 of 12 are
refused, against 13 of 26 and 12 of 12 for the two-choice judge at 0.5."""

#: The words of a yes and of a no to :data:`ANSWERABLE_INSTRUCTIONS`, by language (their first tokens
#: are what :func:`answerable_probability` compares).
YES_NO: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "pt": (("Sim", "sim", "SIM"), ("Não", "não", "NÃO", "Nao")),
    "en": (("Yes", "yes", "YES"), ("No", "no", "NO")),
}

#: The one-shot example of prompt style v3, appended to the system prompt.
ONE_SHOT: dict[str, str] = {
    "pt": (
        "\n\nExemplo:\nFonte 1: \"A inscrição custa R$ 40,00 e deve ser paga até 10 de maio pelo portal.\"\n"
        "Pergunta: Até quando devo pagar a inscrição?\nResposta: Até 10 de maio, pelo portal [1]."
    ),
    "en": (
        "\n\nExample:\nSource 1: \"Registration costs $40 and must be paid by 10 May on the portal.\"\n"
        "Question: By when must I pay the registration?\nAnswer: By 10 May, on the portal [1]."
    ),
}

#: The retry after an echo (an answer that repeats the question or adds nothing): the same
#: prompt with this last line instead of :data:`ANSWER_INSTRUCTIONS`.
RETRY_INSTRUCTIONS: dict[str, str] = {
    "pt": "Responda com uma frase completa que traga a informação pedida, com as palavras do contexto. "
          "Não repita a pergunta.",
    "en": "Answer with one complete sentence that gives the information asked for, in the words of the "
          "context. Do not repeat the question.",
}

#: The last lines :func:`build_messages` can end with.
MESSAGE_ENDINGS = ("answer", "retry", "judge", "judge_polar")

#: System prompts of the "sem RAG" baseline (the generator alone, no documents).
NO_RAG_PROMPTS: dict[str, str] = {
    "pt": "Responda em português com uma ou duas frases. Se não souber, responda exatamente: {not_found}",
    "en": "Answer in English in one or two sentences. If you do not know, reply exactly: {not_found}",
}

DEFAULT_PROMPT = "v1"
"""The prompt style chat uses and fine-tuning trains on (``RAGConfig.prompt``). v1 kept: with the
answer guards on the Portuguese gold sets (60 answerable questions), Qwen2.5 0.5B found the key
facts in 27% of answers with v1 against 18% with v2, which made it say "not found" more often."""

#: Versions of the sentences the model sees (system prompt, instructions, not-found sentence);
#: bumped whenever one changes, and recorded by fine-tuning runs.
PROMPT_VERSION = 2  # v1 sentences unchanged; v2/v3 added, the echo retry's instructions new

#: Labels of the user message by language: (context header, source label, page abbreviation, question label).
_LABELS: dict[str, tuple[str, str, str, str]] = {
    "pt": ("Contexto:", "Fonte", "p.", "Pergunta:"),
    "en": ("Context:", "Source", "p.", "Question:"),
}

_CITE_RE = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")
_WORD_RE = re.compile(r"\w+", re.UNICODE)
_SENTENCE_RE = re.compile(r"(?<=[.!?;:])\s+|\n+")


def prompt_language(language: str | None) -> str:
    """The language of the prompt and fixed sentences: ``"en"`` when ``language`` is English, else ``"pt"``."""
    return "en" if (language or "").lower().startswith("en") else "pt"


QUOTE_LINE: dict[str, str] = {"pt": "Trecho: \"{quote}\"{marks}", "en": "Excerpt: \"{quote}\"{marks}"}
"""The quote line of a RAFT training target (:func:`oracle.improve.stages.quoted_target`): the
supporting sentence of the gold chunk, then its ``[n]`` (``marks``, with a leading space). A
student trained on such targets writes the line before its answer, as RAFT's chain-of-thought
answers quote before they conclude (Zhang et al. 2024, arXiv:2403.10131); :func:`split_quote_lines`
takes it out of the chat's answer. With the line after the answer (targets of version 1), adapters
learned its first token as the answer's first and looped on it (``Trecho: "Trecho: "…``;
bench/RESULTS.md, session 13)."""

_QUOTE_LINE_RE = re.compile(
    r"^\s*(?:" + "|".join(re.escape(line.split(":", 1)[0]) for line in QUOTE_LINE.values()) + r")\s*:", re.IGNORECASE
)


def split_quote_lines(text: str) -> tuple[str, list[str]]:
    """Take the quote lines (``Trecho: "..." [n]``, :data:`QUOTE_LINE`) out of a reply.

    Args:
        text: the generator's reply.

    Returns:
        ``(answer, quotes)``: the reply without its quote lines (stripped; ``""`` when it held
        nothing else) and, for each quote line in order, its text between the first and the last
        double quote (curly quotes too), without ``[n]`` markers; a line without a closing quote
        gives what follows its opening one.
    """
    kept, quotes = [], []
    for line in text.splitlines():
        if not _QUOTE_LINE_RE.match(line):
            kept.append(line)
            continue
        body = line.split(":", 1)[1].strip()
        body = _CITE_RE.sub("", body).strip()
        body = body.strip("\"“”").strip()
        if body:
            quotes.append(body)
    return "\n".join(kept).strip(), quotes


def reply_text(reply: str, hits: Sequence[Hit]) -> str:
    """The answer in a generator's ``reply``: without its quote lines (:func:`split_quote_lines`);
    a reply that is only its quote gives the quoted sentence with its ``[n]``, when source ``n``
    (``hits``, numbered from 1) holds it verbatim (:func:`oracle.grounding.verify_quote`), else ``""``."""
    text, quotes = split_quote_lines(reply)
    if text or not quotes:
        return text
    from oracle.grounding import verify_quote

    return next((f"{q} [{n}]" for q in quotes for n, h in enumerate(hits, start=1) if verify_quote(q, h.chunk.text)), "")


def not_found_sentence(language: str | None = "pt") -> str:
    """The exact reply when the documents do not contain the answer: :data:`NOT_FOUND` in the
    prompt language of ``language`` (English for ``"en…"``, else Portuguese)."""
    return NOT_FOUND[prompt_language(language)]


def format_source(n: int, hit: Hit, language: str = "pt") -> str:
    """One numbered source block: ``"[n] (<doc name>, p. <pages>)\\n<chunk text>"``."""
    _, label, page, _ = _LABELS[prompt_language(language)]
    chunk = hit.chunk
    return f"--- {label} {n} ({chunk.doc_name}, {page} {chunk.pages_label}) ---\n{chunk.text.strip()}"


def sources_label(hits: Sequence[Hit]) -> str:
    """The documents and pages of ``hits``, each once, in order of first appearance:
    ``"edital.pdf, p. 3, 1; manual.pdf, p. 7-8"`` (what a face shows while the generator reads
    them, :class:`~oracle.schema.Retrieved`)."""
    pages: dict[str, list[str]] = {}
    for hit in hits:
        labels = pages.setdefault(hit.chunk.doc_name, [])
        if hit.chunk.pages_label not in labels:
            labels.append(hit.chunk.pages_label)
    return "; ".join(f"{doc}, p. {', '.join(labels)}" for doc, labels in pages.items())


def build_messages(question: str, hits: list, language: str = "pt", style: str = DEFAULT_PROMPT,
                   ending: str = "answer") -> list[dict]:
    """The prompt of RAG chat, as OpenAI-style messages. Fine-tuning builds its training
    examples with this same function (train and serve must match).

    Args:
        question: the user's question (stripped of surrounding whitespace).
        hits: the retrieved chunks, numbered ``[1]..[k]`` in the given order.
        language: language of the instructions (``"pt"``, default; ``"en"`` for English).

    Returns:
        ``[{"role": "system", "content": SYSTEM_PROMPTS[lang]}, {"role": "user", "content": ...}]``
        where the user content is::

            Contexto:
            --- Fonte 1 (edital.pdf, p. 3) ---
            <chunk text>

            --- Fonte 2 (...) ---
            ...

            Pergunta: <question>
            <ANSWER_INSTRUCTIONS[lang]: one or two complete sentences>

        (``Context:`` / ``Source`` / ``Question:`` in English). Sources are numbered so that
        ``[n]`` in the answer (the model's own, or added by :func:`attribute_citations`)
        points at the n-th hit. Deterministic: no dates, no randomness. ``ending`` picks the last
        line: ``"answer"`` (the style's instructions), ``"retry"`` (the echo retry of
        :func:`stream_answer`: :data:`RETRY_INSTRUCTIONS`), ``"judge"``
        (:func:`answerable_probability`: :data:`ANSWERABLE_INSTRUCTIONS`) or ``"judge_polar"``
        (its yes/no questions: :data:`POLAR_ANSWERABLE_INSTRUCTIONS`).
        ``style`` (:data:`PROMPT_STYLES`) other than ``"v1"`` also puts ``Pergunta: <question>``
        before the context and ends with :data:`DIRECT_INSTRUCTIONS`; ``"v3"`` adds
        :data:`ONE_SHOT` to the system prompt; ``"v7"`` ends a yes/no question with
        :data:`POLAR_INSTRUCTIONS`.

    Raises:
        ValueError: an unknown ``style`` or ``ending``.
    """
    if style not in PROMPT_STYLES:
        raise ValueError(f"unknown prompt style {style!r}; expected one of {PROMPT_STYLES}")
    if ending not in MESSAGE_ENDINGS:
        raise ValueError(f"unknown ending {ending!r}; expected one of {MESSAGE_ENDINGS}")
    lang = prompt_language(language)
    header, _, _, question_label = _LABELS[lang]
    system = SYSTEM_PROMPTS[lang].format(not_found=not_found_sentence(lang))
    if style == "v3":
        system += ONE_SHOT[lang]
    blocks = [format_source(n, hit, lang) for n, hit in enumerate(hits, start=1)]
    if style == "v5":
        blocks.reverse()  # the best source last, next to the question; numbers unchanged
    if ending != "answer":
        instructions = {"retry": RETRY_INSTRUCTIONS, "judge": ANSWERABLE_INSTRUCTIONS,
                        "judge_polar": POLAR_ANSWERABLE_INSTRUCTIONS}[ending][lang]
    else:
        by_style = {"v1": ANSWER_INSTRUCTIONS, "v4": EXTRACTIVE_INSTRUCTIONS, "v5": ANSWER_INSTRUCTIONS,
                    "v6": COMPLETE_INSTRUCTIONS, "v7": ANSWER_INSTRUCTIONS}
        instructions = by_style.get(style, DIRECT_INSTRUCTIONS)[lang]
        if style == "v7":
            from oracle.grounding import is_polar_question

            if is_polar_question(question, lang):
                instructions = POLAR_INSTRUCTIONS[lang]
    first = "" if style in ("v1", "v4", "v5", "v6", "v7") else f"{question_label} {question.strip()}\n\n"
    user = (first + header + "\n" + "\n\n".join(blocks) + f"\n\n{question_label} {question.strip()}\n"
            + instructions)
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def relevance_gate(index: Any, cfg: RAGConfig | None = None) -> float:
    """The cosine under which the best hit counts as off-topic: ``cfg.min_score`` when it is a
    number, else ``index.min_score`` (the gate recorded with the index for its embedder; 0.0 for
    an object without one)."""
    cfg = cfg or RAGConfig()
    if cfg.min_score is not None:
        return float(cfg.min_score)
    return float(getattr(index, "min_score", 0.0) or 0.0)


def retrieve(index: Any, question: str, cfg: RAGConfig | None = None) -> list[Hit]:
    """The ``cfg.top_k`` chunks of ``index`` closest to ``question`` (no relevance gate).

    Args:
        index: an :class:`oracle.index.VectorIndex`.
        question: the question.
        cfg: ``top_k`` and ``hybrid`` (BM25 fused with the dense score) are used.

    Returns:
        ``[Hit]``, best first, ``score`` = cosine similarity.
    """
    cfg = cfg or RAGConfig()
    return index.search(question, top_k=cfg.top_k, hybrid=cfg.hybrid)


def parse_citations(text: str, n_sources: int | None = None) -> list[int]:
    """Source numbers cited in ``text``, in order of first appearance, without repeats.

    Understands ``[1]``, ``[1, 2]``, ``[1;2]`` and ``[1][2]``. Numbers outside
    ``1..n_sources`` (when given) are ignored.
    """
    seen: list[int] = []
    for match in _CITE_RE.finditer(text):
        for part in re.split(r"[,;]", match.group(1)):
            n = int(part)
            if n >= 1 and (n_sources is None or n <= n_sources) and n not in seen:
                seen.append(n)
    return seen


def _words(text: str) -> set[str]:
    return {w for w in _WORD_RE.findall(text.casefold()) if len(w) > 2 or w.isdigit()}


def best_snippet(text: str, reference: str, max_chars: int = SNIPPET_MAX_CHARS) -> str:
    """The sentence of ``text`` sharing the most words with ``reference``, at most ``max_chars`` characters.

    Sentences split on ``. ! ? ; :`` followed by space, and on line breaks; words are
    case-folded ``\\w+`` of 3+ characters (or numbers). Ties go to the earlier sentence; with
    no overlap at all, the first sentence. Longer sentences are cut at a word boundary + "…".
    """
    sentences = [s.strip() for s in _SENTENCE_RE.split(text) if s and s.strip()]
    if not sentences:
        return ""
    ref = _words(_CITE_RE.sub(" ", reference))
    best = max(range(len(sentences)), key=lambda i: (len(_words(sentences[i]) & ref), -i))
    snippet = sentences[best]
    if len(snippet) > max_chars:
        cut = snippet[: max_chars - 1]
        space = cut.rfind(" ")
        snippet = (cut[:space] if space > max_chars // 2 else cut).rstrip() + "…"
    return snippet


_ANSWER_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+")
"""Where an answer is cut into sentences for ``[n]`` markers (attribution and cited sentences alike)."""

_TRAILING_ENUMERATOR = re.compile(r"\s*\n\s*\d{1,2}[.)]$")


def _is_claim(piece: str) -> bool:
    """A piece of an answer cut by :data:`_ANSWER_SENTENCE_RE` that can carry a ``[n]``: two
    words of 3+ letters or numbers at least (a bare list number, "1.", is not a claim)."""
    return len(_words(piece)) >= 2


def answer_sentences(text: str) -> list[str]:
    """The sentences of an answer as :func:`attribute_citations` cuts them (after ``.``, ``!``
    or ``?``), only the claims (:func:`_is_claim`): those that can carry a ``[n]``."""
    return [s for s in _ANSWER_SENTENCE_RE.split((text or "").strip()) if _is_claim(s)]


ATTRIBUTION_MIN_OVERLAP = 0.5
"""Share of an answer sentence's words (3+ letters, or numbers) that must appear in a source
for :func:`attribute_citations` to cite it."""


def attribute_citations(text: str, hits: Sequence[Hit], question: str = "") -> str:
    """Add ``[n]`` after each sentence of ``text`` that comes from source ``n``.

    Post-hoc attribution (as in Gao et al., 2023, "Enabling Large Language Models to Generate
    Text with Citations", ALCE): small models (Qwen2.5 0.5B) answer well from plain context
    but, asked to cite, copy the source headers instead of answering. Each sentence goes to the
    source that holds most of what it adds to ``question`` (:func:`oracle.grounding.added_support`:
    its words and code tokens the question lacks), ties to the larger share of all its words, then
    to the better-ranked source. The sentence is cited when that source holds
    :data:`ATTRIBUTION_MIN_OVERLAP` of all its words, or as much of what it adds with at least one
    command, path or option among them (an English source of a Portuguese answer shares its
    commands, not its words). A sentence no source supports stays uncited, visibly. A ``text``
    that already cites keeps its markers, but for a sentence none of whose cited sources holds it
    while another does: it cites that one instead (:func:`_recite_unsupported`).

    Args:
        text: the answer.
        hits: the sources, numbered from 1 in this order.
        question: the question answered (words an answer repeats from it are no evidence).

    Returns:
        ``text`` with markers, sentences separated by one space.
    """
    if not hits:
        return text
    if parse_citations(text, len(hits)):
        return _recite_unsupported(text, hits, question)
    sources = [_words(h.chunk.text) for h in hits]
    out: list[str] = []
    for sentence in _ANSWER_SENTENCE_RE.split(text.strip()):
        if _is_claim(sentence):
            support = _source_support(sentence, sources, hits, question)
            best = _best_source(support)
            if support[best].holds:
                # a sentence split after a list number ("são:\n\n1.") keeps that number after its marker
                item = _TRAILING_ENUMERATOR.search(sentence)
                body, tail = (sentence[: item.start()], sentence[item.start():]) if item else (sentence, "")
                end = len(body.rstrip(".!?…"))
                sentence = f"{body[:end]} [{best + 1}]{body[end:]}{tail}"
        out.append(sentence)
    return " ".join(out)


class _Support(NamedTuple):
    """How much of an answer sentence one source holds: ``added``, the share of what the sentence
    adds to the question (:func:`oracle.grounding.added_support`); ``share``, that of all its words;
    ``code``, whether a command, path or option is among what it adds."""

    added: float
    share: float
    code: bool

    @property
    def holds(self) -> bool:
        """The source holds the sentence: :data:`ATTRIBUTION_MIN_OVERLAP` of its words, or as much
        of what it adds with a code token found."""
        return self.share >= ATTRIBUTION_MIN_OVERLAP or (self.code and self.added >= ATTRIBUTION_MIN_OVERLAP)


def _source_support(sentence: str, sources: list[set[str]], hits: Sequence[Hit], question: str) -> list[_Support]:
    """:class:`_Support` of each of ``hits`` (``sources``: their :func:`_words`) for ``sentence``."""
    from oracle.grounding import added_support

    words = _words(sentence)
    out = []
    for src, hit in zip(sources, hits, strict=True):
        added, code = added_support(sentence, question, hit.chunk.text)
        out.append(_Support(added, len(words & src) / len(words) if words else 0.0, code))
    return out


def _best_source(support: list[_Support]) -> int:
    """Index of the source holding most of what the sentence adds, ties to the larger share of all
    its words, then to the better-ranked source."""
    return max(range(len(support)), key=lambda i: (support[i].added, support[i].share, -i))


def _recite_unsupported(text: str, hits: Sequence[Hit], question: str) -> str:
    """The model's own ``[n]`` markers kept where a cited source holds the sentence
    (:class:`_Support`); a sentence none of whose cited sources holds it, but another does, cites
    that one instead (:func:`_best_source`, as :func:`attribute_citations` picks it). Otherwise ``text`` is
    unchanged. A small model's source numbers follow where its training put the gold chunk, not
    where the chat puts it: an adapter trained on RAFT examples (gold at a random position) cited
    a source holding none of the key facts for 15 of 32 blind held-out answers against 3 of 22 for
    its base model (bench/RESULTS.md, session 29)."""
    sources = [_words(h.chunk.text) for h in hits]
    out: list[str] = []
    changed = False
    for sentence in _ANSWER_SENTENCE_RE.split(text.strip()):
        cited = parse_citations(sentence, len(hits))
        if cited and _is_claim(sentence):
            bare = _CITE_RE.sub("", sentence)
            if _words(bare):
                support = _source_support(bare, sources, hits, question)
                if not any(support[n - 1].holds for n in cited):
                    best = _best_source(support)
                    if support[best].holds:
                        marks = iter([f"[{best + 1}]"])
                        sentence = _CITE_RE.sub(lambda _m: next(marks, ""), sentence)
                        sentence = re.sub(r" +([.,;:!?])", r"\1", re.sub(r"  +", " ", sentence))
                        changed = True
        out.append(sentence)
    return " ".join(out) if changed else text


def _citation(n: int, hit: Hit, reference: str) -> Citation:
    """Source ``n``: its document and page, and as snippet the sentence of the chunk that best
    supports ``reference`` (:func:`oracle.grounding.support_sentence`), cut to
    :data:`SNIPPET_MAX_CHARS` at a word boundary."""
    from oracle.grounding import support_sentence, verify_quote

    chunk = hit.chunk
    quote, _support = support_sentence(_CITE_RE.sub(" ", reference), chunk.text)
    if not quote:
        quote = best_snippet(chunk.text, reference)
    if len(quote) > SNIPPET_MAX_CHARS:
        cut = quote[: SNIPPET_MAX_CHARS - 1]
        space = cut.rfind(" ")
        quote = (cut[:space] if space > SNIPPET_MAX_CHARS // 2 else cut).rstrip() + "…"
    return Citation(
        n=n,
        doc_id=chunk.doc_id,
        doc_name=chunk.doc_name,
        page=chunk.page_start,
        snippet=quote,
        chunk_id=chunk.chunk_id,
        score=float(hit.score),
        page_label=getattr(chunk, "page_label", None),
        verified=verify_quote(quote, chunk.text),
    )


def _cited_sentences(text: str, n: int) -> str:
    """The sentences of ``text`` that cite ``[n]`` (all of ``text`` when none is found)."""
    found = [s for s in _ANSWER_SENTENCE_RE.split(text) if n in parse_citations(s)]
    return " ".join(found) or text


QUESTION_LANGUAGES = ("pt", "en", "es", "fr", "de", "it")
"""Languages a question is classified among. langid.py over all 97 languages calls many short
Portuguese questions Galician ("Qual é o valor total destinado ao edital?" -> gl)."""

QUESTION_MIN_LETTERS = 12
"""Fewer letters than this: too short to classify; the default language is used."""

_IDENTIFIER: Any = None


def detect_question_language(question: str) -> str:
    """ISO 639-1 code of ``question``, among :data:`QUESTION_LANGUAGES`.

    ``py3langid`` (langid.py, Lui & Baldwin 2012) restricted to those languages. A question
    with fewer than :data:`QUESTION_MIN_LETTERS` letters, or a failure of the classifier,
    gives ``ORACLE_LANG`` (default ``"pt"``).
    """
    global _IDENTIFIER
    from oracle.i18n import current_lang

    if sum(ch.isalpha() for ch in question) < QUESTION_MIN_LETTERS:
        return current_lang()
    try:
        if _IDENTIFIER is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            identifier = LanguageIdentifier.from_model_file(MODEL_FILE)
            identifier.set_languages(list(QUESTION_LANGUAGES))
            _IDENTIFIER = identifier
        lang, _score = _IDENTIFIER.classify(question)
    except Exception:
        logger.warning("language detection failed; using the default language", exc_info=True)
        return current_lang()
    return lang or current_lang()


#: Folded openings of a reply that declines to answer (besides the exact not-found sentence).
_ABSTENTION_MARKERS = (
    "nao encontrei", "nao ha informac", "nao ha mencao", "nao menciona", "nao contem", "nao contém",
    "nao e mencionad", "nao fornece", "nao informa", "nao especifica", "nao esta especificad",
    "nao foi possivel encontrar", "nao sei", "nao e possivel responder", "nao ha dados",
    "could not find", "does not mention", "do not contain", "does not contain", "not mentioned",
    "no information", "i don't know", "i do not know", "not specified", "does not specify",
)


#: A bare yes or no opening a reply ("Não. Os documentos não contêm…"), taken off before
#: :func:`is_abstention` reads it: prompt style v7 asks yes/no questions to start so.
_YES_NO_LEAD_RE = re.compile(r"^\s*(?:sim|não|nao|yes|no)\s*[.,;:!]\s*", re.IGNORECASE)


def is_abstention(text: str) -> bool:
    """True when ``text`` declines to answer: the not-found sentence (either language) or a reply
    whose first sentence says the context does not give the answer ("O contexto não menciona…"),
    after a bare "Sim."/"Não." that opens it ("Não. Os documentos não contêm a resposta…")."""
    from oracle.grounding import fold, split_sentences, strip_citations

    text = _YES_NO_LEAD_RE.sub("", text, count=1)
    if _is_not_found(text, "pt"):
        return True
    sentences = split_sentences(strip_citations(text))
    if not sentences:
        return False
    first = fold(sentences[0])
    return any(marker in first for marker in _ABSTENTION_MARKERS)


def _is_not_found(text: str, lang: str) -> bool:
    """True when the model's reply is the not-found sentence (maybe with punctuation changes)."""
    norm = " ".join(_WORD_RE.findall(text.casefold()))
    sentences = {" ".join(_WORD_RE.findall(not_found_sentence(x).casefold())) for x in ("pt", "en")}
    return any(norm.startswith(s) for s in sentences if s)


def stream_answer(
    question: str,
    index: Any,
    generator: Any,
    cfg: RAGConfig | None = None,
    language: str | None = None,
) -> Iterator[str | Answer]:
    """Answer ``question`` from ``index`` with ``generator``, streaming.

    Args:
        question: the question.
        index: an :class:`oracle.index.VectorIndex`.
        generator: an :class:`oracle.llm.Generator` (``name``, ``adapter``, ``stream(messages, ...)``).
        cfg: retrieval and generation settings (``top_k``, ``min_score``, ``hybrid``,
            ``max_new_tokens``, ``temperature``).
        language: language of the answer; default: detected from the question.

    Yields:
        One :class:`~oracle.schema.Retrieved` (the hits, in prompt order) when the generator is
        about to read them (not when a gate answers "not found" at once), then ``str`` pieces of
        the answer as the generator produces them, then one final :class:`Answer`: ``text``
        (stripped; when the model cites nothing, with ``[n]`` markers added by
        :func:`attribute_citations`), ``citations`` (sources cited as ``[n]``, in order
        of first citation; empty if no sentence is supported by a source), ``sources`` (every chunk given to
        the model, numbered as in the prompt), ``model``/``adapter`` from the generator,
        ``grounded`` (False when nothing passed the relevance gate, or when the model replied
        with the not-found sentence), ``language``, ``elapsed_s`` (seconds).

    When the best hit scores under the relevance gate (:func:`relevance_gate`: ``cfg.min_score``,
    or the index's own ``min_score`` when that is None), or, with ``cfg.guard``, when the hits
    hold too little of the question's rare words (:func:`lexical_coverage` under
    ``cfg.min_coverage``; verdict ``"off_topic"``), the not-found sentence is yielded without
    calling the generator; otherwise every retrieved hit goes into the prompt. Below, "``cfg.min_answerable``"
    is :func:`judge_threshold`'s bar: higher by :data:`POLAR_JUDGE_SHIFT` for a yes/no question
    that a trusted judge answers with three choices (:func:`three_choice_judge`). A generator whose
    judgement is trusted (``judge_overrules``: :attr:`oracle.models.catalogue.BundledModel.judge_overrules`;
    :func:`answerable_probability`, with ``cfg.min_answerable`` set) has the last word on the
    lexical gate: it is asked first, and the question is answered only at ``cfg.min_answerable`` +
    :data:`OVERRULE_MARGIN` or more; under ``cfg.min_answerable`` it is refused as ``"unanswerable"``,
    in between as ``"off_topic"`` (that one judgement also serves the check after the answer). The reply's quote
    lines (an adapter's ``Trecho: "…" [n]``) are taken out of the answer (:func:`reply_text`). With
    ``cfg.guard`` a reply caught in a loop (:func:`oracle.grounding.is_looping`: one sentence three
    times, or a short piece eight times in a row) is stopped there, and the streamed reply then
    goes through :func:`_guard` (abstention, loops, echo retry, unsupported numbers and names).
    When a trusted judge's reply is "not found" but it gives at least ``cfg.min_answerable`` to the
    sources holding the answer, it answers the same prompt once more, its first token barred from
    being the first token of that refusal (``stream(..., suppress_start=refusal)``; verdict
    ``"reconsidered"``, the refusal as ``draft``); that second answer goes through the same guards.
    On the dev sample the 1.5B's own refusals of answerable questions were judged 0.45-0.72, those
    of unanswerable ones 0.22-0.38; on the held-out Debian Reference 0.24-0.59 (three yes/no
    questions whose answer is "não" under 0.4) and 0.22-0.41 (bench/RESULTS.md, session 18).
    An answer that passes the guards is replaced by the not-found sentence: when the generator
    can judge (:func:`answerable_probability`) and ``cfg.min_answerable`` is set, if the generator
    gives less than ``cfg.min_answerable`` to the sources holding the answer (verdict
    ``"unanswerable"``); then, unless the generator's judgement overrules the lexical gates
    (``judge_overrules``), if the chunks it cites do not cover the question
    (:func:`lexical_coverage` under ``cfg.min_coverage``; verdict ``"off_topic"``). The final
    Answer's ``verdict``, ``unsupported`` and ``draft`` say what happened; the streamed pieces are
    the model's first reply, so a face shows the final ``text`` when it differs.

    Raises:
        GenerationError: the generator failed.
    """
    cfg = cfg or RAGConfig()
    start = time.perf_counter()
    language = language or detect_question_language(question)
    lang = prompt_language(language)
    hits = retrieve(index, question, cfg)
    gate = relevance_gate(index, cfg)
    relevant = bool(hits) and max(h.score for h in hits) >= gate
    coverage = lexical_coverage(index, question, hits) if (cfg.guard and relevant) else 1.0
    on_topic = coverage >= cfg.min_coverage
    logger.info(
        "rag: %d hits, best %s min_score %.3f (scores %s), coverage %.2f",
        len(hits), "over" if relevant else "under", gate, [round(h.score, 3) for h in hits], coverage,
    )  # fmt: skip
    p_yes: float | None = None
    # a generator whose judgement is trusted to overrule the lexical gates (the bundled 1.5B)
    trusted = bool(cfg.min_answerable) and getattr(generator, "judge_overrules", False)
    if relevant and (on_topic or trusted):  # the generator reads them next: seconds of prefill on a CPU
        yield Retrieved(hits=list(hits))
    min_p = judge_threshold(generator, question, lang, cfg)  # higher for a yes/no question's three-choice judge
    if relevant and not on_topic and trusted:
        # the lexical gate would refuse: a generator whose judgement is trusted has the last word,
        # if it is sure enough to overrule it
        p_yes = answerable_probability(generator, question, hits, lang, cfg)
        if p_yes is not None:
            on_topic = p_yes >= min_p + OVERRULE_MARGIN
    common = {
        "question": question,
        "model": getattr(generator, "name", ""),
        "adapter": getattr(generator, "adapter", None),
        "index": getattr(index, "name", ""),
        "language": language,
    }
    if not relevant or not on_topic:
        text = not_found_sentence(lang)
        yield text
        # off_topic: the lexical gate refused (no judge, or one not sure enough to overrule it)
        verdict = "" if not relevant else ("unanswerable" if p_yes is not None and p_yes < min_p
                                           else "off_topic")
        yield Answer(text=text, grounded=False, elapsed_s=time.perf_counter() - start, verdict=verdict,
                     p_answerable=p_yes, **common)
        return

    messages = build_messages(question, hits, lang, style=cfg.prompt)
    pieces: list[str] = []
    for piece in _stream_reply(generator, messages, cfg):
        pieces.append(piece)
        yield piece
    text = reply_text("".join(pieces), hits)
    refusal = ""
    if cfg.guard and trusted and is_abstention(text):
        # a generator whose judgement is trusted said "not found": if it judges that the sources
        # hold the answer, it answers once more, the same prompt, not allowed to start as it did
        if p_yes is None:  # not yet asked before generating
            p_yes = answerable_probability(generator, question, hits, lang, cfg)
        if p_yes is not None and p_yes >= min_p:
            again = _stream_reply(generator, messages, cfg, suppress_start=text.strip())
            second = reply_text("".join(again), hits)
            if second.strip() and not is_abstention(second):
                refusal, text = text, second
    verdict, draft, missing = "", "", []
    if cfg.guard:
        text, verdict, draft, missing = _guard(question, text, hits, generator, cfg, lang)
        if refusal and not verdict:
            verdict, draft = "reconsidered", refusal
    abstained = _is_not_found(text, lang) or (cfg.guard and is_abstention(text))
    if abstained:
        text = not_found_sentence(lang) if cfg.guard else text
    else:
        text = attribute_citations(text, hits, question)
        if cfg.guard:
            if p_yes is None and cfg.min_answerable:  # the judgement does not depend on the reply
                p_yes = answerable_probability(generator, question, hits, lang, cfg)
            if p_yes is not None and p_yes < min_p:
                # the generator itself says the sources do not hold what the question asks
                draft, verdict, text, abstained = text, "unanswerable", not_found_sentence(lang), True
            elif p_yes is None or not trusted:
                cited = parse_citations(text, len(hits)) or [1]
                if lexical_coverage(index, question, [hits[n - 1] for n in cited]) < cfg.min_coverage:
                    # the passages the answer rests on do not speak of what the question asks
                    draft, verdict, text, abstained = text, "off_topic", not_found_sentence(lang), True
    cited = parse_citations(text, len(hits))
    citations = [_citation(n, hits[n - 1], _cited_sentences(text, n)) for n in cited]
    sources = [_citation(n, hit, question) for n, hit in enumerate(hits, start=1)]
    grounded = not (not citations and abstained)
    yield Answer(
        text=text,
        citations=citations,
        sources=sources,
        grounded=grounded,
        elapsed_s=time.perf_counter() - start,
        verdict=verdict or ("not_found" if abstained else ""),
        unsupported=missing,
        draft=draft,
        p_answerable=p_yes,
        **common,
    )


def answerable_probability(generator: Any, question: str, hits: Sequence[Hit], lang: str,
                           cfg: RAGConfig | None = None) -> float | None:
    """The generator's own judgement of whether ``hits`` hold the answer to ``question``:
    P(yes) / (P(yes) + P(no)) for the first token of its reply to the answer's prompt ending with
    :data:`ANSWERABLE_INSTRUCTIONS` instead (:func:`build_messages` with ``ending="judge"``), the yes
    and no words of :data:`YES_NO`; for a yes/no question asked of a trusted judge
    (:func:`three_choice_judge`) the prompt ends with :data:`POLAR_ANSWERABLE_INSTRUCTIONS` instead
    and the share is that of "A" or "B" against "C" (:data:`POLAR_CHOICES`; compare it with
    :func:`judge_threshold`). A probability in [0, 1], or None when the generator has no
    ``judge(messages, yes, no)`` method or it returns None (an API that gives no token
    probabilities).

    This is self-evaluation of a language model, "P(IK)"-style (Kadavath et al. 2022, "Language
    Models (Mostly) Know What They Know"), asked about the retrieved sources. On the three Portuguese
    gold sets (95 questions, Qwen2.5-Coder 1.5B, bench/RESULTS.md, session 17) it told right answers
    from answers to unanswerable questions with ROC AUC 0.92, against 0.71 for the lexical coverage
    of the cited chunks (:func:`lexical_coverage`).

    Raises:
        GenerationError: the generator failed.
    """
    judge = getattr(generator, "judge", None)
    if judge is None:
        return None
    cfg = cfg or RAGConfig()
    lang = prompt_language(lang)
    if three_choice_judge(generator, question, lang):
        ending, (yes, no) = "judge_polar", POLAR_CHOICES
    else:
        ending, (yes, no) = "judge", YES_NO[lang]
    p = judge(build_messages(question, list(hits), lang, style=cfg.prompt, ending=ending), yes, no)
    if p is None:
        return None
    logger.info("rag: answerable P(yes) %.3f (%s)", p, ending)
    return float(p)


def three_choice_judge(generator: Any, question: str, lang: str) -> bool:
    """True when :func:`answerable_probability` asks ``generator`` the three-choice question
    (:data:`POLAR_ANSWERABLE_INSTRUCTIONS`) about ``question``: a yes/no question
    (:func:`oracle.grounding.is_polar_question`) in Portuguese, and a generator whose judgement is
    trusted (``judge_overrules``: the bundled 1.5B). The 0.5B keeps the Sim/Não question: asked the
    three choices, it gave 0.86-0.91 to the sources of each of the 12 unanswerable yes/no dev
    questions. English keeps the Yes/No question: with the three choices, the 1.5B gave 0.64-0.67 to
    2 of the 4 unanswerable yes/no questions of the Zaragoza FAQ and answered them, over the
    Portuguese bar (bench/RESULTS.md, session 21)."""
    from oracle.grounding import is_polar_question

    lang = prompt_language(lang)
    return bool(getattr(generator, "judge_overrules", False)) and lang == "pt" and is_polar_question(question, lang)


def judge_threshold(generator: Any, question: str, lang: str, cfg: RAGConfig | None = None) -> float:
    """The least :func:`answerable_probability` at which ``question`` counts as answered by its
    sources: ``cfg.min_answerable``, plus :data:`POLAR_JUDGE_SHIFT` where the judgement is the
    three-choice one (:func:`three_choice_judge`), at most 1; 0 when ``cfg.min_answerable`` is 0
    (the judge off)."""
    cfg = cfg or RAGConfig()
    if not cfg.min_answerable:
        return 0.0
    shift = POLAR_JUDGE_SHIFT if three_choice_judge(generator, question, lang) else 0.0
    return min(1.0, cfg.min_answerable + shift)


OVERRULE_MARGIN = 0.05
"""How far over ``RAGConfig.min_answerable`` a trusted judge's P(yes) must be to overrule the lexical
gate (:func:`stream_answer`): where the two disagree, the judge needs more than a coin flip. In the
stored runs of sessions 18-19 (dev sample, held-out Debian Reference, English Zaragoza), the judge
overruled the gate for 8 questions: 3 right answers at 0.57-0.77, and 5 others at 0.52-0.64, among
them 2 unanswerable questions answered at 0.53 ("How do I bake Swedish cinnamon buns?", with a
sentence about a kitchen mixer) and 0.545 (WPA2 Wi-Fi from the terminal, with a command for another
purpose) (bench/RESULTS.md, session 20). A small sample: the margin is kept small."""

LOOP_CHECK_EVERY = 8
""":func:`_stream_reply` looks for a loop after every this many pieces (a check of a 1,400-character
reply takes 1-2.5 ms here, a piece of the 0.5B ~100 ms)."""


def _stream_reply(generator: Any, messages: list[dict], cfg: RAGConfig, **options: Any) -> Iterator[str]:
    """The generator's non-empty pieces for ``messages``; with ``cfg.guard``, stopped soon after
    the reply is caught in a loop (:func:`oracle.grounding.is_looping`, checked every
    :data:`LOOP_CHECK_EVERY` pieces): closing the stream stops the generation, so no more tokens
    are spent on it, and :func:`_guard` cuts the loop off. ``options`` go to ``generator.stream``
    (``suppress_start``, which only generators that can judge take)."""
    from oracle.grounding import is_looping

    pieces: list[str] = []
    for piece in generator.stream(messages, max_new_tokens=cfg.max_new_tokens, temperature=cfg.temperature,
                                  **options):
        if piece:
            pieces.append(piece)
            yield piece
            if cfg.guard and len(pieces) % LOOP_CHECK_EVERY == 0 and is_looping("".join(pieces)):
                return


def lexical_coverage(index: Any, question: str, hits: Sequence[Hit]) -> float:
    """IDF-weighted share of ``question``'s content words found in the ``hits``' chunks
    (:func:`oracle.grounding.question_coverage`), document frequencies taken over every chunk of
    ``index`` (computed once per index object and cached on it)."""
    from oracle.grounding import content_words, question_coverage

    chunks = list(getattr(index, "chunks", []) or [])
    cache = getattr(index, "_oracle_df", None)
    if cache is None or cache[0] != len(chunks):
        df: dict[str, int] = {}
        for chunk in chunks:
            for stem in {w[:5] for w in content_words(chunk.text)}:
                df[stem] = df.get(stem, 0) + 1
        cache = (len(chunks), df)
        try:
            index._oracle_df = cache
        except AttributeError:  # an object without a __dict__: recompute next time
            pass
    return question_coverage(question, [h.chunk.text for h in hits], cache[1], cache[0])


NUMBER_CONTEXT_MIN = 0.15
"""An answer to a question that asks for a figure (:func:`oracle.grounding.seeks_figure`) whose
numbers sit only in source sentences covering less than this share of the question's words
(:func:`oracle.grounding.number_context`) is refused: the figure belongs to something else.
Applied to the stored answers of the gold-set runs (bench/RESULTS.md), 0.15 refused 3 more of the
35 unanswerable questions for each model and 2 right answers of the 0.5B (none of the 1.5B). Asked
of every question, it also refused two right answers of the 1.5B on the held-out Debian Reference
whose numbers were manual sections and standards ("grep(1)", "ISO 639"), hence
:func:`~oracle.grounding.seeks_figure` (session 24)."""

QUOTE_MIN_WORDS = 6
"""The quoted fallback of :func:`_guard` takes sentences of at least this many words (not headings)."""

QUOTE_MIN_SUPPORT = 0.5
"""...and only one holding at least this share of the question's content words; else 'not found'."""


def _guard(question: str, text: str, hits: Sequence[Hit], generator: Any, cfg: RAGConfig,
           lang: str) -> tuple[str, str, str, list[str]]:
    """The answer guards of :func:`stream_answer`: ``(text, verdict, draft, unsupported)``.

    1. An abstaining reply ("O contexto não menciona…") becomes the not-found sentence. A reply
       caught in a loop is cut where the loop starts (:func:`oracle.grounding.cut_loop`; the
       reply as written is the ``draft``).
    2. An echo (:func:`oracle.grounding.is_echo`: empty, or repeating the question) or a bare
       section heading (:func:`oracle.grounding.is_heading`: "11.3.3 Resumo do site [1]"), or a
       reply that sends the reader to its sources (:func:`oracle.grounding.is_deferral`: "siga os
       passos descritos no contexto fornecido") is retried
       once with :data:`RETRY_INSTRUCTIONS`; when the retry echoes too, the answer is the
       chunk sentence that best covers the question, quoted (verdict ``"quoted"``), if one of
       :data:`QUOTE_MIN_WORDS` words or more holds :data:`QUOTE_MIN_SUPPORT` of the question's
       content words; else the not-found sentence.
    3. An answer with a number or name found in no source
       (:func:`oracle.grounding.unsupported_claims`) is replaced by the not-found sentence
       (verdict ``"unsupported"``; the claims and the draft are kept in the Answer).
    4. So is an answer to a question that asks for a figure (:func:`oracle.grounding.seeks_figure`)
       whose numbers come from sentences that do not speak of the question
       (:data:`NUMBER_CONTEXT_MIN`; verdict ``"off_topic"``). Numbers in the answer to another
       kind of question ("Quais ferramentas usam ERE?" answered "grep(1), vim(1)…") are part of a
       name or a command, not the figure asked for.
    5. So is an answer without any figure of its own to a question that asks for one
       (:func:`oracle.grounding.asks_for_number`, :func:`oracle.grounding.gives_figure`: "Qual
       versão do Moodle vem no Debian Edu 12?" answered "O Moodle vem instalado no Debian Edu 12";
       verdict ``"no_figure"``).
    6. So is an answer without an e-mail address to a question that asks for one
       (:func:`oracle.grounding.asks_for_email`, :func:`oracle.grounding.gives_email`: "Qual é o
       e-mail da equipe de segurança?" answered with a web address; verdict ``"no_email"``).
    """
    from oracle.grounding import (
        asks_for_email,
        asks_for_number,
        cut_loop,
        gives_email,
        gives_figure,
        is_deferral,
        is_echo,
        is_heading,
        number_context,
        seeks_figure,
        support_sentence,
        unsupported_claims,
    )

    if is_abstention(text):
        return not_found_sentence(lang), "not_found", text, []
    verdict, draft = "", ""
    texts = [h.chunk.text for h in hits]

    def says_nothing(reply: str) -> bool:  # an echo, only a section heading, or "see the sources"
        return is_echo(reply, question) or is_heading(reply, texts) or is_deferral(reply, question)

    cut = cut_loop(text)
    if cut != text:
        draft, text = text, cut
    if says_nothing(text):
        draft = draft or text
        retry_messages = build_messages(question, list(hits), lang, style=cfg.prompt, ending="retry")
        retry = cut_loop(reply_text("".join(_stream_reply(generator, retry_messages, cfg)), hits))
        if is_abstention(retry):
            return not_found_sentence(lang), "not_found", draft, []
        if retry and not says_nothing(retry):
            text, verdict = retry, "retried"
        else:
            scored = [(support_sentence(question, h.chunk.text, min_words=QUOTE_MIN_WORDS), n)
                      for n, h in enumerate(hits, start=1)]
            (sentence, score), n = max(scored, key=lambda x: (x[0][1], -x[1]))
            if not sentence or score < QUOTE_MIN_SUPPORT:
                return not_found_sentence(lang), "not_found", draft, []
            text, verdict = f"{sentence} [{n}]", "quoted"
    missing = unsupported_claims(text, texts, question)
    if missing:
        return not_found_sentence(lang), "unsupported", text, missing
    if seeks_figure(question) and number_context(text, texts, question) < NUMBER_CONTEXT_MIN:
        return not_found_sentence(lang), "off_topic", text, []
    if asks_for_number(question) and not gives_figure(text, question):
        return not_found_sentence(lang), "no_figure", text, []
    if asks_for_email(question) and not gives_email(text):
        return not_found_sentence(lang), "no_email", text, []
    return text, verdict, draft, []


def answer(
    question: str,
    index: Any,
    generator: Any,
    cfg: RAGConfig | None = None,
    language: str | None = None,
) -> Answer:
    """:func:`stream_answer` run to the end. Returns the final :class:`Answer`."""
    final: Answer | None = None
    for item in stream_answer(question, index, generator, cfg, language):
        if isinstance(item, Answer):
            final = item
    if final is None:  # pragma: no cover - stream_answer always ends with an Answer
        raise RuntimeError("stream_answer ended without an Answer")
    return final


def answer_batch(
    questions: Sequence[str], index: Any, generator: Any, cfg: RAGConfig | None = None
) -> list[Answer]:
    """:func:`answer` for each question in turn (evaluation helper)."""
    return [answer(q, index, generator, cfg) for q in questions]
