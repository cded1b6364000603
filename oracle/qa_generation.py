"""Chunks + generator -> question/answer pairs grounded in each chunk (synthetic training data).

For each chunk of a document the generator is asked for ``QAConfig.pairs_per_chunk`` pairs,
in the chunk's language, as a JSON object ``{"pairs": [{"question": ..., "answer": ...}]}``.
The reply is streamed and generation stops as soon as its JSON is complete: after the
outermost object closes, or after the N-th pair (:class:`JsonStreamWatcher`; a small model
asked for 2 pairs may go on writing 20 until its token budget runs out). Then four steps:

1. **extract** the JSON text (inside a code fence, or the outermost ``{...}``/``[...]`` in
   prose around it);
2. **parse** with ``json.loads``; when that fails, **repair** with ``json_repair``
   (missing quotes or commas, trailing commas, a reply cut off by the token budget; in a
   cut-off reply the last pair is dropped, since it may be truncated);
3. **normalise** common variants of small models (a bare list of pairs, Portuguese keys
   ``pergunta``/``resposta``/``pares``) and **validate** against :data:`QA_SCHEMA`
   (``jsonschema``). An invalid reply is asked again, up to ``QAConfig.max_retries``
   extra times, each retry 0.2 hotter (a greedy retry would repeat itself); after that the
   chunk is dropped and counted in ``n_invalid``;
4. **filter** each pair (counted in ``n_rejected``): a question under
   :data:`MIN_QUESTION_CHARS` characters or :data:`MIN_QUESTION_WORDS` words, a question that
   points at "the text" instead of standing alone, an answer that only repeats words of its
   question ("Qual é o nome do perfil mínimo?" -> "Mínimo"), or an answer not grounded in the chunk
   (:func:`is_grounded`: at least :data:`MIN_GROUNDED_SHARE` of the answer's content words
   occur in the chunk), then **deduplicate** (counted in ``n_duplicates``) by normalised
   question (:func:`normalize_question`) against the document's file and this run.

Output, in the workspace's ``data_qa/``:

* ``<doc_id>.qa.jsonl``: one :class:`~oracle.schema.QAPair` per line, with provenance
  (document, page, chunk id), language and the generator's name; appended chunk by chunk,
  so an interruption loses at most the chunk being generated.
* ``<doc_id>.qa.done.jsonl``: one line per finished chunk ``{"chunk_id", "n_pairs",
  "n_invalid", ...}``. A rerun skips the chunks listed there (or having pairs in the QA
  file), so an interrupted run resumes, and a chunk that yielded nothing is not redone.

Deleting both files starts the document over.
"""

from __future__ import annotations

import json
import logging
import re
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oracle.config import ChunkingConfig, QAConfig, Workspace
from oracle.schema import (
    Chunk,
    Document,
    ProgressCallback,
    QAPair,
    append_jsonl,
    iter_jsonl,
    now_iso,
    read_jsonl,
    write_jsonl_atomic,
)

logger = logging.getLogger(__name__)

#: JSON Schema of a valid reply (after normalisation). Extra keys are allowed and ignored.
QA_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "pairs": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {
                    "question": {"type": "string", "minLength": 1},
                    "answer": {"type": "string", "minLength": 1},
                },
                "required": ["question", "answer"],
            },
        }
    },
    "required": ["pairs"],
}

#: A question shorter than this many characters (after stripping) is dropped.
MIN_QUESTION_CHARS = 10
#: A question with fewer words than this is dropped.
MIN_QUESTION_WORDS = 3
#: Share of an answer's content words (not stopwords; 3+ letters, or digits) that must occur
#: in the chunk (accent- and case-insensitive, words compared on their first 6 letters so
#: "configurar"/"configuração" match). 0.5 keeps paraphrased answers and drops answers the
#: model made up from general knowledge.
MIN_GROUNDED_SHARE = 0.5
#: Temperature added on each retry after an invalid reply.
RETRY_TEMPERATURE_STEP = 0.2

