"""Checks of an answer against its sources and its question, without a judge model.

Used at answer time by :mod:`oracle.rag` (echo retry, unsupported-claim guard, verified
quotes) and by the evaluation (:mod:`oracle.gold_eval`), so that what is measured is what
chat enforces. All matching is on :func:`fold` text: NFKD, combining marks dropped, case
folded, whitespace collapsed, so "Inscrição" matches "inscricao".

* :func:`contains_fact`: a surface string occurs in a text; strings of 4 characters or fewer
  must be whole words ("sim" does not match "assim").
* :func:`is_echo`: the answer mostly repeats the question (or is empty).
* :func:`is_deferral`: the answer only sends the reader to its sources ("siga os passos descritos
  no contexto").
* :func:`claims` / :func:`unsupported_claims`: numbers, dates, amounts and proper names of an
  answer that occur in no source: the lexical half of a faithfulness check (Es et al. 2023,
  "RAGAS", define faithfulness as the share of an answer's claims inferable from the
  context; a claim carrying a number or name that the context never states cannot be).
* :func:`verify_quote` / :func:`support_sentence`: the sentence of a chunk that supports an
  answer sentence, and whether a quote occurs in a chunk verbatim after folding (its words and
  numbers in order; punctuation and quotation marks are not compared).
* :func:`question_coverage`: how much of a question's rare vocabulary the retrieved chunks
  contain (lexical evidence for the relevance gate).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence

ECHO_MIN_NEW_WORDS = 1
"""An answer adding fewer content words than this to its question is an echo. One is enough:
"O builder padrão é pbuilder." answers "Qual é o builder padrão?" with one new word (a threshold
of 2 turned such answers into retries and then refusals on the gold sets)."""

#: Portuguese and English function words ignored when comparing content (folded forms).
STOPWORDS = frozenset(
    """
    a o as os um uma uns umas de do da dos das em no na nos nas por pelo pela pelos pelas para pra
    com sem sob sobre entre ate apos desde e ou mas nem que se como quando onde qual quais quem
    cujo cuja porque pois entao ja nao sim muito muita muitos muitas mais menos tambem so apenas
    ser estar ter haver ha e sao foi eram sera seria pode podem deve devem esta estao este esta
    isto esse essa isso aquele aquela aquilo seu sua seus suas meu minha nosso nossa ele ela eles
    elas eu voce voces lhe lhes me te nos vos ao aos algum alguma alguns algumas todo toda todos
    todas outro outra outros outras mesmo mesma cada qualquer quanto quanta quantos quantas tem
    existe existem faz fazer usar usa usado usada
    the an of in on at to for by with from and or but not no yes is are was were be been being
    it its this that these those there here what which who whom whose when where why how do does
    did can could should would will shall may might must have has had i you he she we they them
    his her our your their as if than then so such into about over under any all some each
    """.split()
)

_WORD_RE = re.compile(r"\w+", re.UNICODE)
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?;])\s+|\n+")
_CITE_RE = re.compile(r"\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\]")
#: Numbers as written in answers: 10, 10.0.2.2, 1.200,50, 25%, 3/4, 2026.
_NUMBER_RE = re.compile(r"(?<![\w.])\d+(?:[.,:/]\d+)*%?")
#: A list enumerator at the start of a line ("1.", "2)", "3 -"): a position, not a claim.
_ENUMERATOR_RE = re.compile(r"(?m)^\s*\d{1,2}[.)\-]\s+")
_CAPITALISED_RE = re.compile(r"\b[A-ZÀ-Ý][\w\-]*\b")


def fold(text: str) -> str:
    """``text`` case-folded, without accents (NFKD, combining marks dropped), whitespace collapsed."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


def strip_citations(text: str) -> str:
    """``text`` without ``[n]`` markers."""
    return _CITE_RE.sub("", text or "")


def words(text: str) -> list[str]:
    """Folded ``\\w+`` tokens of ``text``, in order."""
    return _WORD_RE.findall(fold(text))


def content_words(text: str) -> set[str]:
    """Folded words of 3+ characters (or any number) that are not :data:`STOPWORDS`."""
    return {w for w in words(text) if (len(w) >= 3 or w.isdigit()) and w not in STOPWORDS}


