"""llama.cpp as the engine of local GGUF generators (:class:`oracle.llm.LlamaCppGenerator`).

The engine policy and its errors are fast tests with no model; the generator itself runs the bundled
SmolLM2-135M GGUF (slow marker) and is skipped where the optional ``llama-cpp-python`` is not
installed (``bash scripts/install.sh --llama-cpp``; ``--dev`` installs it)."""

from __future__ import annotations

import sys

import pytest
from tiny_embedder import tiny_embedder_dir  # noqa: F401
from test_gold_eval import _reply, gold_file  # noqa: F401

from oracle import llm, models
from oracle.errors import GenerationError
from oracle.gold_eval import EvalRun, evaluate
from oracle.llm import FakeGenerator

SMOL = "smollm2-135m-instruct"
MESSAGES = [{"role": "system", "content": "Answer in one short sentence."},
            {"role": "user", "content": "What is the capital of France?"}]


def test_engine_policy(monkeypatch, tmp_path):
    monkeypatch.delenv("ORACLE_ENGINE", raising=False)
    monkeypatch.setattr(llm, "llama_cpp_available", lambda: True)
    monkeypatch.setattr(llm, "cpu_has_amx", lambda: False)
    assert llm.local_engine("qwen2.5-coder-1.5b-instruct") == "llama.cpp"
    assert llm.local_engine("Qwen2.5-Coder-0.5B-Instruct") == "llama.cpp"  # any case of a bundled name
    assert llm.local_engine("qwen2.5-coder-1.5b-instruct", adapter="adapters/x") == "transformers"  # peft
    assert llm.local_engine("multilingual-e5-small") == "transformers"  # not a generator
    assert llm.local_engine(str(tmp_path)) == "transformers"  # a transformers folder
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    assert llm.local_engine(str(gguf)) == "llama.cpp"
    assert llm.local_engine(SMOL, engine="transformers") == "transformers"
    monkeypatch.setenv("ORACLE_ENGINE", "transformers")
    assert llm.local_engine(SMOL) == "transformers"
    assert llm.local_engine(SMOL, engine="auto") == "llama.cpp"  # the keyword wins over the variable
    monkeypatch.setenv("ORACLE_ENGINE", "vllm")
    with pytest.raises(GenerationError, match="ORACLE_ENGINE=vllm"):
        llm.local_engine(SMOL)
    monkeypatch.delenv("ORACLE_ENGINE")
    monkeypatch.setattr(llm, "cpu_has_amx", lambda: True)  # bf16 prefill on AMX tiles: transformers is sooner
    assert llm.local_engine(SMOL) == "transformers"
    assert llm.local_engine(SMOL, engine="llama.cpp") == "llama.cpp"  # asked for by name
    monkeypatch.setattr(llm, "cpu_has_amx", lambda: False)
    monkeypatch.setattr(llm, "llama_cpp_available", lambda: False)
    assert llm.local_engine(SMOL) == "transformers"


def test_new_llama_turns_extra_buffers_off_on_amx(monkeypatch):
    """llama.cpp's AMX weight buffers crashed the process on a Xeon with AMX: there ``new_llama``
    builds the model with ``use_extra_bufts = False``, elsewhere with llama.cpp's defaults, and
    leaves llama-cpp-python's default-parameters function as it found it."""
    import types

    class Params:
        use_extra_bufts = True

    def default_params():
        return Params()

    lib = types.SimpleNamespace(llama_model_default_params=default_params)
    built = []

    class Llama:  # what llama_cpp.Llama.__init__ does with the parameters
        def __init__(self, **kwargs):
            built.append((kwargs, lib.llama_model_default_params().use_extra_bufts))

    module = types.ModuleType("llama_cpp.llama")
    module.Llama, module.llama_cpp = Llama, lib
    package = types.ModuleType("llama_cpp")
    package.llama = module
    monkeypatch.setitem(sys.modules, "llama_cpp", package)
    monkeypatch.setitem(sys.modules, "llama_cpp.llama", module)
    for amx in (False, True):
        monkeypatch.setattr(llm, "cpu_has_amx", lambda amx=amx: amx)
        llm.new_llama("m.gguf", n_ctx=1024, n_threads=2)
    assert [extra for _, extra in built] == [True, False]
    assert built[1][0] == {"model_path": "m.gguf", "n_ctx": 1024, "n_threads": 2, "n_threads_batch": 2,
                           "n_batch": 512, "verbose": False}
    assert lib.llama_model_default_params is default_params


