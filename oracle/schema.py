"""Plain data passed between stages, and the JSON/JSONL files that store it.

Every record is a dataclass with ``to_dict()`` / ``from_dict()``; files are JSON or JSONL
(one object per line, UTF-8), loadable with ``datasets.load_dataset("json", ...)``. Never
pickle. Writes are atomic (temp file, fsync, rename: :func:`write_json_atomic`,
:func:`write_jsonl_atomic`); appends hold a file lock (``filelock``) and write each record
as one ``write`` of a whole line, so concurrent writers never lose or interleave lines.

Offsets are in characters of ``Document.text``; pages are numbered from 1.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import tempfile
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, TypeVar

T = TypeVar("T")

PAGE_SEPARATOR = "\n\n"


def now_iso(timespec: str = "seconds") -> str:
    """Current UTC time as ISO 8601, e.g. ``2026-11-21T19:52:31+00:00`` (``timespec`` as in
    :meth:`datetime.isoformat`: ``"seconds"``, or ``"microseconds"`` where the order of two
    records made within one second matters)."""
    return datetime.now(timezone.utc).isoformat(timespec=timespec)


def new_id() -> str:
    """A random 32-hex-character id (uuid4)."""
    return uuid.uuid4().hex


class Record:
    """Mixin: dict round-trip for nested dataclasses; unknown keys are ignored on load."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls: type[T], data: dict[str, Any]) -> T:
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        kwargs = {k: v for k, v in data.items() if k in names}
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            nested = _NESTED.get((cls.__name__, f.name))
            if nested and f.name in kwargs and kwargs[f.name] is not None:
                value = kwargs[f.name]
                if isinstance(value, list):
                    kwargs[f.name] = [nested.from_dict(v) if isinstance(v, dict) else v for v in value]
                elif isinstance(value, dict):
                    kwargs[f.name] = nested.from_dict(value)
        return cls(**kwargs)


@dataclass
class Page(Record):
    """One page of a document.

    Attributes:
        number: the page's index in the file, from 1 (page n of a PDF is its n-th page, even
            when cleaning left it empty); a .txt file is page 1.
        text: the page's text ('' for a page with nothing to index: blank, or only a table
            of contents or running headers).
        start: offset of ``text`` in Document.text, in characters.
        label: the page number printed on the page (``"7"``, ``"vii"``), from the PDF's own
            /PageLabels or else from a removed header/footer line; None when unknown (always
            for .txt, and for documents saved before labels existed). It may equal
            ``str(number)``; show it next to ``number`` only when it differs.
    """

    number: int
    text: str
    start: int = 0
    label: str | None = None



#: Unicode categories that become a space in display names: controls (newline, tab, NUL,
#: ESC...), line and paragraph separators.
_NAME_SPACE_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})
#: Unicode categories removed from display names: format characters (U+202E and the other
#: bidirectional overrides, zero-width characters, BOM) and surrogates (undecodable bytes of
#: an OS file name).
_NAME_DROP_CATEGORIES = frozenset({"Cf", "Cs"})


def _name_char(ch: str) -> str:
    category = unicodedata.category(ch)
    if category in _NAME_SPACE_CATEGORIES:
        return " "
    return "" if category in _NAME_DROP_CATEGORIES else ch


def clean_name(name: str) -> str:
    """The name shown and cited for a file: its last path part, NFC, without control or
    format characters (controls become a space, format characters go; runs of whitespace
    collapse to one space), at most 255 characters (issue 11, F5: a name cannot forge an
    output line). Applied at ingest and again when a Document or Chunk is read, so names stored
    by older versions are shown clean too.

    ``"a\\nb\\u202Efdp.exe"`` -> ``"a bfdp.exe"``; an empty result is ``"file"``.
    """
    base = unicodedata.normalize("NFC", re.split(r"[\\/]", name)[-1])
    base = "".join(_name_char(ch) for ch in base)
    base = re.sub(r"\s+", " ", base).strip()[:255].strip()
    return base or "file"