def contains_fact(text: str, surface: str) -> bool:
    """True when ``surface`` occurs in ``text`` after :func:`fold`.

    A ``surface`` of 4 characters or fewer must match a whole word (no letter or digit on
    either side), so "sim" does not match "assim" and "10" does not match "100". Longer strings
    match anywhere. An empty ``surface`` never matches.
    """
    needle = fold(surface)
    if not needle:
        return False
    hay = fold(strip_citations(text))
    if len(needle) <= 4:
        return re.search(r"(?<!\w)" + re.escape(needle) + r"(?!\w)", hay) is not None
    return needle in hay


def keyfact_scores(text: str, keyfacts: Sequence[Sequence[str]]) -> tuple[bool, float]:
    """``(all facts found, share of facts found)`` for ``keyfacts`` (each fact a list of
    acceptable surface strings, any of which counts). No facts: ``(True, 1.0)``."""
    if not keyfacts:
        return True, 1.0
    found = [any(contains_fact(text, s) for s in fact) for fact in keyfacts]
    return all(found), sum(found) / len(found)


#: A leading section number ("2.1 ", "6.3.4. "), as in an answer that repeats a heading; not a
#: figure with its unit ("7.5 GB", "2.4 GHz"), which is the answer itself.
_SECTION_NUMBER_RE = re.compile(r"^\s*\d+(?:\.\d+)+\.?\s+(?!(?:[KMGTP]i?B|[KMG]Hz|bytes?|bits?)\b)", re.IGNORECASE)


#: Negations (folded): a yes/no question restated with one of these, absent from the question,
#: is a "no" answer, not an echo ("…, a mudança não entra no patch").
NEGATIONS = frozenset("nao nunca nem nenhum nenhuma jamais not never no none cannot".split())

#: Command-line and code tokens: options (``-R``, ``--arch``), paths (``/etc/x``), file names
#: (``debian/rules``), ``snake_case`` words and backquoted code. A short option is an answer
#: although it is too short to be a content word.
_CODE_RE = re.compile(r"`[^`]+`|(?<![\w-])--?[A-Za-z][\w-]*|\S*/\S+|\b\w+_\w+\b|\b\w+\.\w{1,4}\b")


def code_tokens(text: str) -> set[str]:
    """Folded command-line and code tokens of ``text`` (:data:`_CODE_RE`), backquotes and
    trailing punctuation removed."""
    found = set()
    for token in _CODE_RE.findall(text or ""):
        token = fold(token.strip("`").rstrip(".,;:!?)'\""))
        if token:
            found.add(token)
    return found


def is_echo(answer: str, question: str) -> bool:
    """True when ``answer`` is empty or mostly repeats ``question``.

    Citations and a leading section number ("2.1 ") are removed; the answer is an echo when
    what it adds to the question's content words (:func:`content_words`) weighs less than
    :data:`ECHO_MIN_NEW_WORDS`, a number counting double (a figure is an answer: "São 8 GB"
    is not an echo of "Quanta memória?"). So "2.1 Qual é a versão mais recente do X?" for
    "Qual é a versão mais recente do X?" is an echo, and so is a bare "Sim." (it names
    nothing the reader can check), while "O builder padrão é pbuilder." is not. A negation
    the question lacks in a restatement (:data:`NEGATIONS`: the question restated as a "no";
    a bare "Não." stays an echo, as "Sim.") and a code token
    it lacks (:func:`code_tokens`: "A opção -R do cp…") also count as new words.
    """
    text = _SECTION_NUMBER_RE.sub("", strip_citations(answer)).strip()
    if not text:
        return True
    return _added_weight(text, question) < ECHO_MIN_NEW_WORDS


def _added_weight(text: str, question: str) -> int:
    """What ``text`` adds to ``question`` (:func:`is_echo`): its content words the question lacks,
    a number counting double, plus negations and code tokens the question lacks."""
    new = content_words(text) - content_words(question)
    weight = sum(2 if w.isdigit() else 1 for w in new)
    if content_words(text):  # a negated restatement; a bare "Não." names nothing, as a bare "Sim."
        weight += len((set(words(text)) & NEGATIONS) - set(words(question)))
    return weight + len(code_tokens(text) - code_tokens(question))