_STOPWORDS = frozenset(
    ["a", "ao", "aos", "as", "ate", "com", "como", "da", "das", "de", "dela", "dele", "deles", "do", "dos", "e", "ela", "elas", "ele", "eles", "em", "entre", "era", "essa", "esse", "esta", "este", "eu", "foi", "for", "ha", "isso", "isto", "ja", "la", "mais", "mas", "me", "mesmo", "muito", "na", "nas", "nao", "nem", "no", "nos", "o", "os", "ou", "para", "pela", "pelas", "pelo", "pelos", "por", "qual", "quais", "quando", "que", "quem", "se", "sem", "ser", "seu", "seus", "sua", "suas", "sao", "so", "tambem", "tem", "ter", "um", "uma", "umas", "uns", "voce", "the", "of", "and", "to", "in", "is", "are", "was", "were", "be", "been", "for", "on", "with", "as", "by", "at", "an", "or", "from", "that", "this", "these", "those", "it", "its", "which", "what", "who", "whom", "when", "where", "how", "not", "no", "yes", "can", "may", "will", "has", "have", "had", "do", "does", "did", "than", "then", "there", "their", "they"]
)

# questions that point at the source instead of standing alone
_REFERS_TO_TEXT = re.compile(
    r"\b(segundo|de acordo com|conforme|no|neste|nesse|do|deste|desse)\s+(o\s+)?(texto|trecho|passagem|excerto)\b"
    r"|\b(according to|in|from)\s+(the|this)\s+(text|passage|excerpt|chunk)\b",
    re.IGNORECASE,
)

_PROMPTS = {
    "pt": {
        "system": (
            "Você cria dados de treino a partir de documentos. Responda somente com um objeto JSON válido, "
            "sem nenhum texto antes ou depois."
        ),
        "user": (
            "Texto:\n\"\"\"\n{text}\n\"\"\"\n\n"
            "Escreva exatamente {n} pares de pergunta e resposta em português sobre o texto acima.\n"
            "Regras:\n"
            "- Cada pergunta deve poder ser respondida somente com as informações do texto.\n"
            "- Cada pergunta deve se entender sozinha: não escreva \"segundo o texto\" nem \"no trecho\".\n"
            "- Cada resposta é curta (uma frase), completa e copiada ou resumida do texto.\n"
            "- Não repita perguntas.\n"
            "Formato (JSON, com exatamente {n} itens em \"pairs\"):\n"
            "{format}"
        ),
    },
    "en": {
        "system": (
            "You create training data from documents. Reply with one valid JSON object only, "
            "with no text before or after it."
        ),
        "user": (
            "Text:\n\"\"\"\n{text}\n\"\"\"\n\n"
            "Write exactly {n} question and answer pairs {language_clause} about the text above.\n"
            "Rules:\n"
            "- Each question must be answerable only from the information in the text.\n"
            "- Each question must stand on its own: do not write \"according to the text\" or \"in the passage\".\n"
            "- Each answer is short (one sentence), complete, and copied or summarised from the text.\n"
            "- Do not repeat questions.\n"
            "Format (JSON, with exactly {n} items in \"pairs\"):\n"
            "{format}"
        ),
    },
}

_KEY_ALIASES = {
    "question": ("question", "pergunta", "q", "questao", "questão"),
    "answer": ("answer", "resposta", "a", "r"),
    "quote": ("quote", "citacao", "citação", "trecho", "evidence", "evidencia", "evidência"),
}
_LIST_KEYS = ("pairs", "pares", "qa", "qa_pairs", "questions", "perguntas", "items")


class QAParseError(ValueError):
    """A reply holds no valid QA JSON; ``str(err)`` says why (for logs and retries)."""


@dataclass
class QAReport:
    """What one :func:`generate_qa` run did.

    Attributes:
        pairs: the pairs written in this run (already in the QA file).
        n_chunks: chunks of the document.
        n_done: chunks generated in this run.
        n_skipped: chunks skipped because an earlier run finished them (resume).
        n_short: chunks skipped as shorter than ``QAConfig.min_chunk_tokens``.
        n_invalid: chunks dropped because every reply (1 + ``max_retries``) was invalid.
        n_rejected: pairs dropped by the filters (too short, refers to "the text", not grounded).
        n_duplicates: pairs dropped as duplicates (of the file or of this run).
        n_retries: extra generations caused by invalid replies.
        seconds: wall time of the run.
        n_tokens: tokens generated (from the generator's ``last_stats``, when it has them).
    """

    pairs: list[QAPair] = field(default_factory=list)
    n_chunks: int = 0
    n_done: int = 0
    n_skipped: int = 0
    n_short: int = 0
    n_invalid: int = 0
    n_rejected: int = 0
    n_duplicates: int = 0
    n_retries: int = 0
    seconds: float = 0.0
    n_tokens: int = 0

    @property
    def n_pairs(self) -> int:
        return len(self.pairs)