def _clean_stored_name(name: str) -> str:
    """``name`` as :func:`clean_name` gives it; empty names and names already clean (the usual
    case: a cheap check) are returned as they are."""
    if not name or (name.isprintable() and "/" not in name and "\\" not in name and "  " not in name
                    and name == name.strip() and len(name) <= 255 and unicodedata.is_normalized("NFC", name)):
        return name
    return clean_name(name)


@dataclass
class Document(Record):
    """A parsed source file.

    Attributes:
        doc_id: stable id, ``<sanitised-stem>-<first 8 hex of sha256>``; same file, same id.
        name: original file name (for display and citations).
        path: where the original is stored in the workspace ('' if not stored).
        sha256: hex digest of the file's bytes.
        pages: pages in order; a .txt file is one page.
        language: ISO 639-1 code detected on the text (``"pt"``, ``"en"``...).
        encoding: detected text encoding for .txt (``"utf-8"``, ``"latin-1"``...), None for PDF.
        kind: ``"pdf"`` or ``"txt"``.
    """

    doc_id: str
    name: str
    sha256: str
    pages: list[Page]
    language: str = "und"
    encoding: str | None = None
    kind: str = "txt"
    path: str = ""
    created_at: str = field(default_factory=now_iso)

    def __post_init__(self) -> None:
        self.name = _clean_stored_name(self.name)  # a name stored by a version before F5

    @property
    def text(self) -> str:
        """Pages joined by :data:`PAGE_SEPARATOR`; ``Page.start`` indexes into this."""
        return PAGE_SEPARATOR.join(p.text for p in self.pages)

    @property
    def n_chars(self) -> int:
        return sum(len(p.text) for p in self.pages) + len(PAGE_SEPARATOR) * max(0, len(self.pages) - 1)

    def page_at(self, offset: int) -> int:
        """Page number containing character ``offset`` of :attr:`text`."""
        number = self.pages[0].number if self.pages else 1
        for page in self.pages:
            if page.start <= offset:
                number = page.number
            else:
                break
        return number


@dataclass
class Chunk(Record):
    """A piece of a document that is embedded, retrieved and cited.

    Attributes:
        chunk_id: stable id ``<doc_id>:<char_start>:<8 hex of sha1(text)>``.
        text: the chunk's text (characters of Document.text[char_start:char_end]).
        page_start, page_end: first and last page the chunk spans (from 1).
        char_start, char_end: character offsets in Document.text, end exclusive.
        n_tokens: length in tokens of the chunking tokenizer (tiktoken).
        language: ISO 639-1 code of the document.
        page_label: printed page label of ``page_start`` (``Page.label``), None when unknown
            (or for chunks saved before labels existed).
    """

    chunk_id: str
    doc_id: str
    doc_name: str
    text: str
    page_start: int
    page_end: int
    char_start: int
    char_end: int
    n_tokens: int = 0
    language: str = "und"
    page_label: str | None = None

    def __post_init__(self) -> None:
        self.doc_name = _clean_stored_name(self.doc_name)  # a name stored by a version before F5

    @property
    def pages_label(self) -> str:
        """``"3"`` or ``"3-4"``."""
        if self.page_end == self.page_start:
            return str(self.page_start)
        return f"{self.page_start}-{self.page_end}"


@dataclass
class QAPair(Record):
    """A generated (or edited) question/answer pair grounded in one chunk.

    ``status`` is ``"generated"``, ``"approved"`` or ``"rejected"`` (set in review).
    """

    question: str
    answer: str
    doc_id: str
    doc_name: str
    chunk_id: str
    page: int
    language: str
    generator: str
    qa_id: str = field(default_factory=new_id)
    status: str = "generated"
    created_at: str = field(default_factory=now_iso)


@dataclass
class Hit(Record):
    """A retrieved chunk: ``score`` (cosine similarity for the dense retriever, higher is better), ``rank`` from 1."""

    chunk: Chunk
    score: float
    rank: int


@dataclass
class Retrieved(Record):
    """Yielded once by :func:`oracle.rag.stream_answer` when retrieval is done and the generator is
    about to read the sources: ``hits`` in prompt order (``[n]`` is ``hits[n - 1]``). The answer's
    first piece comes only after the prompt's prefill (about 10 s for the bundled 1.5B on two CPU
    cores), so a face can say meanwhile which passages are being read."""

    hits: list[Hit]


