"""Text generators behind one interface: local transformers (optionally + LoRA), OpenAI-compatible, fake.

Messages are OpenAI-style: ``[{"role": "system"|"user"|"assistant", "content": str}]``.
Every backend offers ``stream(messages)`` (an iterator of text pieces, as they are produced)
and ``generate(messages)`` (the whole reply), and records ``last_stats`` of its last call::

    {"n_tokens": int, "seconds": float, "tokens_per_s": float}

``seconds`` is the wall time of the call, from request to last piece; ``n_tokens`` counts
generated tokens (the prompt is not counted).

Backends:

* :class:`TransformersGenerator` (``"local:<name or folder>"``): a causal LM loaded by
  :func:`oracle.models.load_generator` (bundled model, local folder or hub id), with a peft
  LoRA adapter folder applied when given. Streams with transformers' ``TextIteratorStreamer``
  and a thread running ``model.generate``.
* :class:`LlamaCppGenerator` (``"llamacpp:<name or .gguf>"``, and ``"local:"`` GGUF models without
  an adapter when the optional ``llama-cpp-python`` is installed: :func:`local_engine`): llama.cpp
  on the GGUF weights as they ship, faster than transformers on a CPU (bench/RESULTS.md).
* :class:`OpenAIGenerator` (``"openai:<model>"``): any server speaking the OpenAI chat
  completions API (OpenAI, vLLM, Ollama, llama.cpp server, TGI) through the ``openai``
  package; ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL`` from the environment by default.
* :class:`FakeGenerator`: canned replies, for tests (not registered by default).

:func:`get_generator` builds a backend from a spec string; :func:`register_generator` adds
prefixes. Heavy libraries (torch, transformers, openai) are imported only when used.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, runtime_checkable

from oracle.errors import GenerationError, OracleError

logger = logging.getLogger(__name__)

Messages = list[dict]


@runtime_checkable
class Generator(Protocol):
    """What every backend offers.

    Attributes:
        name: the spec it was built from, shown in data files and the UI, e.g.
            ``"local:qwen2.5-coder-0.5b-instruct"`` or ``"openai:gpt-4o-mini"``.
        adapter: LoRA adapter folder applied on top of the model, or None.
    """

    name: str
    adapter: str | None

    def stream(self, messages: list[dict], max_new_tokens: int = 256, temperature: float = 0.0) -> Iterator[str]:
        """Yield text pieces as they are generated. Raises GenerationError."""
        ...

    def generate(self, messages: list[dict], max_new_tokens: int = 256, temperature: float = 0.0) -> str:
        """The whole reply. Raises GenerationError."""
        ...

    # Optional: ``judge(messages, yes, no) -> float | None``, the probability that the reply to
    # ``messages`` starts with one of the ``yes`` words rather than one of the ``no`` words
    # (local generators; :func:`oracle.rag.answerable_probability` uses it when present), and
    # ``judge_overrules``: whether that judgement may overrule the lexical gates. Generators that
    # judge also take ``stream(..., suppress_start=text)``: the reply may not begin with the first
    # token of ``text`` (the second answer after a refusal the generator judged wrong).


def _stats(n_tokens: int, seconds: float) -> dict[str, float]:
    return {
        "n_tokens": int(n_tokens),
        "seconds": round(float(seconds), 4),
        "tokens_per_s": round(n_tokens / seconds, 3) if seconds > 0 else 0.0,
    }


def _merge_system(messages: Messages) -> Messages:
    """System messages folded into the first user message (for chat templates without a system role)."""
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    rest = [dict(m) for m in messages if m["role"] != "system"]
    for m in rest:
        if m["role"] == "user":
            m["content"] = f"{system}\n\n{m['content']}"
            break
    else:
        rest.insert(0, {"role": "user", "content": system})
    return rest


def _check_messages(messages: Messages, name: str) -> None:
    if not messages or not all(isinstance(m, dict) and "role" in m and "content" in m for m in messages):
        raise GenerationError(name=name, detail="messages must be a non-empty list of {'role', 'content'} dicts")


# --- adapters: which base model they belong to ---------------------------------------

_HUB_SNAPSHOT = re.compile(r"models--([^/\\]+)--([^/\\]+)[/\\]snapshots(?:[/\\]|$)")


def adapter_base_models(adapter) -> list[str]:
    """Every name an adapter folder gives for its base model, most telling first
    (:func:`oracle.models.recorded_base_models`: ``train.json`` ``base_model``, then
    ``base_model_path``, then peft's ``adapter_config.json`` ``base_model_name_or_path``);
    ``[]`` when the folder says nothing (or is missing)."""
    from oracle.models import recorded_base_models

    return recorded_base_models(adapter)


def adapter_base_model(adapter) -> str | None:
    """The base model an adapter folder was trained on: ``train.json``'s ``base_model``, else
    peft's ``adapter_config.json`` ``base_model_name_or_path``; None when neither says."""
    names = adapter_base_models(adapter)
    return names[0] if names else None


def model_identity(name: str) -> str:
    """A canonical key for a generator name, so that two spellings of one model compare equal.

    * a bundled name, any case (``"Qwen2.5-Coder-0.5B-Instruct"``), the folder it converts to
      (``<cache>/models/<name>``, recognised by its ``oracle_model.json`` marker, or by sitting
      in a folder named ``models`` under that name, e.g. the cache of another machine), and its
      upstream hub id (``"Qwen/Qwen2.5-Coder-0.5B-Instruct"``: the bundled weights are that
      model, 4-bit quantized then dequantized) -> ``"bundled:<name>"``;
    * another folder (existing, absolute or ``./``-relative) -> ``"path:<absolute path>"``
      (symbolic links resolved); a hub cache snapshot folder
      (``.../models--org--name/snapshots/<sha>``) -> its hub id;
    * anything else (a hub id) -> ``"hub:<lower-case id>"``.

    A ``local:`` prefix is ignored. Nothing is converted, downloaded or loaded.
    """
    from pathlib import Path

    from oracle import models

    text = str(name or "").strip().removeprefix("local:").strip()
    bundled = {key.lower(): key for key in models.GENERATORS}
    upstream = {spec.upstream.lower(): key for key, spec in models.GENERATORS.items() if spec.upstream}
    low = text.lower()
    if low in bundled:
        return f"bundled:{bundled[low]}"
    path = Path(text).expanduser()
    looks_like_path = path.is_dir() or path.is_absolute() or text.startswith((".", "~"))
    if looks_like_path:
        resolved = path.resolve()
        marker_name = str((models.read_marker(resolved) or {}).get("name", "")).lower()
        if marker_name in bundled:
            return f"bundled:{bundled[marker_name]}"
        if resolved.parent.name == "models" and resolved.name.lower() in bundled:
            return f"bundled:{bundled[resolved.name.lower()]}"
        snap = _HUB_SNAPSHOT.search(str(resolved))
        if snap:
            low = f"{snap.group(1)}/{snap.group(2)}".lower()
        else:
            return f"path:{resolved}"
    if low in upstream:
        return f"bundled:{upstream[low]}"
    return f"hub:{low}"


def same_model(a: str, b: str) -> bool:
    """True when generator names ``a`` and ``b`` designate the same model (:func:`model_identity`)."""
    return model_identity(a) == model_identity(b)


def model_label(name: str) -> str:
    """A short name to show for a generator name: the bundled name for any spelling of a bundled
    model (its cache folder included), the folder name for another folder, else the name as given."""
    identity = model_identity(name)
    kind, _, value = identity.partition(":")
    if kind == "bundled":
        return value
    if kind == "path":
        from pathlib import Path

        return Path(value).name or value
    return str(name or "").strip().removeprefix("local:")


def check_adapter_base(model: str, adapter) -> None:
    """Refuse to put ``adapter`` on ``model`` when the adapter was trained on another base model.

    The adapter's base comes from :func:`adapter_base_models` (``train.json``, else
    ``adapter_config.json``); it matches when any of its names designates the same model as
    ``model`` (:func:`same_model`). An adapter folder that says nothing about its base (or
    does not exist: loading reports that) passes.

    Raises:
        GenerationError: key ``err.adapter_base_mismatch``, naming the adapter, its base model
            and ``model`` (a LoRA adapter only fits the weights it was trained on: on another
            model peft fails on mismatched shapes, or silently produces nonsense).
    """
    if not adapter:
        return
    bases = adapter_base_models(adapter)
    if not bases:
        return
    target = model_identity(model)
    if any(model_identity(base) == target for base in bases):
        return
    from pathlib import Path

    raise GenerationError(
        "err.adapter_base_mismatch",
        name=f"local:{model}",
        adapter=Path(str(adapter)).name or str(adapter),
        base=model_label(bases[0]),
        model=model_label(model),
    )


# --- local transformers -----------------------------------------------------------


class TransformersGenerator:
    """A local causal LM (transformers), optionally with a peft LoRA adapter.

    The model is loaded on first use (or by :meth:`load`) through
    :func:`oracle.models.load_generator`, which caches it per (name, adapter, device, dtype),
    so several generators on the same model share its weights.

    Args:
        model: bundled model name, local folder or hub id (see :func:`oracle.models.resolve_generator`).
        adapter: folder written by peft ``save_pretrained`` (LoRA), or None.
        device: ``"cpu"``, ``"cuda"``...; None lets ``load_generator`` choose.
        dtype: torch dtype; None means :func:`oracle.models.best_dtype`.
        name: display name; default ``"local:<model>"``.

    Decoding is greedy when ``temperature == 0``, else sampling at that temperature. The
    prompt is built with the tokenizer's chat template (``add_generation_prompt=True``);
    a tokenizer without one gets a plain ``role: content`` transcript. Generation stops at
    the model's end-of-sequence tokens or after ``max_new_tokens`` tokens.

    Raises:
        GenerationError: at construction, key ``err.adapter_base_mismatch`` when ``adapter``
            was trained on another base model than ``model`` (:func:`check_adapter_base`);
            later, generation failed (out of memory, bad input...). Model loading errors
            (ModelNotFoundError, ModelIntegrityError) pass through unchanged.
    """

    engine = "transformers"

    def __init__(self, model: str, adapter: str | None = None, device: str | None = None, dtype: Any = None,
                 name: str | None = None) -> None:
        check_adapter_base(model, adapter)
        self.model_name = model
        self.adapter = adapter
        self.device = device
        self.dtype = dtype
        self.name = name or f"local:{model}"
        self.last_stats: dict[str, float] = _stats(0, 0.0)
        self.judge_overrules = _judge_overrules(model, adapter)
        self._model = None
        self._tokenizer = None
        self._load_lock = threading.Lock()
        self._last_cache: tuple[list[int], Any] | None = None  # (token ids, KV cache) of the last stream
        self._cache_lock = threading.Lock()
        self._base: TransformersGenerator | None = None  # the base model, judge for an adapter (base_judge)

    def __repr__(self) -> str:
        return f"TransformersGenerator(name={self.name!r}, adapter={self.adapter!r}, device={self.device!r})"

    def load(self) -> TransformersGenerator:
        """Load model and tokenizer now (otherwise done on the first call); returns self."""
        with self._load_lock:
            if self._model is None:
                from oracle import models

                self._model, self._tokenizer = models.load_generator(
                    self.model_name, self.adapter, self.device, self.dtype
                )
        return self

    def base_judge(self) -> TransformersGenerator:
        """The generator that answers :meth:`judge` for this one: itself without an adapter, or
        with an adapter trained on self-check examples (:func:`adapter_judges_itself`); with any
        other adapter, its base model on the same engine, device and dtype (the weights
        :func:`oracle.models.load_generator` caches for the base model's own chain, so an
        evaluation of base and adapter loads them once). Created on the first call and kept. It
        shares no KV cache with the adapter's answer, so a judged answer costs one more prefill of
        its prompt."""
        if not self.adapter:
            return self
        with self._load_lock:
            if self._base is None:
                self._base = (self if adapter_judges_itself(self.adapter)
                              else TransformersGenerator(self.model_name, None, self.device, self.dtype))
        return self._base

    @property
    def model(self):
        return self.load()._model

    @property
    def tokenizer(self):
        return self.load()._tokenizer

    # prompt ------------------------------------------------------------------------

    def prompt_text(self, messages: Messages) -> str:
        """The prompt string the model sees (chat template with the generation prompt)."""
        tok = self.tokenizer
        if getattr(tok, "chat_template", None):
            try:
                return tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            except Exception:
                if not any(m["role"] == "system" for m in messages):
                    raise
                return tok.apply_chat_template(_merge_system(messages), tokenize=False, add_generation_prompt=True)
        lines = [f"{m['role']}: {m['content']}" for m in messages]
        return "\n".join(lines) + "\nassistant:"

    def _inputs(self, messages: Messages):
        tok = self.tokenizer
        enc = tok(self.prompt_text(messages), return_tensors="pt", add_special_tokens=False)
        device = getattr(self.model, "device", None)
        return {k: v.to(device) for k, v in enc.items()} if device is not None else dict(enc)

    def _gen_kwargs(self, max_new_tokens: int, temperature: float) -> dict[str, Any]:
        tok, model = self.tokenizer, self.model
        eos: list[int] = []
        for value in (getattr(model.generation_config, "eos_token_id", None), tok.eos_token_id):
            if value is None:
                continue
            for v in value if isinstance(value, (list, tuple)) else [value]:
                if v not in eos:
                    eos.append(int(v))
        pad = tok.pad_token_id if tok.pad_token_id is not None else (eos[0] if eos else None)
        kwargs: dict[str, Any] = {"max_new_tokens": int(max_new_tokens), "eos_token_id": eos or None,
                                  "pad_token_id": pad}
        if temperature and temperature > 0:
            kwargs.update(do_sample=True, temperature=float(temperature))
        else:
            # greedy: also neutralise sampling defaults of the model's generation_config
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        return kwargs

    def _error(self, exc: BaseException) -> GenerationError:
        text = f"{type(exc).__name__}: {exc}"
        if "out of memory" in str(exc).lower() or type(exc).__name__ == "OutOfMemoryError":
            return GenerationError("err.gen_oom", name=self.name, detail=text)
        return GenerationError(name=self.name, detail=text)

    # generation --------------------------------------------------------------------

    def stream(self, messages: Messages, max_new_tokens: int = 256, temperature: float = 0.0,
               suppress_start: str | None = None) -> Iterator[str]:
        """Yield decoded text pieces as the model produces them (see the class docstring).

        Closing the iterator early (``break``) stops the generation thread at its next token.
        ``suppress_start``: the reply may not begin with this text's first token (transformers'
        ``begin_suppress_tokens``).
        """
        _check_messages(messages, self.name)
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        model, tok = self.model, self.tokenizer
        try:
            inputs = self._inputs(messages)
            kwargs = self._gen_kwargs(max_new_tokens, temperature)
            if suppress_start:
                kwargs["begin_suppress_tokens"] = tok.encode(suppress_start, add_special_tokens=False)[:1]
        except OracleError:
            raise
        except Exception as exc:
            raise self._error(exc) from exc
        n_prompt = int(inputs["input_ids"].shape[1])
        streamer = TextIteratorStreamer(tok, skip_prompt=True, skip_special_tokens=True)
        cancel = threading.Event()
        result: dict[str, Any] = {}

        class _Cancel(StoppingCriteria):
            def __call__(self, input_ids, scores, **kw):
                return cancel.is_set()

        def run() -> None:
            try:
                with torch.inference_mode():
                    out = model.generate(**inputs, **kwargs, streamer=streamer, return_dict_in_generate=True,
                                         stopping_criteria=StoppingCriteriaList([_Cancel()]))
                result["n_tokens"] = int(out.sequences.shape[1]) - n_prompt
                cache = getattr(out, "past_key_values", None)
                # kept for judge(): the prompt's prefix (of no use where a base model judges an adapter)
                if cache is not None and hasattr(cache, "crop") and self.base_judge() is self:
                    ids = out.sequences[0, : cache.get_seq_length()].tolist()
                    with self._cache_lock:
                        self._last_cache = (ids, cache)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the consumer thread
                result["error"] = exc
                streamer.end()  # unblock the consumer

        start = time.perf_counter()
        thread = threading.Thread(target=run, name=f"generate-{self.name}", daemon=True)
        thread.start()
        try:
            yield from (piece for piece in streamer if piece)
        finally:
            cancel.set()
            thread.join()
            seconds = time.perf_counter() - start
            self.last_stats = _stats(result.get("n_tokens", 0), seconds)
        if "error" in result:
            raise self._error(result["error"]) from result["error"]
        logger.debug("%s: %d tokens in %.2f s", self.name, self.last_stats["n_tokens"], seconds)

    def generate(self, messages: Messages, max_new_tokens: int = 256, temperature: float = 0.0) -> str:
        """The whole reply, decoded once from the generated token ids (no streamer)."""
        _check_messages(messages, self.name)
        import torch

        model, tok = self.model, self.tokenizer
        start = time.perf_counter()
        try:
            inputs = self._inputs(messages)
            n_prompt = int(inputs["input_ids"].shape[1])
            with torch.inference_mode():
                out = model.generate(**inputs, **self._gen_kwargs(max_new_tokens, temperature))
            new = out[0, n_prompt:]
            text = tok.decode(new, skip_special_tokens=True)
        except OracleError:
            raise
        except Exception as exc:
            raise self._error(exc) from exc
        self.last_stats = _stats(int(new.shape[0]), time.perf_counter() - start)
        return text

    def judge(self, messages: Messages, yes: Sequence[str], no: Sequence[str]) -> float:
        """P(yes) / (P(yes) + P(no)) for the first token of the reply to ``messages``: the
        probabilities of the first tokens of the ``yes`` words summed, against the ``no`` words'
        (:func:`_yes_share`), from logits computed in float32 (:func:`_head_logits_fp32`: a model
        that computes in bf16 rounds them to steps that tie the two words). One forward pass, no
        generation. The KV cache of the last
        :meth:`stream` is reused for the token prefix the two prompts share (the answer's prompt
        up to its last line, ~95% of it), so only the rest is computed; it is then dropped.

        With an adapter not trained on self-check examples, the base model judges
        (:meth:`base_judge`): such an adapter is trained on answers, never on this yes/no
        question, and shifts it. The 0.5B with an adapter trained
        on 242 answers written by a person gave the sources of answerable questions P(Sim) p50
        0.46 against the base model's 0.62 and refused 27 of 40 answerable questions of the blind
        held-out set (bench/RESULTS.md, session 28).

        Raises:
            GenerationError: the forward pass failed (out of memory...).
        """
        _check_messages(messages, self.name)
        if self.base_judge() is not self:
            return self.base_judge().judge(messages, yes, no)
        import torch

        model, tok = self.model, self.tokenizer
        with self._cache_lock:
            last, self._last_cache = self._last_cache, None
        try:
            ids = self._inputs(messages)["input_ids"]
            wanted = ids[0].tolist()
            past, start = None, 0
            if last is not None:
                prev, cache = last
                k = 0
                for a, b in zip(prev, wanted[:-1], strict=False):
                    if a != b:
                        break
                    k += 1
                if k > 0:
                    cache.crop(k - cache.get_seq_length())  # keep the first k tokens
                    past, start = cache, k
            head = model.get_output_embeddings()
            seen: list[Any] = []
            hook = head.register_forward_hook(lambda _m, args, _out: seen.append(args[0]))
            try:
                with torch.inference_mode():
                    # the output layer on the last position only: its input is all the judge reads
                    model(input_ids=ids[:, start:], past_key_values=past, use_cache=past is not None,
                          logits_to_keep=1)
            finally:
                hook.remove()
        except OracleError:
            raise
        except Exception as exc:
            raise self._error(exc) from exc

        def encode(word: str) -> list[int]:
            return tok.encode(word, add_special_tokens=False)

        yes_ids, no_ids = _first_ids(encode, yes), _first_ids(encode, no)
        wanted_ids = sorted(set(yes_ids) | set(no_ids))
        logits = _head_logits_fp32(head, seen[-1][0, -1], wanted_ids)  # [len(wanted_ids)]
        where = {tid: i for i, tid in enumerate(wanted_ids)}
        return _yes_share(logits, [where[t] for t in yes_ids], [where[t] for t in no_ids])


# --- local llama.cpp -------------------------------------------------------------------


ENGINES = ("auto", "transformers", "llama.cpp")
"""Values of ``ORACLE_ENGINE``: which engine runs a local GGUF model without an adapter."""

_LLAMA_MODELS: dict[str, Any] = {}  # GGUF path -> llama_cpp.Llama, shared by generators
_LLAMA_LOCKS: dict[str, threading.Lock] = {}  # GGUF path -> one answer at a time per loaded model
_LLAMA_LAST: dict[str, tuple[str, Messages]] = {}  # GGUF path -> ("stream" or "judge", its messages), last call
_LLAMA_FORMATTERS: dict[str, Any] = {}  # GGUF path -> the chat formatter of its template
_LLAMA_LOAD_LOCK = threading.Lock()


def release_llama_models() -> int:
    """Close and forget every llama.cpp model loaded in this process (each after the answer it is
    writing, if any); a generator that needs its model again reloads it. Returns how many were
    released. Used between the stages of "Melhorar o Oráculo", so the teacher's weights (about
    1.1 GB for the bundled 1.5B) do not stay in memory through training."""
    with _LLAMA_LOAD_LOCK:
        released = list(_LLAMA_MODELS.items())
        for path, llm in released:
            with _LLAMA_LOCKS.get(path) or threading.Lock():
                close = getattr(llm, "close", None)
                if callable(close):
                    close()
        _LLAMA_MODELS.clear()
        _LLAMA_LOCKS.clear()
        _LLAMA_LAST.clear()
        _LLAMA_FORMATTERS.clear()
    return len(released)


def llama_cpp_available() -> bool:
    """True when the optional ``llama-cpp-python`` package can be imported (it is not imported)."""
    import importlib.util

    return importlib.util.find_spec("llama_cpp") is not None


def local_engine(model: str, adapter: str | None = None, engine: str | None = None) -> str:
    """The engine that runs local generator ``model``: ``"llama.cpp"`` or ``"transformers"``.

    llama.cpp (:class:`LlamaCppGenerator`) when all of these hold: no LoRA ``adapter`` (peft applies
    adapters to transformers models only); ``model`` is a bundled GGUF generator or a ``.gguf`` file;
    the optional ``llama-cpp-python`` package is installed; and ``engine`` (default
    ``ORACLE_ENGINE``, default ``"auto"``) is ``"llama.cpp"``, or is ``"auto"`` on a CPU without
    AMX (:func:`cpu_has_amx`). Otherwise transformers.

    Measured with ``bench/bench_llama_cpp.py`` on the 1.5B, 2 cores (bench/RESULTS.md): on an AVX2
    CPU llama.cpp gave the first token 1.3-1.7x sooner and decoded 3.4x faster than the transformers
    path; on a Xeon with AMX the transformers path (bf16 prefill on AMX tiles, int8 decoding) gave
    it 1.9-2.2x sooner (4.9 s against 9.0 s for 619 prompt tokens), while llama.cpp, which must run
    there without its AMX buffers (:func:`new_llama`), decoded 2.2-2.5x faster: "auto" follows the
    first token, which the prompt's prefill dominates. On an AMD EPYC with ``avx512_bf16`` and no
    AMX the trade is mixed, so "auto" keeps llama.cpp there: on the dev sample of the gold sets the
    transformers path gave the first token sooner (p50 9.4 s against 11.8 s) and the full answer
    later (p50 15.4 s against 13.1 s, p95 35.3 s against 20.0 s), and it costs a 2-minute conversion
    and ~9 GB of RAM first. Nothing is loaded or converted to decide,
    except that a bundled GGUF name is looked up in the catalogue.

    Raises:
        GenerationError: key ``err.gen_engine``: ``engine`` is not one of :data:`ENGINES`.
    """
    from pathlib import Path

    from oracle import models
    from oracle.models.catalogue import _lookup

    choice = (engine or os.environ.get("ORACLE_ENGINE") or "auto").strip().lower()
    if choice not in ENGINES:
        raise GenerationError("err.gen_engine", value=choice, choices=", ".join(ENGINES))
    if adapter or choice == "transformers" or (choice == "auto" and cpu_has_amx()):
        return "transformers"
    text = str(model or "").strip()
    spec = _lookup(models.GENERATORS, text)  # the catalogue's case-insensitive lookup
    gguf = (spec is not None and spec.kind == "gguf") or (text.lower().endswith(".gguf") and Path(text).expanduser().is_file())
    return "llama.cpp" if gguf and llama_cpp_available() else "transformers"


def cpu_has_amx() -> bool:
    """True when the CPU reports Intel AMX tiles (``amx_tile`` in ``/proc/cpuinfo``)."""
    from oracle.models.device import _cpu_flags

    return "amx_tile" in _cpu_flags()


def new_llama(path: str, n_ctx: int = 8192, n_threads: int | None = None, n_batch: int = 512):
    """A ``llama_cpp.Llama`` for GGUF file ``path`` (context ``n_ctx`` tokens, ``n_threads`` for
    both prefill and decoding, default llama.cpp's choice), quiet (``verbose=False``).

    On a CPU with AMX, llama.cpp's extra weight buffers (the AMX buffer that repacks Q4_K/Q6_K
    weights for tile instructions, and the CPU repack buffer) are turned off
    (``llama_model_params.use_extra_bufts = false``): with them, llama-cpp-python 0.3.36 built
    with ``-march=native`` on a 2-core Xeon with AMX died with a general protection fault in
    ``libggml-cpu.so`` at the first completion (bench/RESULTS.md, session 9). llama-cpp-python's
    ``Llama`` does not take that parameter, so its ``llama_model_default_params`` is swapped for
    the duration of the construction (callers hold :data:`_LLAMA_LOAD_LOCK`).

    Raises:
        ImportError: ``llama-cpp-python`` is not installed.
        ValueError, RuntimeError: llama.cpp could not load the file.
    """
    import llama_cpp.llama as llama_module

    kwargs = dict(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads,
                  n_batch=n_batch, verbose=False)
    if not cpu_has_amx():
        return llama_module.Llama(**kwargs)
    lib = llama_module.llama_cpp
    default_params = lib.llama_model_default_params

    def without_extra_buffers():
        params = default_params()
        params.use_extra_bufts = False
        return params

    lib.llama_model_default_params = without_extra_buffers
    try:
        return llama_module.Llama(**kwargs)
    finally:
        lib.llama_model_default_params = default_params


class LlamaCppGenerator:
    """A GGUF generator run by llama.cpp through the optional ``llama-cpp-python`` package, with the
    weights as quantized in the file (Q4_K_M for the bundled Qwen models: no dequantization, no
    conversion folder, ~1.1 GB of memory for the 1.5B instead of the transformers path's int8 copy).

    Args:
        model: a bundled GGUF generator name (its parts joined once into one cached file by
            :func:`oracle.models.gguf_file`) or the path of a ``.gguf`` file.
        adapter: must be None: LoRA adapters run on :class:`TransformersGenerator`.
        n_ctx: context window in tokens (prompt + answer); default 8,192 (a 4-source RAG prompt is
            ~1,000-1,500 tokens).
        n_threads: CPU threads; default the cores this process may use (llama.cpp's own default is
            half of them).
        name: display name; default ``"local:<model>"`` (the same model as the transformers path,
            so data files and adapters' base checks are unchanged).

    The prompt is the model's own chat template as stored in the GGUF (the template the transformers
    tokenizer converted from the same file carries). Decoding is greedy when ``temperature == 0``
    (top-k 1, no repetition penalty), else sampling at that temperature. One answer at a time runs per
    loaded model (a lock; llama.cpp contexts are not thread-safe). Between questions the KV cache
    keeps only the chat template's opening and the system prompt (:meth:`system_prefix`, 59 tokens of
    the RAG prompt), always computed alone, so an answer does not depend on the question asked
    before it (first token 0.97x that of a reset cache for 4 sources: ``bench/bench_system_prefix.py``,
    bench/RESULTS.md, session 23).

    Raises:
        GenerationError: an adapter was given (``err.gen_adapter_llama_cpp``); the package is missing
            (``err.gen_llama_cpp_missing``); ``model`` has no GGUF file (``err.gen_no_gguf``); the
            prompt does not fit ``n_ctx``; generation failed. Model errors of :func:`oracle.models.gguf_file`
            (ModelNotFoundError, ModelIntegrityError) pass through unchanged.
    """

    engine = "llama.cpp"

    def __init__(self, model: str, adapter: str | None = None, n_ctx: int = 8192, n_threads: int | None = None,
                 name: str | None = None) -> None:
        self.model_name = model
        self.name = name or f"local:{model}"
        if adapter:
            raise GenerationError("err.gen_adapter_llama_cpp", name=self.name)
        self.adapter = None
        self.n_ctx = int(n_ctx)
        if not n_threads:
            n_threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        self.n_threads = int(n_threads or 1)
        self.last_stats: dict[str, float] = _stats(0, 0.0)
        self.judge_overrules = _judge_overrules(model, None)
        self._path: str | None = None

    def __repr__(self) -> str:
        return f"LlamaCppGenerator(name={self.name!r}, n_ctx={self.n_ctx}, n_threads={self.n_threads})"

    def load(self) -> LlamaCppGenerator:
        """Load the GGUF now (otherwise done on the first call); returns self."""
        self._llama()
        return self

    def _llama(self):
        if self._path is None:
            from oracle import models

            path = models.gguf_file(self.model_name)
            if path is None:
                raise GenerationError("err.gen_no_gguf", name=self.name, model=self.model_name)
            self._path = path
        with _LLAMA_LOAD_LOCK:
            llm = _LLAMA_MODELS.get(self._path)
            if llm is None:
                try:
                    llm = new_llama(self._path, n_ctx=self.n_ctx, n_threads=self.n_threads)
                except ImportError as exc:
                    raise GenerationError("err.gen_llama_cpp_missing", name=self.name) from exc
                except Exception as exc:  # noqa: BLE001 - llama.cpp raises ValueError/RuntimeError
                    raise GenerationError(name=self.name, detail=f"{type(exc).__name__}: {exc}") from exc
                _LLAMA_MODELS[self._path] = llm
                _LLAMA_LOCKS[self._path] = threading.Lock()
        return llm

    def stream(self, messages: Messages, max_new_tokens: int = 256, temperature: float = 0.0,
               suppress_start: str | None = None) -> Iterator[str]:
        """Yield text pieces as llama.cpp produces them (one token each). Closing the iterator early
        stops the generation at its next token. ``suppress_start``: the reply may not begin with
        this text's first token (a logits processor gives it -inf at the first step)."""
        _check_messages(messages, self.name)
        llm = self._llama()
        sampling: dict[str, Any] = ({"temperature": float(temperature)} if temperature and temperature > 0
                                    else {"temperature": 0.0, "top_k": 1})
        if suppress_start:
            banned = llm.tokenize(suppress_start.encode("utf-8"), add_bos=False, special=False)[:1]
            sampling["logits_processor"] = [_suppress_first(banned)]
        start = time.perf_counter()
        n_pieces = 0
        with _LLAMA_LOCKS[self._path]:
            # The KV cache keeps the system prompt's prefix only (:meth:`_start`), except after a
            # judge() of the same prompt but for its last line: the same question then always
            # reuses the same prefix.
            self._start(llm, messages, after="judge")
            _LLAMA_LAST[self._path] = ("stream", messages)
            try:
                events = llm.create_chat_completion(messages=messages, max_tokens=int(max_new_tokens),
                                                    stream=True, repeat_penalty=1.0, **sampling)
                try:
                    for event in events:
                        piece = (event["choices"][0].get("delta") or {}).get("content")
                        if piece:
                            n_pieces += 1
                            yield piece
                finally:
                    close = getattr(events, "close", None)
                    if close:
                        close()
            except OracleError:
                raise
            except Exception as exc:  # noqa: BLE001 - closing the iterator (GeneratorExit) passes through
                raise GenerationError(name=self.name, detail=f"{type(exc).__name__}: {exc}") from exc
            finally:
                self.last_stats = _stats(n_pieces, time.perf_counter() - start)

    def generate(self, messages: Messages, max_new_tokens: int = 256, temperature: float = 0.0) -> str:
        """The whole reply (the streamed pieces joined)."""
        return "".join(self.stream(messages, max_new_tokens=max_new_tokens, temperature=temperature))

    def system_prefix(self, messages: Messages) -> list[int]:
        """The token ids of ``messages``' prompt (the GGUF's chat template, as
        ``create_chat_completion`` renders and tokenizes it) up to where the last message's content
        begins: the template's opening, the system prompt and the user turn's header, ~60 tokens for
        the RAG prompt of :func:`oracle.rag.build_messages` on the bundled Qwen models. Empty when
        the prompt's tokens do not start with them (a tokenizer that merges across that boundary),
        and for a GGUF without a chat template."""
        from llama_cpp import llama_chat_format

        llm = self._llama()
        template = llm.metadata.get("tokenizer.chat_template")
        if not template:
            return []
        formatter = _LLAMA_FORMATTERS.get(self._path)
        if formatter is None:
            eos, bos = llm.token_eos(), llm.token_bos()
            formatter = llama_chat_format.Jinja2ChatFormatter(
                template=template,
                eos_token=llm._model.token_get_text(eos) if eos != -1 else "",
                bos_token=llm._model.token_get_text(bos) if bos != -1 else "",
                stop_token_ids=[eos])  # as llama_cpp.Llama builds its "chat_template.default" handler
            _LLAMA_FORMATTERS[self._path] = formatter
        marker = "<<oracle: last message>>"
        probe = formatter(messages=[*messages[:-1], {**messages[-1], "content": marker}])
        if marker not in probe.prompt:
            return []
        rendered = formatter(messages=messages)

        def tokens(text: str) -> list[int]:
            return llm.tokenize(text.encode("utf-8"), add_bos=not rendered.added_special, special=True)

        prefix = tokens(probe.prompt.split(marker, 1)[0])
        return prefix if tokens(rendered.prompt)[:len(prefix)] == prefix else []

    def _start(self, llm: Any, messages: Messages, after: str) -> None:
        """Prepare ``llm``'s KV cache for ``messages`` (callers hold the model's lock).

        When the previous call on this model was ``after`` (``"judge"`` for an answer, ``"stream"``
        for a judgement) on the same messages but for the last line, the cache is left as it is:
        ``create_chat_completion`` reuses the longest common token prefix, so only the last line is
        computed again. Otherwise the cache is made to hold exactly :meth:`system_prefix` of
        ``messages`` (kept from the previous prompt when it began the same, else computed alone, as
        one batch), and ``create_chat_completion`` computes the rest. Either way the prefix is always
        computed the same way and the rest from the same position, so a reply does not depend on
        the question asked before it (a prefix reused to whatever length the previous prompt shared
        changed the prefill's batch boundaries, and SmolLM2's greedy answers with them:
        bench/RESULTS.md, session 8). A model without a chat template starts from an empty cache."""
        last = _LLAMA_LAST.get(self._path)
        if last and last[0] == after and _same_but_last_line(last[1], messages):
            return
        prefix = self.system_prefix(messages)
        k = len(prefix)
        if k and llm.n_tokens >= k and list(llm.input_ids[:k]) == prefix:
            llm.n_tokens = k  # create_chat_completion drops the cache past the prefix it shares
            return
        llm.reset()
        if k:
            llm.eval(prefix)

    def judge(self, messages: Messages, yes: Sequence[str], no: Sequence[str]) -> float:
        """P(yes) / (P(yes) + P(no)) for the first token of the reply to ``messages``: the
        probabilities of the first tokens of the ``yes`` words summed, against the ``no`` words'
        (:func:`_yes_share`). One token is evaluated past the prompt. After an answer to the same
        messages but for their last line (the answer just given to the same sources), only that
        line is computed again (llama-cpp-python reuses the longest common token prefix); otherwise
        the prompt is computed after the system prefix (:meth:`_start`). Likewise the next
        :meth:`stream` of the same messages but for their last line (the answer after a
        judgement) reuses this prompt's prefix.

        Raises:
            GenerationError: the prompt does not fit ``n_ctx``, or llama.cpp failed.
        """
        _check_messages(messages, self.name)
        llm = self._llama()
        captured: list[Any] = []

        def capture(input_ids, scores):  # llama-cpp-python's logits processor: the next token's logits
            if not captured:
                captured.append(scores.copy())
            return scores

        with _LLAMA_LOCKS[self._path]:
            self._start(llm, messages, after="stream")
            try:
                llm.create_chat_completion(messages=messages, max_tokens=1, temperature=0.0, top_k=1,
                                           repeat_penalty=1.0, logits_processor=[capture])
            except Exception as exc:  # noqa: BLE001 - llama.cpp raises ValueError/RuntimeError
                raise GenerationError(name=self.name, detail=f"{type(exc).__name__}: {exc}") from exc

            def encode(word: str) -> list[int]:
                return llm.tokenize(word.encode("utf-8"), add_bos=False, special=False)

            yes_ids, no_ids = _first_ids(encode, yes), _first_ids(encode, no)
            _LLAMA_LAST[self._path] = ("judge", messages)
        return _yes_share(captured[0], yes_ids, no_ids)


def _suppress_first(token_ids: Sequence[int]) -> Callable[[Any, Any], Any]:
    """A llama-cpp-python logits processor giving ``token_ids`` -inf at the first generated step
    only (the processor is called once per step, with the ``[vocab]`` logits of the next token)."""
    import numpy as np

    steps = [0]

    def process(input_ids, scores):
        if steps[0] == 0 and token_ids:
            scores[list(token_ids)] = -np.inf
        steps[0] += 1
        return scores

    return process


def _same_but_last_line(a: Messages | None, b: Messages) -> bool:
    """Whether messages ``a`` and ``b`` are the same but for the last line of the last message."""
    if not a or len(a) != len(b) or a[:-1] != b[:-1]:
        return False
    return a[-1].get("role") == b[-1].get("role") and (
        str(a[-1].get("content", "")).rsplit("\n", 1)[0] == str(b[-1].get("content", "")).rsplit("\n", 1)[0])


def adapter_judges_itself(adapter: str) -> bool:
    """Whether the LoRA adapter in folder ``adapter`` was trained on self-check examples
    (``self_check`` > 0 in its run card's hyper-parameters, :func:`oracle.training.data.self_check_examples`),
    so that it answers the chat's "do the sources hold the answer?" itself. False for an adapter
    without a readable card (trained elsewhere, or before the option existed)."""
    from oracle.training.card import RunCard

    card = RunCard.load(adapter, missing_ok=True)
    return bool(card and float((card.hyperparameters or {}).get("self_check") or 0.0) > 0.0)


def _judge_overrules(model: str, adapter: str | None) -> bool:
    """:attr:`oracle.models.catalogue.BundledModel.judge_overrules` of a bundled generator without an
    adapter; False for anything else."""
    if adapter:
        return False
    from oracle.models.catalogue import GENERATORS

    bundled = GENERATORS.get(model)
    return bool(bundled and bundled.judge_overrules)


def _first_ids(encode: Callable[[str], list[int]], words: Sequence[str]) -> list[int]:
    """The first token id of each of ``words`` (``encode``: a word -> its token ids), deduplicated."""
    return sorted({ids[0] for ids in map(encode, words) if ids})


def _head_logits_fp32(head: Any, hidden: Any, token_ids: Sequence[int]) -> Any:
    """The logits of ``token_ids`` for one position, computed in float32: ``hidden`` (``[dim]``, the
    output layer's input, any dtype) times those rows of ``head`` (a ``torch.nn.Linear`` or
    :mod:`oracle.models.quant`'s int8 linear, its rows dequantized), plus their bias.

    Returns:
        ``[len(token_ids)]`` float32 tensor. A model computing in bf16 gives logits rounded to 8
        significant bits: at the judge's logits (~20) a step of 0.125, so P(Sim) / (P(Sim) + P(Não))
        moves in steps of ~3 points around 0.5 and ties at 0.5 (bench/RESULTS.md, session 33).
    """
    import torch

    rows = torch.as_tensor(list(token_ids), dtype=torch.long)
    with torch.inference_mode():
        if hasattr(head, "dequantized"):  # oracle.models.quant's Int8WeightOnlyLinear
            weight = head.dequantized(rows)
        else:
            weight = head.weight[rows].float()
        logits = weight @ hidden.float()
        bias = getattr(head, "bias", None)
        return logits if bias is None else logits + bias[rows].float()


def _yes_share(logits: Any, yes_ids: Sequence[int], no_ids: Sequence[int]) -> float:
    """Softmax of ``logits`` (``[vocab]``, a numpy array or torch tensor), then
    sum(p[yes_ids]) / (sum(p[yes_ids]) + sum(p[no_ids])); 0.5 when both are 0 (ids shared by
    both lists count for neither)."""
    import numpy as np

    if not isinstance(logits, np.ndarray):  # a torch tensor
        logits = logits.float().cpu().numpy()
    values = np.asarray(logits, dtype=np.float64).reshape(-1)
    probs = np.exp(values - values.max())
    probs /= probs.sum()
    both = set(yes_ids) & set(no_ids)
    p_yes = float(sum(probs[i] for i in set(yes_ids) - both))
    p_no = float(sum(probs[i] for i in set(no_ids) - both))
    return p_yes / (p_yes + p_no) if p_yes + p_no > 0 else 0.5


# --- OpenAI-compatible --------------------------------------------------------------


class OpenAIGenerator:
    """Any OpenAI-compatible chat completions server, through the ``openai`` package.

    Args:
        model: model name on the server (``"gpt-4o-mini"``, ``"qwen2.5:0.5b"`` on Ollama...).
        base_url: server URL ending in ``/v1``; default ``OPENAI_BASE_URL``, else OpenAI's.
        api_key: default ``OPENAI_API_KEY``. A local server (``base_url`` given) may need
            none: a placeholder is sent. The key is handed to the client only: it is not an
            attribute of this object, never logged, and ``repr`` does not show it.
        timeout_s: seconds before one HTTP request gives up.
        max_retries: the client's own retries (with backoff) on connection errors, 408,
            409, 429 and 5xx answers.
        name: display name; default ``"openai:<model>"``.

    ``n_tokens`` in ``last_stats`` is the server's ``usage.completion_tokens`` when it sends
    usage in the stream, else the number of streamed content pieces (one token each on
    OpenAI, vLLM and llama.cpp).

    Raises:
        GenerationError: no key for OpenAI's own server, bad key, unreachable server,
            unknown model, rate limit, or any other API error (message says what to do).
    """

    adapter = None

    def __init__(self, model: str, base_url: str | None = None, api_key: str | None = None,
                 timeout_s: float = 60.0, max_retries: int = 2, name: str | None = None) -> None:
        import openai

        self.model_name = model
        self.name = name or f"openai:{model}"
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        self.timeout_s = float(timeout_s)
        self.max_retries = int(max_retries)
        self.adapter = None
        self.last_stats: dict[str, float] = _stats(0, 0.0)
        key = api_key or os.environ.get("OPENAI_API_KEY")
        if not key:
            if self.base_url is None:
                raise GenerationError("err.gen_no_key", name=self.name)
            key = "not-needed"  # local servers (vLLM, Ollama, llama.cpp) accept any key
        self._secret = _Secret(key)
        self._client = openai.OpenAI(api_key=key, base_url=self.base_url, timeout=self.timeout_s,
                                     max_retries=self.max_retries)

    def __repr__(self) -> str:
        return f"OpenAIGenerator(name={self.name!r}, base_url={self.base_url!r}, api_key=***)"

    def _error(self, exc: BaseException) -> GenerationError:
        import openai

        detail = self._secret.redact(f"{type(exc).__name__}: {exc}")
        url = self.base_url or "https://api.openai.com/v1"
        if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
            return GenerationError("err.gen_auth", name=self.name, detail=detail)
        if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
            return GenerationError("err.gen_connection", name=self.name, url=url, detail=detail)
        if isinstance(exc, openai.NotFoundError):
            return GenerationError("err.gen_model_missing", name=self.name, model=self.model_name, url=url,
                                   detail=detail)
        if isinstance(exc, openai.RateLimitError):
            return GenerationError("err.gen_rate_limit", name=self.name, detail=detail)
        return GenerationError(name=self.name, detail=detail)

    def stream(self, messages: Messages, max_new_tokens: int = 256, temperature: float = 0.0) -> Iterator[str]:
        """Yield content pieces of a streamed chat completion (``stream=True``)."""
        _check_messages(messages, self.name)
        import openai

        start = time.perf_counter()
        n_pieces, usage_tokens = 0, None
        try:
            response = self._client.chat.completions.create(
                model=self.model_name, messages=messages, max_tokens=int(max_new_tokens),
                temperature=float(temperature), stream=True,
            )
            try:
                for event in response:
                    usage = getattr(event, "usage", None)
                    if usage is not None and getattr(usage, "completion_tokens", None):
                        usage_tokens = int(usage.completion_tokens)
                    for choice in event.choices or []:
                        piece = getattr(choice.delta, "content", None) if choice.delta else None
                        if piece:
                            n_pieces += 1
                            yield piece
            finally:
                close = getattr(response, "close", None)
                if close:
                    close()
        except openai.OpenAIError as exc:
            raise self._error(exc) from None
        finally:
            self.last_stats = _stats(usage_tokens or n_pieces, time.perf_counter() - start)

    def generate(self, messages: Messages, max_new_tokens: int = 256, temperature: float = 0.0) -> str:
        """The whole reply (the streamed pieces joined)."""
        return "".join(self.stream(messages, max_new_tokens=max_new_tokens, temperature=temperature))


class _Secret:
    """Holds a secret; ``repr``/``str`` never show it; :meth:`redact` masks it in a text."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def __repr__(self) -> str:
        return "***"

    __str__ = __repr__

    def redact(self, text: str) -> str:
        return text.replace(self._value, "***") if self._value else text


# --- fake (tests) ------------------------------------------------------------------


class FakeGenerator:
    """Canned replies for tests: ``FakeGenerator(replies=[...])`` or ``FakeGenerator(fn=lambda messages: str)``.

    ``replies`` are used in order, one per call; a call after the last raises
    GenerationError. ``fn(messages)`` is called otherwise (it may raise). Replies stream
    word by word (each piece is a word with its trailing whitespace, so the pieces join to
    the reply). Every call is recorded: ``calls`` (the messages) and ``call_kwargs``
    (``{"max_new_tokens", "temperature", "suppress_start"}``; the canned reply does not depend on
    them). :meth:`judge` answers with ``judge_fn(messages)``, or
    None without one (as an API generator without token probabilities); ``judge_overrules`` as on
    the real generators (:attr:`oracle.models.catalogue.BundledModel.judge_overrules`).
    """

    def __init__(self, replies: list[str] | None = None, fn: Callable[[Messages], str] | None = None,
                 name: str = "fake", adapter: str | None = None,
                 judge_fn: Callable[[Messages], float | None] | None = None,
                 judge_overrules: bool = True) -> None:
        if replies is None and fn is None:
            raise ValueError("FakeGenerator needs `replies` or `fn`.")
        self._judge_fn = judge_fn
        self.judge_calls: list[Messages] = []
        self.judge_overrules = judge_overrules
        self._replies = list(replies) if replies is not None else None
        self._fn = fn
        self.name = name
        self.adapter = adapter
        self.calls: list[Messages] = []
        self.call_kwargs: list[dict[str, Any]] = []
        self.last_stats: dict[str, float] = _stats(0, 0.0)

    def __repr__(self) -> str:
        return f"FakeGenerator(name={self.name!r}, calls={len(self.calls)})"

    def _reply(self, messages: Messages) -> str:
        if self._replies is not None:
            if not self._replies:
                raise GenerationError(name=self.name, detail="no canned reply left")
            return self._replies.pop(0)
        return self._fn(messages)  # type: ignore[misc]

    def stream(self, messages: Messages, max_new_tokens: int = 256, temperature: float = 0.0,
               suppress_start: str | None = None) -> Iterator[str]:
        _check_messages(messages, self.name)
        self.calls.append(messages)
        self.call_kwargs.append({"max_new_tokens": max_new_tokens, "temperature": temperature,
                                 "suppress_start": suppress_start})
        start = time.perf_counter()
        text = self._reply(messages)
        pieces = re.findall(r"\s*\S+\s*|\s+", text) if text else []
        yield from pieces
        self.last_stats = _stats(len(pieces), time.perf_counter() - start)

    def generate(self, messages: Messages, max_new_tokens: int = 256, temperature: float = 0.0) -> str:
        return "".join(self.stream(messages, max_new_tokens=max_new_tokens, temperature=temperature))

    def judge(self, messages: Messages, yes: Sequence[str], no: Sequence[str]) -> float | None:
        """``judge_fn(messages)`` when one was given (recorded in ``judge_calls``), else None (a
        generator that gives no token probabilities)."""
        if self._judge_fn is None:
            return None
        self.judge_calls.append(messages)
        return self._judge_fn(messages)


# --- registry ----------------------------------------------------------------------


def _local_factory(model: str, adapter: str | None = None, engine: str | None = None,
                   **kw: Any) -> TransformersGenerator | LlamaCppGenerator:
    """``local:`` generators: llama.cpp or transformers, as :func:`local_engine` decides."""
    if local_engine(model, adapter, engine) == "llama.cpp":
        return LlamaCppGenerator(model, name=kw.get("name"))
    return TransformersGenerator(model, adapter=adapter, **kw)


def _llama_cpp_factory(model: str, adapter: str | None = None, **kw: Any) -> LlamaCppGenerator:
    return LlamaCppGenerator(model, adapter=adapter, **kw)


def _openai_factory(model: str, adapter: str | None = None, **kw: Any) -> OpenAIGenerator:
    if adapter:
        raise GenerationError("err.gen_adapter_remote", name=f"openai:{model}")
    return OpenAIGenerator(model, **kw)


_FACTORIES: dict[str, Callable[..., Any]] = {"local": _local_factory, "openai": _openai_factory,
                                              "llamacpp": _llama_cpp_factory}


def register_generator(prefix: str, factory: Callable[..., Any]) -> None:
    """Make ``get_generator("<prefix>:<model>")`` call ``factory(model, adapter, **kw) -> Generator``.

    Replaces an earlier factory of the same prefix. The built generator's ``name`` is set
    to the full spec when the factory accepts a ``name`` keyword or leaves ``name`` unset.
    """
    if not prefix or ":" in prefix:
        raise ValueError(f"`prefix` must be a non-empty string without ':', got {prefix!r}.")
    _FACTORIES[prefix] = factory


def registered_prefixes() -> list[str]:
    """The prefixes :func:`get_generator` understands, e.g. ``["local", "openai"]``."""
    return sorted(_FACTORIES)


def split_spec(spec: str) -> tuple[str, str]:
    """``"openai:gpt-4o"`` -> ``("openai", "gpt-4o")``; a bare name or a path -> ``("local", spec)``."""
    prefix, sep, rest = spec.partition(":")
    if sep and prefix in _FACTORIES and rest:
        return prefix, rest
    return "local", spec


def get_generator(spec: str, adapter: str | None = None, **kw: Any) -> Generator:
    """Build the generator named by ``spec``.

    ``"local:<name or path>"`` (:class:`TransformersGenerator`, or :class:`LlamaCppGenerator` as
    :func:`local_engine` decides: keyword ``engine`` or ``ORACLE_ENGINE``), ``"llamacpp:<name or
    .gguf>"`` (:class:`LlamaCppGenerator`), ``"openai:<model>"``
    (:class:`OpenAIGenerator`; ``base_url``/``api_key`` in ``kw`` or ``OPENAI_BASE_URL``/
    ``OPENAI_API_KEY``), or any prefix added with :func:`register_generator`. A bare name
    (or a path, or an unknown prefix such as a Windows drive letter) means ``"local:"``.
    Extra keywords go to the backend. The result's ``name`` is the full spec, with the
    ``local:`` prefix added to a bare name. Local models load lazily (on the first call).

    Raises:
        GenerationError: empty spec; a backend's own errors (e.g. OpenAI without a key).
    """
    if not spec or not spec.strip():
        raise GenerationError("err.gen_no_name", name=str(spec))
    spec = spec.strip()
    prefix, model = split_spec(spec)
    full = f"{prefix}:{model}"
    generator = _FACTORIES[prefix](model, adapter, **kw)
    try:
        generator.name = full
    except AttributeError:  # a read-only name: keep the factory's
        pass
    return generator