#: A reply's reference to its sources instead of their content (folded text): "(os passos) descritos
#: no contexto fornecido", "conforme o contexto", "na fonte 3", "as described in the context".
_DEFERRAL_RE = re.compile(
    r"\b(?:(?:descrit|fornecid|indicad|mencionad|explicad|apresentad|listad)[oa]s? )?"
    r"(?:n[oa]s? |d[oa]s? |pel[oa]s? |conforme (?:[oa]s? )?|segundo (?:[oa]s? )?|de acordo com (?:[oa]s? )?)"
    r"(?:contexto|fontes?|documentos?|documentacao|trechos?)(?: fornecid[oa]s?| \d+| acima)?\b"
    r"|\b(?:(?:described|given|provided|listed) )?(?:in|by|according to) the (?:context|sources?|documents?)"
    r"(?: provided| \d+| above)?\b"
)

#: Words that only send the reader elsewhere ("siga os passos", "consulte as instruções"): no content.
DEFERRAL_WORDS = frozenset(
    """
    seguir siga sigam passos passo instrucoes instrucao informacoes informacao orientacoes consulte
    consultar verifique verificar veja ver descritos descritas descrito descrita fornecidos fornecidas
    acima abaixo follow steps step instructions information consult check see described provided above below
    """.split()
)


DEFERRAL_MAX_NEW_WORDS = 1
"""A reply that refers to its sources and adds at most this many words of its own to the question is
a deferral: one, so that the question's verb restated in another form ("Como crio…?" → "Para criar…")
does not make it an answer."""


def is_deferral(answer: str, question: str) -> bool:
    """True when ``answer`` points at its sources instead of answering: it refers to them
    (:data:`_DEFERRAL_RE`: "descritos no contexto", "conforme o contexto", "na fonte 3") and, once
    those references and the words that only send the reader elsewhere (:data:`DEFERRAL_WORDS`:
    "siga os passos") are taken out, it adds at most :data:`DEFERRAL_MAX_NEW_WORDS` content word
    to ``question`` (counted as :func:`is_echo` counts them: a number or a code token is more). "Para criar a
    imagem, siga os passos descritos no contexto fornecido." is one; "A taxa pode variar dependendo
    do contexto e do nível de segurança." is not (it says something of its own)."""
    text = fold(strip_citations(answer))
    if not _DEFERRAL_RE.search(text):
        return False
    rest = _DEFERRAL_RE.sub(" ", text)
    rest = " ".join(w for w in _WORD_RE.findall(rest) if w not in DEFERRAL_WORDS)
    return _added_weight(rest, question) <= DEFERRAL_MAX_NEW_WORDS


HEADING_MAX_WORDS = 12
"""A numbered line of a source with at most this many words after its number is a heading
("6.3.4 Tipos de instalação e opções"), the longest seen being a section title run into the
page's running header (9 words)."""


def is_heading(answer: str, sources: Iterable[str]) -> bool:
    """True when ``answer`` is only a section heading copied from one of ``sources``.

    Citations and a list enumerator ("1. ") are removed; what is left must be one line that starts
    with a section number (:data:`_SECTION_NUMBER_RE`: "11.3.3 "), have at most
    :data:`HEADING_MAX_WORDS` words after it, and be a whole line of a source (:func:`fold`). Such
    a reply names where the answer is instead of giving it ("11.3.3 Resumo do site [1]" for "Quem
    gerencia o resumo do site?"). A reply that starts with a version ("12.04 é a versão LTS") is
    not one: no source has it as a line of its own.
    """
    text = _ENUMERATOR_RE.sub("", strip_citations(answer)).strip()
    if not text or "\n" in text or not _SECTION_NUMBER_RE.match(text):
        return False
    if len(words(_SECTION_NUMBER_RE.sub("", text))) > HEADING_MAX_WORDS:
        return False
    core = fold(text).rstrip(".:; ")
    lines = (line for source in sources for line in (source or "").splitlines())
    return any(fold(line).rstrip(".:; ") == core for line in lines)


REPEAT_LIMIT = 3
"""A sentence or line said this many times is a decoding loop (:func:`cut_loop`). Two is not
enough: a step list may rightly say "(substitua ``libpng`` pelo nome do seu pacote)" twice."""

_UNIT_RE = re.compile(r"[^\n]+?(?:(?<=[.!?;])(?=[ \t])|$)", re.MULTILINE)
_TRAILING_ENUMERATOR_RE = re.compile(r"\s*(?:\d{1,2}[.)\-]|[-*•])?\s*$")

RUN_LIMIT = 8
"""A piece of 2-20 characters holding a letter or digit, said this many times in a row, is a
decoding loop inside one sentence ("12.000,000,000,000,…"); dot leaders and rules (". . . .",
"-----") hold no letter or digit and are left alone."""