def test_get_generator_builds_what_the_policy_says(monkeypatch):
    monkeypatch.delenv("ORACLE_ENGINE", raising=False)
    monkeypatch.setattr(llm, "llama_cpp_available", lambda: True)
    monkeypatch.setattr(llm, "cpu_has_amx", lambda: False)
    gen = llm.get_generator(SMOL)  # nothing loads before the first answer
    assert isinstance(gen, llm.LlamaCppGenerator) and gen.engine == "llama.cpp"
    assert gen.name == f"local:{SMOL}"  # the same model to data files and adapter checks
    assert isinstance(llm.get_generator(SMOL, engine="transformers"), llm.TransformersGenerator)
    assert isinstance(llm.get_generator(f"llamacpp:{SMOL}"), llm.LlamaCppGenerator)
    with pytest.raises(GenerationError) as err:
        llm.get_generator(f"llamacpp:{SMOL}", adapter="adapters/x")
    assert err.value.key == "err.gen_adapter_llama_cpp"


def test_missing_package_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # import llama_cpp -> ImportError
    monkeypatch.setattr(models, "gguf_file", lambda name: "/nowhere/model.gguf")
    monkeypatch.setattr(llm, "_LLAMA_MODELS", {})
    gen = llm.LlamaCppGenerator(SMOL)
    with pytest.raises(GenerationError) as err:
        gen.generate(MESSAGES)
    assert err.value.key == "err.gen_llama_cpp_missing"
    assert "install.sh --llama-cpp" in str(err.value) and "ORACLE_ENGINE=transformers" in str(err.value)


def test_an_adapter_run_puts_every_local_run_on_transformers(monkeypatch, tmp_path, gold_file, workspace,  # noqa: F811
                                                             tiny_embedder_dir):  # noqa: F811
    """Base against adapter (the improve gate) must not compare llama.cpp with transformers."""
    built = []

    def fake_get_generator(spec, adapter=None, **kw):
        built.append((spec, adapter, kw.get("engine")))
        return FakeGenerator(fn=_reply, name=spec)

    monkeypatch.setattr(llm, "get_generator", fake_get_generator)
    runs = [EvalRun(label="base", generator="qwen2.5-coder-0.5b-instruct"),
            EvalRun(label="adapter", generator="qwen2.5-coder-0.5b-instruct", adapter=str(tmp_path / "a"))]
    evaluate([gold_file], runs, out_dir=tmp_path / "out", embedder=tiny_embedder_dir, workspace=workspace)
    assert built == [("qwen2.5-coder-0.5b-instruct", None, "transformers"),
                     ("qwen2.5-coder-0.5b-instruct", str(tmp_path / "a"), "transformers")]
    built.clear()
    evaluate([gold_file], runs[:1], out_dir=tmp_path / "out2", embedder=tiny_embedder_dir, workspace=workspace)
    assert built == [("qwen2.5-coder-0.5b-instruct", None, None)]  # alone: chat's engine


@pytest.mark.slow
def test_smollm2_on_llama_cpp_streams_greedy_and_repeatable():
    pytest.importorskip("llama_cpp")
    path = models.gguf_file(SMOL)
    assert path.endswith(".gguf")
    gen = llm.LlamaCppGenerator(SMOL)
    pieces = list(gen.stream(MESSAGES, max_new_tokens=12))
    assert "Paris" in "".join(pieces), pieces
    assert gen.last_stats["n_tokens"] == len(pieces) and 0 < len(pieces) <= 12
    # the same question twice: the same greedy answer (no KV prefix carried between answers)
    assert gen.generate(MESSAGES, max_new_tokens=12) == "".join(pieces)
    stream = gen.stream(MESSAGES, max_new_tokens=64)
    first = next(stream)
    stream.close()  # stops at the next token and frees the model for the next answer
    assert first and gen.last_stats["n_tokens"] == 1
    assert gen.generate(MESSAGES, max_new_tokens=12) == "".join(pieces)


def _spy_evals(llama) -> list[tuple[int, int]]:
    """Record ``(position, n_tokens)`` of each ``llama.eval`` (one per prompt piece or decoded token)."""
    calls: list[tuple[int, int]] = []
    evaluate_tokens = llama.eval
    llama.eval = lambda tokens: (calls.append((llama.n_tokens, len(tokens))), evaluate_tokens(tokens))[1]
    return calls