@dataclass
class Citation(Record):
    """Source ``[n]`` of an answer: document, page and the snippet the answer relies on.

    ``snippet`` is the sentence of the chunk that supports the answer (:func:`oracle.grounding.support_sentence`),
    ``verified`` True when it occurs verbatim in the chunk after folding; ``page_label`` the page's
    printed label when the PDF prints one (``page`` is the PDF page index, from 1)."""

    n: int
    doc_id: str
    doc_name: str
    page: int
    snippet: str
    chunk_id: str
    score: float = 0.0
    page_label: str | None = None
    verified: bool = False


@dataclass
class Answer(Record):
    """A RAG answer.

    Attributes:
        text: the answer, with ``[n]`` markers pointing into ``citations``.
        citations: the sources cited in ``text`` (numbered as in the prompt).
        sources: every source given to the model, cited or not.
        grounded: False when nothing relevant was retrieved and the answer says so.
        elapsed_s: wall time from question to last token, seconds.
        verdict: what the answer guards did (:func:`oracle.rag.stream_answer`): ``""`` (the
            model's answer as is), ``"retried"`` (it echoed the question; the retry is shown),
            ``"quoted"`` (the retry echoed too; the supporting sentence is shown), ``"off_topic"``
            (the relevance gate), ``"not_found"`` (the model said so), ``"unsupported"`` (the
            answer named numbers or names found in no source; it was replaced by "not found"),
            ``"no_figure"`` (the question asks for a figure and the answer gave none),
            ``"no_email"`` (the question asks for an e-mail address and the answer gave none),
            ``"unanswerable"`` (the generator itself judged that the sources do not hold the
            answer: ``p_answerable`` under ``RAGConfig.min_answerable``), ``"reconsidered"`` (the
            generator said "not found", then judged that the sources hold the answer and answered
            again; the second answer is shown).
        unsupported: with ``verdict == "unsupported"``, those numbers and names.
        draft: with ``verdict`` ``"unsupported"``, ``"quoted"``, ``"off_topic"`` or
            ``"unanswerable"``, the model's own answer; with ``"reconsidered"``, its first reply.
        p_answerable: the generator's probability, in [0, 1], that the sources hold the answer
            (:func:`oracle.rag.answerable_probability`); None when it was not asked.
    """

    question: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    sources: list[Citation] = field(default_factory=list)
    model: str = ""
    adapter: str | None = None
    index: str = ""
    grounded: bool = True
    language: str = "pt"
    elapsed_s: float = 0.0
    verdict: str = ""
    unsupported: list[str] = field(default_factory=list)
    draft: str = ""
    p_answerable: float | None = None
    answer_id: str = field(default_factory=new_id)
    created_at: str = field(default_factory=now_iso)


@dataclass
class Rating(Record):
    """A person's judgement of a stored answer; ``valid`` decides validated.jsonl vs invalid.jsonl.

    The files are append-only: rating an answer again appends a new line, and the latest rating
    of an ``answer_id`` is the one that counts (:func:`oracle.feedback.current_ratings`).

    Attributes:
        question, answer: the question and the model's answer text, as stored.
        valid: True when the person judged the answer correct and well supported.
        citations: the sources the answer cited (``[n]`` markers).
        model, adapter: what answered.
        user: who rated ("anonymous" when unknown).
        corrected_answer: the right answer, when the person wrote one (else None).
        comment: free comment (else None).
        answer_id: id of the answer in ``data_qa/answers.jsonl`` (None on lines written before
            answers were stored: each such line then stands alone).
        retrieved_chunk_ids: every chunk retrieved and given to the model for the answer, in
            rank order, cited or not (``[]`` on lines written before this field existed, and for
            answers where nothing passed the relevance gate).
        rating_id: this rating's own id.
        created_at: ISO 8601 UTC time, with microseconds (older lines: seconds).
    """

    question: str
    answer: str
    valid: bool
    citations: list[Citation] = field(default_factory=list)
    model: str = ""
    adapter: str | None = None
    user: str = "anonymous"
    corrected_answer: str | None = None
    comment: str | None = None
    answer_id: str | None = None
    retrieved_chunk_ids: list[str] = field(default_factory=list)
    rating_id: str = field(default_factory=new_id)
    created_at: str = field(default_factory=lambda: now_iso("microseconds"))

    @property
    def reference_answer(self) -> str:
        """The answer to learn from: the person's correction when given, else the model's answer."""
        return (self.corrected_answer or "").strip() or self.answer