_RUN_RE = re.compile(r"([^\n]{2,20}?)\1{%d,}" % (RUN_LIMIT - 1))
_WORD_CHAR_RE = re.compile(r"\w")


def _first_run(text: str) -> re.Match | None:
    """The first run of :data:`RUN_LIMIT` repeats of a piece holding a letter or digit, or None."""
    for run in _RUN_RE.finditer(text):
        if _WORD_CHAR_RE.search(run.group(1)):
            return run
    return None


def _unit_key(unit: str) -> str:
    """What two sentences or lines share when one repeats the other: folded words without the
    citations and the list enumerator; empty for a unit of fewer than two words ("2.")."""
    found = words(_ENUMERATOR_RE.sub("", strip_citations(unit)))
    return " ".join(found) if len(found) >= 2 else ""


def cut_loop(text: str, limit: int = REPEAT_LIMIT) -> str:
    """``text`` cut where a decoding loop starts, or ``text`` itself when there is none.

    A loop is a sentence or line (:func:`_unit_key`: citations, list enumerators, case and accents
    not compared) that occurs ``limit`` times or more: the small generator caught repeating "1.
    1.9.2 Ubuntu Backports oficial [1] 2. 1.9.2 Ubuntu Backports oficial [1] …", or a step list
    that starts over. The text is cut at the second occurrence of the first such unit, with a
    dangling list enumerator and spaces removed, so what was said before the loop stays. A short
    piece repeated :data:`RUN_LIMIT` times in a row ("12.000,000,000,…") is a loop too; the text
    then keeps it once, without trailing punctuation ("12.000"). Cheap enough to call during
    streaming: 1-2.5 ms for a 1,400-character reply on this project's 2-core CPU."""
    cut = len(text or "")
    run = _first_run(text or "")
    if run:
        cut = run.start() + len(run.group(1))
    seen: dict[str, list[int]] = {}
    for match in _UNIT_RE.finditer(text or ""):
        if match.start() >= cut:
            break
        key = _unit_key(match.group())
        if not key:
            continue
        starts = seen.setdefault(key, [])
        starts.append(match.start())
        if len(starts) >= limit:
            return _TRAILING_ENUMERATOR_RE.sub("", text[: starts[1]])
    return text[:cut].rstrip(" \t,;:") if run else text