@pytest.mark.slow
def test_smollm2_judge_then_answer_reuses_the_prompt_prefix():
    """judge() reads one token past the prompt; the answer to the same messages but for the last
    line then keeps the judged prefix; any other answer keeps only the system prompt's prefix."""
    pytest.importorskip("llama_cpp")
    gen = llm.LlamaCppGenerator(SMOL)
    judged = [MESSAGES[0], {"role": "user", "content": MESSAGES[1]["content"] + "\nAnswer only Yes or No."}]
    llama = gen._llama()
    k = len(gen.system_prefix(MESSAGES))
    calls = _spy_evals(llama)
    try:
        p_yes = gen.judge(judged, ["Yes"], ["No"])
        assert 0.0 < p_yes < 1.0
        calls.clear()
        assert "Paris" in gen.generate(MESSAGES, max_new_tokens=12)
        assert calls[0][0] > k  # the judged prompt kept, up to its last line
        calls.clear()
        assert "Paris" in gen.generate(MESSAGES, max_new_tokens=12)
        assert calls[0][0] == k  # a plain answer after an answer: the system prefix only
        gen.judge(judged, ["Yes"], ["No"])
        calls.clear()
        other = [MESSAGES[0], {"role": "user", "content": "What is the capital of Italy?"}]
        assert gen.generate(other, max_new_tokens=12)
        assert calls[0][0] == k  # another question: the system prefix only
    finally:
        del llama.eval
    assert p_yes == pytest.approx(gen.judge(judged, ["Yes"], ["No"]), abs=1e-3)
    # the answer after a refusal judged wrong: barred from starting as the first reply did
    first = gen.generate(MESSAGES, max_new_tokens=12)
    again = "".join(gen.stream(MESSAGES, max_new_tokens=12, suppress_start=first))
    llama = gen._llama()
    tokens = [llama.tokenize(t.encode("utf-8"), add_bos=False, special=False)[0] for t in (first, again)]
    assert tokens[0] != tokens[1] and again


@pytest.mark.slow
def test_smollm2_keeps_the_system_prefix_and_answers_alike_after_any_question():
    """Between questions the KV cache keeps the chat template's opening and the system prompt
    (``system_prefix``: up to where the user's message begins), computed as one piece; the rest of a
    prompt is always computed from that position. So a question gets the same greedy answer and the
    same judgement after any other question as on a fresh cache."""
    pytest.importorskip("llama_cpp")
    gen = llm.LlamaCppGenerator(SMOL)
    llama = gen._llama()
    prefix = gen.system_prefix(MESSAGES)
    text = llama.detokenize(prefix, special=True).decode("utf-8")
    assert text.endswith("user\n") and MESSAGES[0]["content"] in text and "capital" not in text
    questions = ["What is the capital of Italy?", "Name a large animal that lives in the sea.",
                 "What colour is the sky on a clear day?"]
    judged = [MESSAGES[0], {"role": "user", "content": MESSAGES[1]["content"] + "\nAnswer only Yes or No."}]
    llama.reset()
    fresh = gen.generate(MESSAGES, max_new_tokens=16)
    llama.reset()
    fresh_p = gen.judge(judged, ["Yes"], ["No"])
    calls = _spy_evals(llama)
    try:
        for question in questions:
            gen.generate([MESSAGES[0], {"role": "user", "content": question}], max_new_tokens=8)
            calls.clear()
            assert gen.generate(MESSAGES, max_new_tokens=16) == fresh
            assert calls[0] == (len(prefix), calls[0][1])  # computed from the end of the system prefix
            gen.generate([MESSAGES[0], {"role": "user", "content": question}], max_new_tokens=8)
            assert gen.judge(judged, ["Yes"], ["No"]) == fresh_p
        # another system prompt: nothing of the old one is kept
        french = [{"role": "system", "content": "Reply in French."}, MESSAGES[1]]
        calls.clear()
        gen.generate(french, max_new_tokens=4)
        k = len(gen.system_prefix(french))
        assert calls[0] == (0, k) and calls[1][0] == k  # its prefix alone, from the start, then the rest
    finally:
        del llama.eval


def test_llamacpp_prefix_on_a_folder_says_what_to_name(tmp_path):
    gen = llm.get_generator(f"llamacpp:{tmp_path}")
    with pytest.raises(GenerationError) as err:
        gen.generate(MESSAGES)
    assert err.value.key == "err.gen_no_gguf" and ".gguf" in str(err.value)