# --- prompt -------------------------------------------------------------------------


def qa_messages(chunk: Chunk, n: int, language: str | None = None, prompts: dict[str, dict[str, str]] | None = None,
                fields: tuple[str, ...] = ("question", "answer")) -> list[dict]:
    """The chat messages (system + user) asking for exactly ``n`` pairs about ``chunk``.

    Args:
        chunk: the source chunk (its ``text`` is quoted in the prompt).
        n: number of pairs asked for.
        language: ISO 639-1 code of the pairs; default ``chunk.language``. ``"pt"`` (also the
            default for ``"und"``/empty) gets a Portuguese prompt, ``"en"`` an English one;
            any other language gets the English prompt asking for the text's language.
        prompts: ``{"pt": {"system", "user"}, "en": {...}}`` templates (``{text}``, ``{n}``,
            ``{format}``, and ``{language_clause}`` in English); default this module's.
        fields: the keys of each pair in the JSON template shown to the model.
    """
    lang = (language or chunk.language or "pt").lower()[:2]
    prompts = prompts or _PROMPTS
    # one slot per pair: small models follow a template better than a number
    slots = ", ".join(["{" + ", ".join(f'"{f}": "..."' for f in fields) + "}"] * n)
    fmt = '{"pairs": [' + slots + "]}"
    if lang in ("pt", "un", ""):
        p = prompts["pt"]
        user = p["user"].format(text=chunk.text.strip(), n=n, format=fmt)
    else:
        p = prompts["en"]
        clause = "in English" if lang == "en" else "in the same language as the text"
        user = p["user"].format(text=chunk.text.strip(), n=n, language_clause=clause, format=fmt)
    return [{"role": "system", "content": p["system"]}, {"role": "user", "content": user}]


# --- parsing ------------------------------------------------------------------------