def is_looping(text: str, limit: int = REPEAT_LIMIT) -> bool:
    """True when ``text`` holds a decoding loop (:func:`cut_loop`)."""
    return cut_loop(text, limit) != text


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text``: split after ``. ! ? ;`` followed by space, and at line breaks."""
    return [s.strip() for s in _SENTENCE_SPLIT.split(text or "") if s and s.strip()]


def _number_forms(token: str) -> set[str]:
    """Surface forms under which a number token counts as present: itself, and its digits
    without thousand separators ("1.200" ~ "1200" ~ "1 200")."""
    token = token.rstrip("%")
    forms = {token}
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", token):
        forms.add(re.sub(r"[.,]", "", token))
    return forms


def claims(answer: str) -> list[str]:
    """The checkable claims of ``answer``: numbers (dates, amounts, addresses, versions) and
    proper names (capitalised words that do not start a sentence), in order, without repeats."""
    text = _ENUMERATOR_RE.sub(" ", strip_citations(answer))
    out: list[str] = []
    for match in _NUMBER_RE.finditer(text):
        token = match.group(0).rstrip(".,:/")
        if token and token not in out:
            out.append(token)
    for sentence in split_sentences(text):
        tokens = list(_CAPITALISED_RE.finditer(sentence))
        for m in tokens:
            before = sentence[: m.start()]
            # the first word of a sentence or list item (after markdown marks such as "**" or "- ")
            if not re.search(r"\w", before) or before.rstrip().endswith((":", "\"", "“", "(", "-", "•")):
                continue
            word = m.group(0)
            if fold(word) in STOPWORDS or len(word) < 3 or word in out:
                continue
            out.append(word)
    return out


def unsupported_claims(answer: str, sources: Iterable[str], question: str = "") -> list[str]:
    """Claims of ``answer`` (:func:`claims`) that occur in none of ``sources`` nor in ``question``.

    A number is present when one of its forms (:func:`_number_forms`) occurs as a whole token
    of a folded source; a name when its folded form occurs as a whole word. Returns the
    unsupported claims as written in the answer; ``[]`` when every claim is found.
    """
    haystack = " \n ".join(fold(s) for s in sources) + " \n " + fold(question)
    missing: list[str] = []
    for claim in claims(answer):
        if claim[0].isdigit():
            forms = _number_forms(claim)
            plain = re.sub(r"\D", "", claim)
            ok = any(re.search(r"(?<![\w])" + re.escape(fold(f)) + r"(?![\d])", haystack) for f in forms)
            if not ok and len(plain) >= 4:
                ok = plain in re.sub(r"[^\d\n ]", "", haystack).replace(" ", "")
        else:
            ok = re.search(r"(?<!\w)" + re.escape(fold(claim)) + r"(?!\w)", haystack) is not None
        if not ok:
            missing.append(claim)
    return missing


#: Questions whose answer is a figure (folded text): "Quantos…", "Qual é o valor / preço / número /
#: versão / tamanho / telefone / data / ano…", "Em que ano / data…", "How many / much…". Matched at
#: the start of the question only ("Como conto quantas linhas…?" asks for a command), and not
#: "quanto tempo" or "de quanto em quanto" (answered in words as often as in figures).
_FIGURE_NOUNS = "valor|preco|numero|versao|tamanho|telefone|data|ano|salario|porta"
"""Nouns (folded) that name a figure after "Qual é o/a …": shared by :data:`_ASKS_NUMBER_RE` and,
with more of them, :data:`_SEEKS_FIGURE_RE`."""

_ASKS_NUMBER_RE = re.compile(
    r"^(?:e |mas |entao )?(?:(?:em|de|a partir de|ate|por|com) )?"
    r"(?:quant[oa]s?\b(?! tempo| em quanto)"
    rf"|qual (?:e |era |sera |foi )?(?:o |a )?(?:{_FIGURE_NOUNS})\b"
    r"|em que (?:ano|data|dia)\b|que (?:ano|data|dia)\b"
    r"|how (?:many|much)\b|what (?:year|date|version)\b|which (?:year|version)\b)"
)

#: Questions that seek a figure anywhere in them (folded text): a broader, looser
#: :data:`_ASKS_NUMBER_RE` for :func:`seeks_figure`. "quanto tempo", "quando" and "Segundo o
#: manual, quantos…" count; "Quais são as partes de…", "Como crio…" and "Preciso ser root…" do not.
_SEEKS_FIGURE_RE = re.compile(
    r"\bquant[oa]s?\b|\bquando\b"
    rf"|\bqual (?:e |era |sera |foi )?(?:o |a )?(?:\w+ )?(?:{_FIGURE_NOUNS}"
    r"|prazo|limite|idade|duracao|horario|hora|custo|taxa|capacidade|percentual|ip|endereco)\b"
    r"|\bque (?:ano|data|dia|mes|horario|hora|idade|versao|tamanho|porta|numero|valor)\b"
    r"|\bhow (?:many|much|long|old|big|large)\b|\bwhen\b"
    r"|\bwhat (?:is the |was the )?(?:\w+ ){0,2}(?:year|date|time|version|size|number|port|address|price|amount|value)\b"
    r"|\bwhich (?:year|version|port)\b"
)

#: Figures written as words (folded), which answer a "how many" as well as digits do. Not "um",
#: "uma", "one": they are articles far more often than answers.
NUMBER_WORDS = frozenset(
    """
    zero dois duas tres quatro cinco seis sete oito nove dez onze doze treze quatorze catorze
    quinze vinte trinta quarenta cinquenta cem cento duzentos trezentos mil milhao milhoes bilhao
    two three four five six seven eight nine ten eleven twelve twenty thirty hundred thousand million
    """.split()
)


def asks_for_number(question: str) -> bool:
    """True when ``question`` asks for a figure (a quantity, amount, version, date or year):
    :data:`_ASKS_NUMBER_RE` at its start, after :func:`fold`. Expected-answer-type
    classification in the sense of Li & Roth (2002, "Learning question classifiers"), by rule."""
    return _ASKS_NUMBER_RE.search(fold(question)) is not None


def seeks_figure(question: str) -> bool:
    """True when ``question`` asks for a figure anywhere in it (:data:`_SEEKS_FIGURE_RE`: a
    quantity, amount, duration, date, time, version, size, port or address). Looser than
    :func:`asks_for_number`, which only looks at the question's start: this one decides whether a
    number in the answer is what the question asked for (:func:`number_context` is then checked),
    or only part of the wording of a command, a manual page ("grep(1)") or a standard ("ISO 639")."""
    return _SEEKS_FIGURE_RE.search(fold(question)) is not None


#: What makes a question open ("wh-") or a choice, anywhere in it (folded text): an interrogative
#: word; Portuguese "que" after a preposition or article ("o que", "em que"…) or opening a clause
#: ("Que comando…?", "…; que valores devo informar?"), not inside one ("É verdade que…?"); or "ou"
#: between alternatives ("amd64 ou i386?"). A question holding none of them is polar (yes/no).
_OPEN_QUESTION_RE = re.compile(
    r"\b(?:qual|quais|quant[oa]s?|como|onde|aonde|quando|quem|cujo|cuja"
    r"|(?:o|por|para|em|de|com|a|ate|desde) que|porque|pra que|ou|or"
    r"|what|which|how|where|when|who|whom|whose|why)\b"
    r"|(?:^|[.;:,?!]\s*)que\b"
)

#: English polar questions open with an auxiliary verb.
_EN_POLAR_START_RE = re.compile(
    r"^(?:do|does|did|is|are|was|were|am|can|could|should|shall|will|would|may|might|must|has|have|had)\b"
)


def is_polar_question(question: str, language: str = "pt") -> bool:
    """True when ``question`` is a yes/no (polar) question: in Portuguese, one holding no
    interrogative word (:data:`_OPEN_QUESTION_RE`: "Posso atualizar direto do Debian Edu 10 para o
    12?", "Se eu formatar com mkfs.ext2, vou conseguir ler no Windows?"); in English, one opening with
    an auxiliary verb ("Do I need a permit…?") and holding no interrogative word. Text is folded
    (:func:`fold`) first; other languages give False. Question-type classification by rule, in the
    sense of Li & Roth (2002); the judge of :func:`oracle.rag.answerable_probability` uses it."""
    text = fold(question).strip()
    if not text or _OPEN_QUESTION_RE.search(text):
        return False
    if language == "en":
        return _EN_POLAR_START_RE.search(text) is not None
    return language == "pt"


def gives_figure(answer: str, question: str = "") -> bool:
    """True when ``answer`` holds a figure that ``question`` does not: a number (digits) or a
    number word (:data:`NUMBER_WORDS`), ``[n]`` markers and a leading section number ("2.1.2 ")
    removed. "O Moodle vem instalado no Debian Edu 12" gives no figure to "Qual versão do Moodle
    vem instalada no Debian Edu 12?"."""
    clean = _SECTION_NUMBER_RE.sub("", strip_citations(answer))
    asked = set(_NUMBER_RE.findall(question or ""))
    if any(n not in asked for n in _NUMBER_RE.findall(clean)):
        return True
    return bool((set(words(clean)) & NUMBER_WORDS) - set(words(question or "")))


#: Questions that ask for an e-mail address (folded text): "Qual é o e-mail da secretaria?", "Qual
#: o endereço de e-mail…", "Para qual e-mail envio…?", "What is the contact e-mail address…?". Not
#: "Qual variável guarda meu nome e e-mail?" (a variable) nor "Qual é o agente de transporte de
#: e-mail?" (a program): the e-mail must be the thing asked for.
_ASKS_EMAIL_RE = re.compile(
    r"\b(?:qual|quais) (?:e |sao |era |seria )?(?:o |os )?(?:\w+ )?(?:endereco (?:de )?)?e-?mails?\b"
    r"|\b(?:para|a|em|com) (?:qual|que) (?:endereco (?:de )?)?e-?mail\b"
    r"|\bwhat(?: is|'s| was)? (?:the |your )?(?:\w+ )?e-?mail(?: address)?\b|\bwhich e-?mail\b"
)
_EMAIL_RE = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)*", re.UNICODE)