_NESTED: dict[tuple[str, str], type[Record]] = {
    ("Document", "pages"): Page,
    ("Hit", "chunk"): Chunk,
    ("Answer", "citations"): Citation,
    ("Answer", "sources"): Citation,
    ("Rating", "citations"): Citation,
}


# --- files ------------------------------------------------------------------------


def _dumps(obj: Any) -> str:
    if isinstance(obj, Record):
        obj = obj.to_dict()
    return json.dumps(obj, ensure_ascii=False, sort_keys=True)


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: temp file in the same folder, fsync, rename.

    A crash leaves either the old file or the new one, never half a file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` as UTF-8 to ``path`` atomically (see :func:`write_bytes_atomic`)."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: str | os.PathLike, obj: Any) -> None:
    """Write one JSON object (indented, sorted keys) atomically."""
    if isinstance(obj, Record):
        obj = obj.to_dict()
    write_text_atomic(path, json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True) + "\n")


def read_json(path: str | os.PathLike) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write_jsonl_atomic(path: str | os.PathLike, records: Iterable[Any]) -> None:
    """Replace ``path`` with one JSON object per line, atomically (under the file's lock)."""
    text = "".join(_dumps(r) + "\n" for r in records)
    with file_lock(path):
        write_text_atomic(path, text)


def file_lock(path: str | os.PathLike, timeout_s: float = 60.0):
    """A ``filelock.FileLock`` on ``<path>.lock``, shared by every writer of ``path``."""
    from filelock import FileLock

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(str(path) + ".lock", timeout=timeout_s)


def json_safe(value: Any) -> Any:
    """``value`` as plain JSON data: anything ``json`` cannot write (a Path, an exception, a
    numpy number) becomes its ``str``, at any depth. For status files and error parameters."""
    return json.loads(json.dumps(value, default=str))


# --- folders swapped in whole ------------------------------------------------------------

_FOLDER_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.[a-z0-9_]{8}\.(?P<kind>tmp|old)$")
"""The siblings of a folder being replaced: ``.<name>.<8 chars>.tmp`` (the new version being
written) and ``.<name>.<8 chars>.old`` (the version being replaced). Never a folder's own name."""


def leftover_of(entry_name: str) -> str | None:
    """The folder name a sibling ``.<name>.<8 chars>.tmp``/``.old`` belongs to, else None."""
    match = _FOLDER_LEFTOVER.match(entry_name)
    return match["name"] if match else None


def staging_folder(final: str | os.PathLike) -> Path:
    """A new empty sibling ``.<name>.<8 hex>.tmp`` of the folder ``final``: write the new version
    there, then :func:`swap_folder` it in. Hold the folder's :func:`folder_lock` throughout."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = final.parent / f".{final.name}.{uuid.uuid4().hex[:8]}.tmp"
    staging.mkdir()
    return staging


def swap_folder(staging: str | os.PathLike, final: str | os.PathLike, previous: str | os.PathLike | None = None) -> None:
    """Make the complete folder ``staging`` (from :func:`staging_folder`) the folder ``final``.

    Steps: fsync ``staging``; rename the current ``final`` aside (``.<name>.<8 chars>.old``);
    rename ``staging`` to ``final`` (the commit point); fsync the parent; delete the old version,
    or move it to ``previous`` (replacing what was there). Between the two renames ``final`` does
    not exist: :func:`recover_folder` then renames the complete new version in.
    """
    import shutil

    staging, final = Path(staging), Path(final)
    _fsync_path(staging)
    old = None
    if final.exists():
        old = staging.with_name(staging.name[: -len(".tmp")] + ".old")
        os.replace(final, old)
    os.replace(staging, final)  # the commit point
    _fsync_path(final.parent)
    if old is None:
        return
    if previous is not None:
        shutil.rmtree(previous, ignore_errors=True)
        os.replace(old, previous)
    else:
        shutil.rmtree(old, ignore_errors=True)


def folder_leftovers(final: str | os.PathLike) -> list[tuple[Path, str]]:
    """``[(folder, "tmp"|"old")]`` left beside the folder ``final`` by swaps, newest first."""
    final = Path(final)
    if not final.parent.is_dir():
        return []
    found = []
    for entry in final.parent.iterdir():
        match = _FOLDER_LEFTOVER.match(entry.name)
        if match and match["name"] == final.name:
            try:  # a swap under way may rename or delete it meanwhile
                if entry.is_dir():
                    found.append((entry.stat().st_mtime_ns, entry, match["kind"]))
            except OSError:
                continue
    return [(entry, kind) for _, entry, kind in sorted(found, key=lambda e: e[0], reverse=True)]


def recover_folder(final: str | os.PathLike, complete: Callable[[Path], bool]) -> bool:
    """Repair what a killed :func:`swap_folder` (or a killed writer) left beside ``final``.

    When ``final`` is missing or not ``complete`` (the kill fell between the two renames), the
    newest complete leftover (the new version, else the old one) becomes ``final``; every other
    leftover is deleted. Takes the folder's :func:`folder_lock`, only when there are leftovers.

    Args:
        final: the folder.
        complete: ``complete(folder)`` is True when a folder holds a whole version (the file
            written last is there).

    Returns:
        True when ``final`` is complete afterwards.
    """
    import logging
    import shutil

    final = Path(final)
    if not folder_leftovers(final):
        if complete(final):
            return True
        # Incomplete with nothing beside it: no version at all, or a swap that began after the
        # listing (its staging folder written, the current one renamed aside). List again: a swap
        # under way leaves a leftover until ``final`` is whole again.
        if not folder_leftovers(final):
            return complete(final)
    with folder_lock(final):
        leftovers = folder_leftovers(final)
        if not complete(final):
            candidates = [f for f, kind in leftovers if kind == "tmp" and complete(f)]
            candidates += [f for f, kind in leftovers if kind == "old" and complete(f)]
            if candidates:
                if final.exists():
                    shutil.rmtree(final)
                os.replace(candidates[0], final)
                _fsync_path(final.parent)
                logging.getLogger(__name__).warning(
                    "%s: an interrupted save was completed from %s", final, candidates[0].name
                )
        for folder, _ in leftovers:
            if folder.exists():
                shutil.rmtree(folder, ignore_errors=True)
        return complete(final)


def recover_folders(parent: str | os.PathLike, complete: Callable[[Path], bool]) -> None:
    """:func:`recover_folder` for every folder of ``parent`` that has leftovers beside it."""
    parent = Path(parent)
    if parent.is_dir():
        for name in {leftover_of(entry.name) for entry in parent.iterdir()} - {None}:
            recover_folder(parent / name, complete)


def replace_folder(
    final: str | os.PathLike,
    write: Callable[[Path], None],
    previous: str | os.PathLike | None = None,
) -> Path:
    """Write a new version of the folder ``final`` and swap it in whole, under its :func:`folder_lock`.

    ``write(staging)`` fills a new sibling folder (:func:`staging_folder`), writing last the file
    that marks it complete; :func:`swap_folder` then makes it ``final``. A kill at any step
    leaves the old or the new version (:func:`recover_folder`); an exception in ``write``
    deletes the staging folder and is raised again.

    Args:
        final: the folder.
        write: ``write(staging)``, the files of the new version into ``staging``.
        previous: keep the replaced version there instead of deleting it.

    Returns:
        ``final``.
    """
    import shutil

    final = Path(final)
    with folder_lock(final):
        staging = staging_folder(final)
        try:
            write(staging)
        except Exception:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        swap_folder(staging, final, previous)
    return final


def _fsync_path(path: Path) -> None:
    """fsync a file or folder (some file systems refuse it on folders: ignored)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


RESOURCE_LOCK_TIMEOUT_S = 3600.0
"""Seconds :func:`resource_lock` waits for another holder (a long build) before
:class:`~oracle.errors.ResourceBusyError`."""


class _ResourceLock:
    """A ``filelock.FileLock`` used as a context manager whose timeout raises
    :class:`~oracle.errors.ResourceBusyError` (a message a person can act on) instead of
    ``filelock.Timeout``."""

    def __init__(self, lock: Any, name: str, timeout_s: float) -> None:
        self._lock, self._name, self._timeout_s = lock, name, timeout_s

    def __enter__(self) -> _ResourceLock:
        from filelock import Timeout

        from oracle.errors import ResourceBusyError

        try:
            self._lock.acquire(timeout=self._timeout_s)
        except Timeout:
            raise ResourceBusyError(resource=self._name, minutes=max(1, round(self._timeout_s / 60))) from None
        return self

    def __exit__(self, *exc: Any) -> None:
        self._lock.release()


def resource_lock(path: str | os.PathLike, timeout_s: float | None = None) -> _ResourceLock:
    """The one lock of a resource (an index folder, a model folder): ``<path>.lock``, as a
    context manager.

    Exclusive between processes and between threads of one process, and re-entrant within a
    thread (the same ``FileLock`` object per path: a build that holds it can save, and the save
    takes it again). Use it around a whole read-modify-write of the resource (load, change,
    save), so that two writers (a build task and a re-index job) run one after the other.

    Args:
        path: the resource; the lock file is ``<path>.lock`` beside it.
        timeout_s: seconds to wait for another holder; default :data:`RESOURCE_LOCK_TIMEOUT_S`.

    Raises:
        ResourceBusyError: (on entering) another holder kept it ``timeout_s`` seconds.
    """
    from filelock import FileLock

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    timeout_s = RESOURCE_LOCK_TIMEOUT_S if timeout_s is None else float(timeout_s)
    # one object per path (is_singleton): its arguments must never differ; the wait is per acquire
    lock = FileLock(str(path) + ".lock", timeout=RESOURCE_LOCK_TIMEOUT_S, is_singleton=True)
    return _ResourceLock(lock, path.name.lstrip("."), timeout_s)


def folder_lock(folder: str | os.PathLike):
    """The :func:`resource_lock` of a folder that is swapped in whole (an index, a model):
    ``.<name>.lock`` beside it. Held by whoever writes a new version and by :func:`recover_folder`."""
    folder = Path(folder)
    return resource_lock(folder.parent / f".{folder.name}")


def append_jsonl(path: str | os.PathLike, records: Iterable[Any]) -> int:
    """Append records as JSON lines; safe with many concurrent writers (threads or processes).

    All lines are written under the file's lock in one ``os.write`` on an ``O_APPEND``
    descriptor, then fsynced, so no line is lost, torn or interleaved. When the file ends with a
    torn line (a writer killed mid-line, a full disk), a newline is written first, so the new
    records never merge into it (:func:`iter_jsonl` skips the torn line).

    Returns:
        The number of lines appended.
    """
    lines = [_dumps(r) + "\n" for r in records]
    if not lines:
        return 0
    data = "".join(lines).encode("utf-8")
    path = Path(path)
    with file_lock(path):
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                data = b"\n" + data
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
    return len(lines)


def iter_jsonl(path: str | os.PathLike) -> Iterator[dict[str, Any]]:
    """Yield each JSON object of a JSONL file; blank lines and a torn last line are skipped."""
    path = Path(path)
    if not path.exists():
        return
    with path.open("r", encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue


def read_jsonl(path: str | os.PathLike, cls: type[T] | None = None) -> list[Any]:
    """All records of a JSONL file, as ``cls`` instances when given, else dicts."""
    rows = list(iter_jsonl(path))
    if cls is None:
        return rows
    return [cls.from_dict(r) for r in rows]  # type: ignore[attr-defined]


# --- progress -----------------------------------------------------------------------

from typing import Callable  # noqa: E402

ProgressCallback = Callable[[int, int, str], None]
"""``progress(done, total, description)``: long core work reports through this; the UI
turns it into ``gr.Progress``, the command line into a log line. ``total`` may be 0 when
unknown."""


def no_progress(done: int, total: int, description: str = "") -> None:
    """The default progress callback: does nothing."""