_FENCE = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\n?(.*?)(?:```|$)", re.DOTALL)


def extract_json_text(reply: str) -> str:
    """The JSON part of a model reply: a fenced block's body, else from the first ``{``/``[``
    to the last ``}``/``]`` (or to the end when the reply was cut off). '' when none."""
    text = reply.strip()
    fence = _FENCE.search(text)
    if fence and any(c in fence.group(1) for c in "{["):
        text = fence.group(1).strip()
    starts = [i for i in (text.find("{"), text.find("[")) if i >= 0]
    if not starts:
        return ""
    start = min(starts)
    end = max(text.rfind("}"), text.rfind("]"))
    if end < start:
        return text[start:]
    # a cut-off reply may have closed an inner object only: keep the tail for the repairer
    return text[start:] if _unbalanced(text[start : end + 1]) else text[start : end + 1]


def _unbalanced(text: str) -> bool:
    depth, in_str, esc = 0, False, False
    for c in text:
        if in_str:
            if esc:
                esc = False
            elif c == "\\":
                esc = True
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c in "{[":
            depth += 1
        elif c in "}]":
            depth -= 1
    return depth > 0 or in_str


def _pick(d: dict, names: Iterable[str]) -> Any:
    lowered = {str(k).strip().lower(): v for k, v in d.items()}
    for name in names:
        if name in lowered:
            return lowered[name]
    return None


def _normalise(obj: Any) -> Any:
    """Map the common variants of small models onto the schema's shape (no validation)."""
    if isinstance(obj, list):
        obj = {"pairs": obj}
    if isinstance(obj, dict) and "pairs" not in obj:
        items = _pick(obj, _LIST_KEYS)
        if items is None and _pick(obj, _KEY_ALIASES["question"]) is not None:
            items = [obj]  # a single pair
        if items is not None:
            obj = {"pairs": items}
    if isinstance(obj, dict) and isinstance(obj.get("pairs"), list):
        pairs = []
        for item in obj["pairs"]:
            if isinstance(item, dict):
                found = {k: _pick(item, names) for k, names in _KEY_ALIASES.items()}
                item = {**item, **{k: v for k, v in found.items() if v is not None}}
                for k in ("question", "answer", "quote"):
                    if isinstance(item.get(k), str):
                        item[k] = item[k].strip()
            pairs.append(item)
        obj = {**obj, "pairs": pairs}
    return obj


def parse_qa_reply(reply: str) -> list[dict[str, str]]:
    """Pairs ``[{"question": str, "answer": str}]`` from a model reply (steps 1-3 of the module doc);
    a pair that carries a string ``"quote"`` (the supporting sentence, RAFT style: asked for by
    :mod:`oracle.improve.pairs`) keeps it as ``"quote"``.

    Raises:
        QAParseError: no JSON found, unrepairable, or not matching :data:`QA_SCHEMA`.
    """
    import jsonschema

    text = extract_json_text(reply or "")
    if not text:
        raise QAParseError("no JSON object in the reply")
    truncated = _unbalanced(text)
    try:
        obj = json.loads(text)
    except json.JSONDecodeError:
        import json_repair

        try:
            obj = json_repair.repair_json(text, return_objects=True)
        except Exception as exc:  # noqa: BLE001 - json_repair raises various errors on garbage
            raise QAParseError(f"unrepairable JSON: {exc}") from None
        if obj in ("", None):
            raise QAParseError("unrepairable JSON")
    obj = _normalise(obj)
    if truncated and isinstance(obj, dict) and isinstance(obj.get("pairs"), list) and len(obj["pairs"]) > 1:
        obj["pairs"] = obj["pairs"][:-1]  # the last pair of a cut-off reply may be cut too
    try:
        jsonschema.validate(obj, QA_SCHEMA)
    except jsonschema.ValidationError as exc:
        raise QAParseError(f"schema: {exc.message}") from None
    return [{"question": p["question"], "answer": p["answer"],
             **({"quote": p["quote"]} if isinstance(p.get("quote"), str) else {})} for p in obj["pairs"]]


# --- filters ------------------------------------------------------------------------


def _fold(text: str) -> str:
    """casefold + strip accents (NFKD, drop combining marks)."""
    text = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in text if not unicodedata.combining(c))


def normalize_question(question: str) -> str:
    """Key for duplicate detection: casefolded, accents stripped, punctuation removed, spaces collapsed."""
    folded = _fold(question)
    folded = "".join(" " if unicodedata.category(c).startswith(("P", "S")) else c for c in folded)
    return " ".join(folded.split())


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", _fold(text))


def _stem(word: str) -> str:
    return word[:6]


def content_words(text: str) -> list[str]:
    """Words of ``text`` (folded) that carry content: not stopwords, 3+ characters or digits."""
    return [w for w in _words(text) if w not in _STOPWORDS and (len(w) >= 3 or w.isdigit())]


def is_grounded(answer: str, chunk_text: str, min_share: float = MIN_GROUNDED_SHARE) -> bool:
    """True when at least ``min_share`` of the answer's content words occur in ``chunk_text``.

    Words are compared casefolded, without accents, on their first 6 characters. An answer
    without content words ("Sim.") is not grounded. A cheap lexical check, not entailment.
    """
    words = content_words(answer)
    if not words:
        return False
    chunk_stems = {_stem(w) for w in _words(chunk_text)}
    found = sum(1 for w in words if _stem(w) in chunk_stems)
    return found / len(words) >= min_share


def reject_reason(question: str, answer: str, chunk_text: str) -> str | None:
    """Why a pair is dropped (``"short_question"``, ``"refers_to_text"``, ``"empty_answer"``,
    ``"trivial"``: every content word of the answer is already in the question, ``"not_grounded"``),
    or None when it is kept."""
    q = question.strip()
    if len(q) < MIN_QUESTION_CHARS or len(q.split()) < MIN_QUESTION_WORDS:
        return "short_question"
    if _REFERS_TO_TEXT.search(q):
        return "refers_to_text"
    if not answer.strip():
        return "empty_answer"
    answer_words = content_words(answer)
    if answer_words and {_stem(w) for w in answer_words} <= {_stem(w) for w in _words(q)}:
        return "trivial"
    if not is_grounded(answer, chunk_text):
        return "not_grounded"
    return None


# --- files --------------------------------------------------------------------------


def _workspace(workspace: Workspace | str | Path | None) -> Workspace:
    if isinstance(workspace, Workspace):
        return workspace
    return Workspace(workspace) if workspace is not None else Workspace()


def done_file(workspace: Workspace | str | Path, doc_id: str) -> Path:
    """``data_qa/<doc_id>.qa.done.jsonl``: the chunks already generated."""
    return _workspace(workspace).data_qa / f"{doc_id}.qa.done.jsonl"


def done_chunks(workspace: Workspace | str | Path, doc_id: str) -> set[str]:
    """Ids of the chunks of ``doc_id`` already done: listed in the done file or with pairs in the QA file."""
    ws = _workspace(workspace)
    ids = {r["chunk_id"] for r in iter_jsonl(done_file(ws, doc_id)) if "chunk_id" in r}
    ids |= {r["chunk_id"] for r in iter_jsonl(ws.qa_file(doc_id)) if "chunk_id" in r}
    return ids


def load_qa(workspace, doc_id: str | None = None) -> list[QAPair]:
    """QA pairs of one document (``data_qa/<doc_id>.qa.jsonl``), or of all documents in file-name order.

    Only ``*.qa.jsonl`` files are read (not ``validated.jsonl``, ``invalid.jsonl`` nor the
    ``*.qa.done.jsonl`` progress files). A missing file gives ``[]``.
    """
    ws = _workspace(workspace)
    paths = [ws.qa_file(doc_id)] if doc_id is not None else sorted(ws.data_qa.glob("*.qa.jsonl"))
    pairs: list[QAPair] = []
    for path in paths:
        pairs.extend(read_jsonl(path, QAPair))
    return pairs


def save_qa(workspace, doc_id: str, pairs: list) -> None:
    """Replace the QA file of ``doc_id`` with ``pairs`` (QAPair or dicts), atomically (review edits).

    The done file is kept, so a later :func:`generate_qa` does not regenerate deleted pairs.
    """
    ws = _workspace(workspace)
    records = [p if isinstance(p, QAPair) else QAPair.from_dict(p) for p in pairs]
    write_jsonl_atomic(ws.qa_file(doc_id), records)


# --- generation ---------------------------------------------------------------------


def _n_tokens(chunk: Chunk, chunking: ChunkingConfig | None) -> int:
    if chunk.n_tokens:
        return chunk.n_tokens
    from oracle.chunking import count_tokens

    return count_tokens(chunk.text, (chunking or ChunkingConfig()).encoding)


class JsonStreamWatcher:
    """Reads a reply as it streams and says when the JSON part is complete, so generation can stop.

    Done when the outermost ``{...}``/``[...]`` closes (prose after it is never generated), or
    when ``max_items`` objects inside arrays are complete: the reply is then cut after the
    last of them and its open brackets are closed (a small model asked for 2 pairs may go on
    writing 20 until its token budget runs out). Brackets inside JSON strings are ignored.
    """

    def __init__(self, max_items: int | None = None) -> None:
        self.max_items = max_items
        self.parts: list[str] = []
        self._pos = 0  # characters scanned
        self._started = False
        self._stack: list[str] = []
        self._in_str = self._esc = False
        self._items = 0
        self._cut: str | None = None
        self.done = False

    def feed(self, piece: str) -> bool:
        """Add a streamed piece; True once the JSON is complete (stop generating)."""
        self.parts.append(piece)
        if self.done:
            return True
        for c in piece:
            self._pos += 1
            if not self._started:
                if c not in "{[":
                    continue
                self._started = True
            if self._in_str:
                if self._esc:
                    self._esc = False
                elif c == "\\":
                    self._esc = True
                elif c == '"':
                    self._in_str = False
                continue
            if c == '"':
                self._in_str = True
            elif c in "{[":
                self._stack.append(c)
            elif c in "}]" and self._stack:
                closed = self._stack.pop()
                if not self._stack:
                    self._cut = "".join(self.parts)[: self._pos]
                    self.done = True
                    return True
                if closed == "{" and self._stack[-1] == "[":
                    self._items += 1
                    if self.max_items is not None and self._items >= self.max_items:
                        closers = "".join("}" if b == "{" else "]" for b in reversed(self._stack))
                        self._cut = "".join(self.parts)[: self._pos] + closers
                        self.done = True
                        return True
        return False

    @property
    def text(self) -> str:
        """The reply as far as it is useful: cut and closed when done early, else all of it."""
        return self._cut if self._cut is not None else "".join(self.parts)


def _complete(generator, messages: list[dict], max_new_tokens: int, temperature: float, n_items: int) -> str:
    """Stream a reply and stop at the end of its JSON (see :class:`JsonStreamWatcher`)."""
    stream = getattr(generator, "stream", None)
    if stream is None:
        return generator.generate(messages, max_new_tokens=max_new_tokens, temperature=temperature)
    watcher = JsonStreamWatcher(max_items=n_items)
    pieces = stream(messages, max_new_tokens=max_new_tokens, temperature=temperature)
    try:
        for piece in pieces:
            if watcher.feed(piece):
                break
    finally:
        close = getattr(pieces, "close", None)
        if close is not None:
            close()  # stops a local model's generation thread
    return watcher.text


def _ask(generator, chunk: Chunk, cfg: QAConfig, report: QAReport) -> tuple[list[dict], int]:
    """Pairs for one chunk and the number of invalid replies; [] after 1 + max_retries invalid ones."""
    return ask_pairs(generator, qa_messages(chunk, cfg.pairs_per_chunk), cfg, report, chunk.chunk_id)


def ask_pairs(generator, messages: list[dict], cfg: QAConfig, report: QAReport,
              label: str = "") -> tuple[list[dict], int]:
    """Ask ``generator`` for ``cfg.pairs_per_chunk`` pairs with ``messages``, streaming and stopping at
    the end of the JSON (:class:`JsonStreamWatcher`); an invalid reply is asked again up to
    ``cfg.max_retries`` times, each retry :data:`RETRY_TEMPERATURE_STEP` hotter.

    Returns:
        ``(pairs, n_invalid_replies)``: pairs as :func:`parse_qa_reply` gives them, ``[]`` after
        ``1 + max_retries`` invalid replies. ``report.n_retries`` and ``report.n_tokens`` grow.

    Raises:
        GenerationError: the generator failed (not an invalid reply: a server down...).
    """
    n_bad = 0
    for attempt in range(cfg.max_retries + 1):
        temperature = min(1.0, cfg.temperature + RETRY_TEMPERATURE_STEP * attempt) if attempt else cfg.temperature
        if attempt:
            report.n_retries += 1
        reply = _complete(generator, messages, cfg.max_new_tokens, temperature, cfg.pairs_per_chunk)
        stats = getattr(generator, "last_stats", None)
        if isinstance(stats, dict):
            report.n_tokens += int(stats.get("n_tokens", 0))
        try:
            return parse_qa_reply(reply), n_bad
        except QAParseError as exc:
            n_bad += 1
            logger.info("chunk %s attempt %d: invalid reply (%s)", label, attempt + 1, exc)
    return [], n_bad


def spread_chunks(chunks: list[Chunk], done: set[str], chunking: ChunkingConfig | None, min_tokens: int,
                  max_chunks: int | None) -> set[str] | None:
    """Ids of ``max_chunks`` chunks spread evenly over the document among those not done and
    long enough, or None for all. The first chunks of a document are often its title page and
    table of contents; sampling across it gives questions about its substance."""
    if max_chunks is None:
        return None
    eligible = [c for c in chunks if c.chunk_id not in done and _n_tokens(c, chunking) >= min_tokens]
    if len(eligible) <= max_chunks:
        return {c.chunk_id for c in eligible}
    step = len(eligible) / max_chunks
    return {eligible[int(k * step + step / 2)].chunk_id for k in range(max_chunks)}


def generate_qa(document: Document, generator, workspace, cfg: QAConfig | None = None,
                chunking: ChunkingConfig | None = None, progress: ProgressCallback | None = None,
                max_chunks: int | None = None, chunks: list[Chunk] | None = None,
                on_rechunk: Callable[[Any], None] | None = None) -> QAReport:
    """Generate QA pairs for every chunk of ``document`` not done yet; append them to its QA file.

    Args:
        document: the parsed document (its ``doc_id`` names the files).
        generator: any :class:`oracle.llm.Generator`; its ``name`` is stored on each pair.
        workspace: a :class:`~oracle.config.Workspace` or its root folder.
        cfg: pairs per chunk, retries, token budget, temperature, minimum chunk size.
        chunking: the chunking of the document; its stored chunks are used
            (:func:`oracle.chunking.document_chunks`: made and stored on first use), so the
            pairs' ``chunk_id`` are the ids the index and the training data use. Another config
            than the stored one re-chunks the document (reported to ``on_rechunk``).
        progress: ``progress(done, total, text)`` after each chunk (``done`` counts skipped
            and resumed chunks too; ``total`` = number of chunks).
        max_chunks: generate at most this many chunks in this run (the rest stay for a rerun).
        chunks: use these chunks instead of the document's stored ones.
        on_rechunk: ``on_rechunk(report)`` (:class:`oracle.chunking.RechunkReport`) when the
            document's stored chunks were replaced because ``chunking`` differs.

    Returns:
        A :class:`QAReport`; ``report.pairs`` are the pairs written in this run.

    Raises:
        GenerationError: the generator failed (server down...). Chunks finished before are
            saved; a rerun resumes after them.
    """
    cfg = cfg or QAConfig()
    ws = _workspace(workspace)
    start = time.perf_counter()
    if chunks is None:
        from oracle.chunking import document_chunks

        chunks = document_chunks(ws, document, chunking, on_rechunk)
    doc_id = document.doc_id
    qa_path, done_path = ws.qa_file(doc_id), done_file(ws, doc_id)
    done = done_chunks(ws, doc_id)
    seen = {normalize_question(r.get("question", "")) for r in iter_jsonl(qa_path)}
    report = QAReport(n_chunks=len(chunks))
    total = len(chunks)
    name = getattr(generator, "name", type(generator).__name__)

    def tick(i: int) -> None:
        if progress is not None:
            from oracle.i18n import t

            progress(i, total, t("qa.progress", done=i, total=total, pairs=len(report.pairs)))

    selected = spread_chunks(chunks, done, chunking, cfg.min_chunk_tokens, max_chunks)
    tick(0)
    for i, chunk in enumerate(chunks, start=1):
        if chunk.chunk_id in done:
            report.n_skipped += 1
        elif _n_tokens(chunk, chunking) < cfg.min_chunk_tokens:
            report.n_short += 1
        elif selected is not None and chunk.chunk_id not in selected:
            pass  # left for a later run
        else:
            raw, n_bad = _ask(generator, chunk, cfg, report)
            invalid = 1 if not raw and n_bad else 0
            report.n_invalid += invalid
            kept: list[QAPair] = []
            n_rejected = n_dup = 0
            for item in raw:
                if len(kept) >= cfg.pairs_per_chunk:
                    break
                reason = reject_reason(item["question"], item["answer"], chunk.text)
                if reason:
                    n_rejected += 1
                    logger.debug("chunk %s: dropped pair (%s): %r", chunk.chunk_id, reason, item["question"])
                    continue
                key = normalize_question(item["question"])
                if key in seen:
                    n_dup += 1
                    continue
                seen.add(key)
                kept.append(QAPair(
                    question=item["question"], answer=item["answer"], doc_id=doc_id,
                    doc_name=chunk.doc_name or document.name, chunk_id=chunk.chunk_id, page=chunk.page_start,
                    language=chunk.language if chunk.language not in ("", "und") else document.language,
                    generator=name,
                ))
            append_jsonl(qa_path, kept)  # pairs first, then the done mark: a crash between redoes the chunk
            append_jsonl(done_path, [{
                "chunk_id": chunk.chunk_id, "n_pairs": len(kept), "n_invalid": invalid, "n_bad_replies": n_bad,
                "n_rejected": n_rejected, "n_duplicates": n_dup, "generator": name, "created_at": now_iso(),
            }])
            done.add(chunk.chunk_id)
            report.pairs.extend(kept)
            report.n_done += 1
            report.n_rejected += n_rejected
            report.n_duplicates += n_dup
        tick(i)
    report.seconds = round(time.perf_counter() - start, 3)
    logger.info(
        "%s: %d pairs from %d chunks (%d already done, %d too short, %d invalid, %d rejected, %d duplicates) in %.1f s",
        doc_id, len(report.pairs), report.n_done, report.n_skipped, report.n_short, report.n_invalid,
        report.n_rejected, report.n_duplicates, report.seconds,
    )
    return report