def asks_for_email(question: str) -> bool:
    """True when ``question`` asks for an e-mail address (:data:`_ASKS_EMAIL_RE`, after :func:`fold`):
    expected-answer-type classification by rule, as :func:`asks_for_number` (Li & Roth 2002)."""
    return _ASKS_EMAIL_RE.search(fold(question)) is not None


def gives_email(answer: str) -> bool:
    """True when ``answer`` holds an e-mail address (``name@host``). "…pode ser encontrada em
    http://security.debian.org/" gives none to "Qual é o e-mail da equipe de segurança?"."""
    return _EMAIL_RE.search(strip_citations(answer or "")) is not None


def number_context(answer: str, sources: Iterable[str], question: str) -> float:
    """How well the source passages holding the answer's numbers speak of the question, in [0, 1].

    For each number of ``answer`` (:func:`claims`), the source sentences that contain it are
    found, each with the sentence before it (a table row's heading, a list's lead-in), and the
    best :func:`question_coverage` of ``question`` by such a window is kept; the result is the
    lowest over the numbers (1.0 when the answer has no number found in a source). "O salário do
    prefeito é R$ 250.000,00" from "O valor total destinado a esta chamada é de R$ 250.000,00"
    scores 0: the figure is in the sources but belongs to something else.
    """
    sources = list(sources)
    worst = 1.0
    for claim in claims(answer):
        if not claim[0].isdigit():
            continue
        patterns = [re.compile(r"(?<![\w])" + re.escape(fold(f)) + r"(?![\d])") for f in _number_forms(claim)]
        best: float | None = None
        for source in sources:
            sentences = split_sentences(source)
            for i, sentence in enumerate(sentences):
                if any(p.search(fold(sentence)) for p in patterns):
                    window = " ".join(sentences[max(0, i - 1): i + 1])
                    cover = question_coverage(question, [window])
                    best = cover if best is None else max(best, cover)
        if best is not None:
            worst = min(worst, best)
    return worst


_QUOTE_TOKEN_RE = re.compile(r"\d+(?:[.,]\d+)*|\w+", re.UNICODE)


def quote_tokens(text: str) -> str:
    """The words and numbers of ``text`` after :func:`fold`, joined by one space: punctuation,
    quotation marks and bullets dropped, a number's separators kept ("25.000,00" stays one token,
    so it never matches "25 000 00" or "25,000")."""
    return " ".join(_QUOTE_TOKEN_RE.findall(fold(text)))


def verify_quote(quote: str, chunk_text: str) -> bool:
    """True when ``quote`` (citations removed) occurs verbatim in ``chunk_text``, comparing their
    :func:`quote_tokens` (case, accents, whitespace and punctuation are not compared).

    A model copying a sentence changes its typography ("Dica:" for "Dica", 'Packages' or a
    backquoted Packages for "”Packages”", a dropped bullet); such a quote still states the same
    words in the same order. A quote cut inside a word at either end still matches."""
    q = quote_tokens(strip_citations(quote))
    return bool(q) and q in quote_tokens(chunk_text)


def _weighted_share(target: set[str], have: set[str]) -> float:
    """Share of the words ``target`` found in ``have``, numbers weighing double; 0.0 for no target."""
    numbers = {w for w in target if w.isdigit()}
    weight = len(target) + len(numbers)
    return (len(target & have) + len(numbers & have)) / weight if weight else 0.0


def quote_support(answer: str, quote: str, question: str = "") -> float:
    """How much of what ``answer`` adds to ``question`` the ``quote`` states, in [0, 1].

    The share of the answer's content words (:func:`content_words`) that are not in the question
    and occur in the quote, numbers weighing double, as in :func:`support_sentence`; 0.0 when a
    claim of the answer (:func:`unsupported_claims`: a number or a name) is in neither the quote
    nor the question. An answer that adds nothing scores 1.0 (:func:`is_echo` judges those). Used
    to check that a generated pair's quote is the evidence of its answer (RAFT's quote, Zhang et
    al. 2024, arXiv:2403.10131), not merely a sentence of the same chunk.
    """
    if unsupported_claims(answer, [quote], question):
        return 0.0
    target = content_words(answer) - content_words(question)
    return _weighted_share(target, content_words(quote)) if target else 1.0


def has_code_token(token: str, text: str) -> bool:
    """True when the folded code token ``token`` (:func:`code_tokens`) occurs in ``text`` as a whole
    token: no letter, digit or hyphen on either side, so the option ``-g`` is not found in
    ``apt-get``. ``token`` must already be folded (as :func:`code_tokens` returns it)."""
    return bool(token) and re.search(r"(?<![\w-])" + re.escape(token) + r"(?![\w-])", fold(text)) is not None


def added_support(claim: str, question: str, source: str) -> tuple[float, bool]:
    """How much of what ``claim`` adds to ``question`` the ``source`` holds: ``(share, code_found)``.

    ``share`` in [0, 1] is the share of the claim's content words (:func:`content_words`) and code
    tokens (:func:`code_tokens`: commands, paths, options) that the question lacks and the source
    holds, numbers and code tokens weighing double; a code token counts when it occurs whole in the
    source (:func:`has_code_token`), so an English source supports a Portuguese answer by the
    command it names. ``code_found`` is True when at least one such code token was found. A claim
    that adds nothing scores ``(0.0, False)``. Used to attribute an answer sentence to its source
    (:func:`oracle.rag.attribute_citations`) by what it says, not by the question it restates.
    """
    question_words = content_words(question)
    new_words = content_words(claim) - question_words
    new_code = {c for c in code_tokens(claim) - code_tokens(question) if c not in question_words}
    weight = sum(2 if w.isdigit() else 1 for w in new_words) + 2 * len(new_code)
    if not weight:
        return 0.0, False
    have = content_words(source)
    found_code = sum(1 for c in new_code if has_code_token(c, source))
    found = sum(2 if w.isdigit() else 1 for w in new_words & have) + 2 * found_code
    return found / weight, found_code > 0


def support_sentence(claim: str, chunk_text: str, min_words: int = 0) -> tuple[str, float]:
    """The sentence of ``chunk_text`` that best supports ``claim``, and its support in [0, 1].

    Support is the share of the claim's content words (:func:`content_words`) found in the
    sentence, with the claim's numbers weighing double (a figure is what a reader checks). Ties
    go to the earlier sentence. Sentences of fewer than ``min_words`` words, a leading section
    number not counted (headings: "11.3.3 Resumo do site"; list numbers), are skipped. Returns
    ``("", 0.0)`` when no sentence qualifies.
    """
    target = content_words(claim)
    best, best_score = "", -1.0
    for sentence in split_sentences(chunk_text):
        if min_words and len(words(_SECTION_NUMBER_RE.sub("", sentence))) < min_words:
            continue
        score = _weighted_share(target, content_words(sentence))
        if score > best_score:
            best, best_score = sentence, score
    return best, max(best_score, 0.0)


def faithfulness(answer: str, sources: Sequence[str], min_support: float = 0.5) -> float:
    """Share of the answer's sentences supported by a sentence of the sources, in [0, 1].

    An approximation of RAGAS faithfulness (Es et al. 2023) without a judge model: a sentence
    counts as supported when one source sentence holds at least ``min_support`` of its content
    words (:func:`support_sentence`) and none of its numbers or names is unsupported
    (:func:`unsupported_claims`). An answer with no sentence scores 0.0.
    """
    sentences = [s for s in split_sentences(strip_citations(answer)) if content_words(s)]
    if not sentences:
        return 0.0
    ok = 0
    for sentence in sentences:
        best = max((support_sentence(sentence, src)[1] for src in sources), default=0.0)
        if best >= min_support and not unsupported_claims(sentence, sources):
            ok += 1
    return ok / len(sentences)


def question_coverage(question: str, texts: Sequence[str], document_frequency: dict[str, int] | None = None,
                      n_documents: int = 0) -> float:
    """IDF-weighted share of the question's content words present in ``texts``, in [0, 1].

    Lexical evidence that the retrieved chunks speak of what the question asks: an off-topic
    question whose best chunk is a page header still scores a high cosine with a small
    embedder, but its rare words ("bolsa", "professores") are absent. Weights are
    ``log(1 + N / df)`` (Robertson & Spärck Jones IDF) when ``document_frequency`` (folded word
    -> number of chunks containing it) and ``n_documents`` are given, else 1. A word counts as
    present when a word of the texts shares its first 5 letters (a light stemmer, so that
    "inscrição" matches "inscrições"). Returns 1.0 for a question without content words.
    """
    target = content_words(question)
    if not target:
        return 1.0
    have = set()
    for text in texts:
        have |= content_words(text)
    stems = {w[:5] for w in have}

    def weight(w: str) -> float:
        if document_frequency is None or n_documents <= 0:
            return 1.0
        return math.log(1.0 + n_documents / (1 + document_frequency.get(w[:5], 0)))

    total = sum(weight(w) for w in target)
    found = sum(weight(w) for w in target if w in have or w[:5] in stems)
    return found / total if total else 1.0
