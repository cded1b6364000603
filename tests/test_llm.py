"""Generators: registry, FakeGenerator, local transformers (+LoRA) on a tiny model, OpenAI-compatible
against a local fake server."""

from __future__ import annotations

import http.server
import json
import logging
import socket
import threading
import time
from typing import ClassVar

import pytest
from tiny_lm import tiny_lm_dir  # noqa: F401

from oracle import llm
from oracle.errors import GenerationError
from oracle.llm import (
    FakeGenerator,
    OpenAIGenerator,
    TransformersGenerator,
    get_generator,
    register_generator,
)

MESSAGES = [
    {"role": "system", "content": "Você responde em português."},
    {"role": "user", "content": "Qual é a função do administrador da escola?"},
]


# --- registry and fake -------------------------------------------------------------


def test_fake_replies_in_order_then_exhausted():
    gen = FakeGenerator(replies=["um dois  três\nquatro", "cinco"])
    pieces = list(gen.stream(MESSAGES))
    assert "".join(pieces) == "um dois  três\nquatro" and len(pieces) == 4
    assert gen.generate(MESSAGES, temperature=0.7) == "cinco"
    assert gen.calls == [MESSAGES, MESSAGES] and gen.call_kwargs[1]["temperature"] == 0.7
    with pytest.raises(GenerationError):
        gen.generate(MESSAGES)


def test_fake_fn_sees_messages():
    gen = FakeGenerator(fn=lambda m: m[-1]["content"].upper())
    assert gen.generate(MESSAGES) == MESSAGES[-1]["content"].upper()
    assert gen.last_stats["n_tokens"] == len(MESSAGES[-1]["content"].split())


def test_registry_prefixes(monkeypatch):
    monkeypatch.setattr(llm, "_FACTORIES", dict(llm._FACTORIES))
    monkeypatch.setenv("ORACLE_ENGINE", "transformers")  # llama.cpp's choice: tests/test_llama_cpp.py
    unknown = get_generator("fake:x")  # not built in: an unknown prefix is part of a local name
    assert isinstance(unknown, TransformersGenerator) and unknown.model_name == "fake:x"
    register_generator("fake", lambda model, adapter=None, **kw: FakeGenerator(replies=[model], adapter=adapter))
    gen = get_generator("fake:olá mundo", adapter="/tmp/adapter")
    assert gen.name == "fake:olá mundo" and gen.adapter == "/tmp/adapter"
    assert gen.generate(MESSAGES) == "olá mundo"

    local = get_generator("qwen2.5-coder-0.5b-instruct")
    assert isinstance(local, TransformersGenerator) and local.name == "local:qwen2.5-coder-0.5b-instruct"
    assert local._model is None  # lazy: nothing loaded yet
    assert get_generator("local:/models/x", adapter="a").adapter == "a"
    win = get_generator(r"C:\models\qwen")
    assert isinstance(win, TransformersGenerator) and win.model_name == r"C:\models\qwen"

    remote = get_generator("openai:gpt-4o-mini", base_url="http://127.0.0.1:9/v1", api_key="k")
    assert isinstance(remote, OpenAIGenerator) and remote.name == "openai:gpt-4o-mini"
    with pytest.raises(GenerationError):
        get_generator("openai:gpt-4o-mini", adapter="/tmp/adapter", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(GenerationError):
        get_generator("  ")
    with pytest.raises(ValueError):
        register_generator("a:b", lambda *a, **k: None)


# --- local transformers ------------------------------------------------------------


def local(path, **kw) -> TransformersGenerator:
    """The tiny model through oracle.models.load_generator, in float32 (fastest for a tiny model)."""
    import torch

    return TransformersGenerator(path, device="cpu", dtype=torch.float32, **kw)


def test_chat_template_prompt(tiny_lm_dir):  # noqa: F811
    gen = local(tiny_lm_dir)
    prompt = gen.prompt_text(MESSAGES)
    assert prompt.startswith("<|im_start|>system\nVocê responde") and prompt.endswith("<|im_start|>assistant\n")


def test_template_without_system_role(tiny_lm_dir, monkeypatch):  # noqa: F811
    gen = local(tiny_lm_dir).load()
    strict = (
        "{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('no system role') }}{% endif %}"
        "[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}{% if add_generation_prompt %}[assistant] {% endif %}"
    )
    monkeypatch.setattr(gen.tokenizer, "chat_template", strict)
    prompt = gen.prompt_text(MESSAGES)
    assert prompt == f"[user] {MESSAGES[0]['content']}\n\n{MESSAGES[1]['content']}\n[assistant] "
    assert gen.generate(MESSAGES, max_new_tokens=4)


def test_stream_equals_generate_and_counts_tokens(tiny_lm_dir):  # noqa: F811
    gen = local(tiny_lm_dir)
    pieces = list(gen.stream(MESSAGES, max_new_tokens=24, temperature=0.0))
    streamed_stats = dict(gen.last_stats)
    whole = gen.generate(MESSAGES, max_new_tokens=24, temperature=0.0)
    assert len(pieces) >= 1 and "".join(pieces) == whole and whole

    # the count is the real number of generated tokens
    import torch

    enc = gen.tokenizer(gen.prompt_text(MESSAGES), return_tensors="pt", add_special_tokens=False)
    with torch.inference_mode():
        out = gen.model.generate(**enc, max_new_tokens=24, do_sample=False,
                                 pad_token_id=gen.tokenizer.pad_token_id)
    expected = out.shape[1] - enc["input_ids"].shape[1]
    assert streamed_stats["n_tokens"] == gen.last_stats["n_tokens"] == expected
    assert 0 < expected <= 24
    assert streamed_stats["seconds"] > 0
    assert streamed_stats["tokens_per_s"] == pytest.approx(expected / streamed_stats["seconds"], rel=0.01)


def test_stream_can_bar_the_first_token(tiny_lm_dir):  # noqa: F811
    """suppress_start: the greedy reply may not begin with that text's first token (the second
    answer after a refusal the generator judged wrong); later tokens are free."""
    gen = local(tiny_lm_dir)
    tok = gen.tokenizer
    first = "".join(gen.stream(MESSAGES, max_new_tokens=6))
    banned = tok.encode(first, add_special_tokens=False)[0]
    again = "".join(gen.stream(MESSAGES, max_new_tokens=6, suppress_start=first))
    assert first and again and again != first
    assert tok.encode(again, add_special_tokens=False)[0] != banned
    assert "".join(gen.stream(MESSAGES, max_new_tokens=6)) == first  # nothing kept from the barred call


def test_judge_reuses_the_answers_prompt_prefix(tiny_lm_dir):  # noqa: F811
    """judge() after stream() computes only the tokens past the prefix both prompts share, and
    gives what a full forward pass gives; the yes share is that of the first tokens' softmax."""
    import torch

    from oracle.llm import _yes_share

    judged = MESSAGES[1]["content"] + "\nResponda apenas Sim ou Não."
    question = MESSAGES[:1] + [{"role": "user", "content": judged}]
    fresh = local(tiny_lm_dir)
    alone = fresh.judge(question, ["Sim"], ["Não"])
    gen = local(tiny_lm_dir)
    list(gen.stream(MESSAGES, max_new_tokens=8))
    assert gen._last_cache is not None
    calls: list[int] = []
    forward = gen.model.forward

    def counting(*args, **kw):
        calls.append(int(kw["input_ids"].shape[1]))
        return forward(*args, **kw)

    gen.model.forward = counting
    try:
        reused = gen.judge(question, ["Sim"], ["Não"])
    finally:
        del gen.model.forward
    ids = [gen.tokenizer(gen.prompt_text(m), add_special_tokens=False)["input_ids"]
           for m in (MESSAGES, question)]
    shared = next(i for i, (a, b) in enumerate(zip(*ids, strict=False)) if a != b)
    assert len(calls) == 1 and calls[0] == len(ids[1]) - shared > 0  # the shared prefix came from the cache
    assert reused == pytest.approx(alone, abs=1e-4) and 0.0 < alone < 1.0
    assert gen._last_cache is None  # dropped: the next judge without a stream starts afresh
    enc = gen.tokenizer(gen.prompt_text(question), return_tensors="pt", add_special_tokens=False)
    with torch.inference_mode():
        logits = gen.model(**enc).logits[0, -1]
    first = [gen.tokenizer.encode(w, add_special_tokens=False)[0] for w in ("Sim", "Não")]
    assert first[0] != first[1]
    assert alone == pytest.approx(_yes_share(logits, first[:1], first[1:]), abs=1e-5)


def test_the_judge_reads_float32_logits_of_a_bf16_model(tiny_lm_dir):  # noqa: F811
    """A model computing in bf16 rounds its logits to 8 significant bits, which ties Sim and Não;
    judge() projects the output layer's input onto the two words' rows in float32."""
    import torch

    from oracle.llm import _head_logits_fp32, _yes_share

    judged = MESSAGES[1]["content"] + "\nResponda apenas Sim ou Não."
    question = MESSAGES[:1] + [{"role": "user", "content": judged}]
    gen = local(tiny_lm_dir).load()
    gen.model.to(torch.bfloat16)
    share = gen.judge(question, ["Sim"], ["Não"])
    enc = gen.tokenizer(gen.prompt_text(question), return_tensors="pt", add_special_tokens=False)
    with torch.inference_mode():
        hidden = gen.model.model(**enc).last_hidden_state[0, -1]  # the output layer's input, bf16
        exact = hidden.float() @ gen.model.get_output_embeddings().weight.float().T  # [vocab] float32
    first = [gen.tokenizer.encode(w, add_special_tokens=False)[0] for w in ("Sim", "Não")]
    assert hidden.dtype == torch.bfloat16 and first[0] != first[1]
    assert share == pytest.approx(_yes_share(exact, first[:1], first[1:]), abs=1e-6)

    # the rows of an int8 output layer are dequantized as its forward dequantizes them
    from oracle.models.quant import _int8_linear_class

    torch.manual_seed(0)
    linear = torch.nn.Linear(16, 40, bias=True)
    int8 = _int8_linear_class()(linear)
    h = torch.randn(16)
    rows = [3, 7, 31]
    got = _head_logits_fp32(int8, h, rows)
    want = (int8.weight_int8.float() * int8.scales.float()[:, None]) @ h + linear.bias.detach()
    assert got.dtype == torch.float32 and torch.allclose(got, want[rows], atol=1e-5)
    assert torch.allclose(_head_logits_fp32(linear, h.to(torch.bfloat16), rows),
                          (linear.weight.detach() @ h.to(torch.bfloat16).float() + linear.bias.detach())[rows],
                          atol=1e-5)


def test_sampling_runs(tiny_lm_dir):  # noqa: F811
    gen = local(tiny_lm_dir)
    text = "".join(gen.stream(MESSAGES, max_new_tokens=8, temperature=1.0))
    assert isinstance(text, str) and 0 < gen.last_stats["n_tokens"] <= 8


def test_closing_stream_stops_generation(tiny_lm_dir):  # noqa: F811
    gen = local(tiny_lm_dir)
    stream = gen.stream(MESSAGES, max_new_tokens=3000)
    next(stream)
    stream.close()  # as a UI "stop" button would
    assert 0 < gen.last_stats["n_tokens"] < 3000


def test_backend_failure_becomes_generation_error(tiny_lm_dir, monkeypatch):  # noqa: F811
    gen = local(tiny_lm_dir).load()

    def boom(*a, **k):
        raise RuntimeError("CPU out of memory: tried to allocate 9 GiB")

    monkeypatch.setattr(gen.model, "generate", boom)
    start = time.perf_counter()
    with pytest.raises(GenerationError) as err:
        list(gen.stream(MESSAGES))
    assert err.value.key == "err.gen_oom" and "9 GiB" in str(err.value)
    assert time.perf_counter() - start < 10
    with pytest.raises(GenerationError):
        gen.generate(MESSAGES)


def _random_adapter(model_dir, folder):
    """A LoRA adapter of the tiny model saved in ``folder``, with random lora_B
    (init_lora_weights=False: zeros would change nothing), so that it changes the output."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(1)
    base = AutoModelForCausalLM.from_pretrained(model_dir)
    peft_model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "o_proj"],
                                                 init_lora_weights=False))
    peft_model.save_pretrained(folder)
    assert (folder / "adapter_config.json").exists()
    return folder


def test_lora_adapter_changes_output(tiny_lm_dir, tmp_path):  # noqa: F811
    adapter_dir = _random_adapter(tiny_lm_dir, tmp_path / "adapter")
    plain = local(tiny_lm_dir)
    tuned = local(tiny_lm_dir, adapter=str(adapter_dir))
    assert tuned.adapter == str(adapter_dir)
    assert any("lora" in n for n, _ in tuned.model.named_parameters())
    assert not any("lora" in n for n, _ in plain.model.named_parameters())
    a = plain.generate(MESSAGES, max_new_tokens=16)
    b = tuned.generate(MESSAGES, max_new_tokens=16)
    assert a != b
    assert "".join(tuned.stream(MESSAGES, max_new_tokens=16)) == b


def test_an_adapters_self_check_is_asked_of_its_base_model(tiny_lm_dir, tmp_path):  # noqa: F811
    """An adapter is trained on answers, never on the judge's yes/no question, and shifts it: judge()
    of a generator with an adapter gives its base model's share, not the adapted model's own."""
    import torch

    from oracle.llm import _first_ids, _yes_share

    judged = MESSAGES[1]["content"] + "\nResponda apenas Sim ou Não."
    question = MESSAGES[:1] + [{"role": "user", "content": judged}]
    plain = local(tiny_lm_dir)
    tuned = local(tiny_lm_dir, adapter=str(_random_adapter(tiny_lm_dir, tmp_path / "adapter")))
    base_share = plain.judge(question, ["Sim"], ["Não"])
    assert tuned.judge(question, ["Sim"], ["Não"]) == pytest.approx(base_share, abs=1e-5)
    assert tuned.base_judge() is tuned.base_judge() and tuned.base_judge().adapter is None
    assert plain.base_judge() is plain

    tok = tuned.tokenizer
    enc = tok(tuned.prompt_text(question), return_tensors="pt", add_special_tokens=False)
    with torch.inference_mode():
        logits = tuned.model(**enc).logits[0, -1]  # what the adapted model itself would say

    def encode(word: str) -> list[int]:
        return tok.encode(word, add_special_tokens=False)

    own_share = _yes_share(logits, _first_ids(encode, ["Sim"]), _first_ids(encode, ["Não"]))
    assert abs(own_share - base_share) > 1e-3


def test_an_adapter_trained_on_the_self_check_answers_it_itself(tiny_lm_dir, tmp_path):  # noqa: F811
    """An adapter whose run card records self-check examples (``self_check`` > 0) judges its own
    sources: judge() gives the adapted model's share, and the stream keeps its KV cache for it; one
    whose card records 0 is judged by its base model."""
    import torch

    from oracle.llm import _first_ids, _yes_share, adapter_judges_itself
    from oracle.training.card import new_card

    judged = MESSAGES[1]["content"] + "\nResponda apenas Sim ou Não."
    question = MESSAGES[:1] + [{"role": "user", "content": judged}]
    folder = _random_adapter(tiny_lm_dir, tmp_path / "adapter")
    assert not adapter_judges_itself(str(folder))  # no card: trained elsewhere
    new_card("lora", "a", "tiny", hyperparameters={"self_check": 0.0}).save(folder)
    assert not adapter_judges_itself(str(folder))
    new_card("lora", "a", "tiny", hyperparameters={"self_check": 0.5}).save(folder)
    assert adapter_judges_itself(str(folder))

    tuned = local(tiny_lm_dir, adapter=str(folder))
    assert tuned.base_judge() is tuned
    tok = tuned.tokenizer
    enc = tok(tuned.prompt_text(question), return_tensors="pt", add_special_tokens=False)
    with torch.inference_mode():
        logits = tuned.model(**enc).logits[0, -1]

    def encode(word: str) -> list[int]:
        return tok.encode(word, add_special_tokens=False)

    own_share = _yes_share(logits, _first_ids(encode, ["Sim"]), _first_ids(encode, ["Não"]))
    assert tuned.judge(question, ["Sim"], ["Não"]) == pytest.approx(own_share, abs=1e-4)
    assert abs(own_share - local(tiny_lm_dir).judge(question, ["Sim"], ["Não"])) > 1e-3
    "".join(tuned.stream(MESSAGES, max_new_tokens=4))
    assert tuned._last_cache is not None  # kept for its own judge
    assert tuned.judge(question, ["Sim"], ["Não"]) == pytest.approx(own_share, abs=1e-4)


# --- OpenAI-compatible -------------------------------------------------------------

KEY = "sk-test-SECRET-0123456789abcdef"
PIECES = ["Olá", ", ", "mundo", "!"]


class _Handler(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list] = []

    def log_message(self, *args):  # keep pytest output clean
        pass

    def _json(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        if self.path != "/v1/chat/completions":
            return self._json(404, {"error": {"message": "no route", "type": "invalid_request_error"}})
        if self.headers.get("Authorization") != f"Bearer {KEY}":
            # like OpenAI, echo the key in the message
            return self._json(401, {"error": {"message": f"Incorrect API key provided: {self.headers.get('Authorization')}",
                                              "type": "invalid_request_error", "code": "invalid_api_key"}})
        if body["model"] != "tiny-chat":
            return self._json(404, {"error": {"message": f"model {body['model']} not found", "type": "not_found"}})
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        for i, piece in enumerate(PIECES):
            delta = {"role": "assistant", "content": piece} if i == 0 else {"content": piece}
            event = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "tiny-chat",
                     "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
            self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
            self.wfile.flush()
        end = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "tiny-chat",
               "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        self.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())
        self.wfile.flush()
        self.close_connection = True


@pytest.fixture
def fake_openai():
    _Handler.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_openai_streams_and_hides_key(fake_openai, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    for name in ("openai", "httpx", "httpcore", "oracle"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    gen = OpenAIGenerator("tiny-chat", base_url=fake_openai, api_key=KEY, timeout_s=5, max_retries=0)
    pieces = list(gen.stream(MESSAGES, max_new_tokens=32, temperature=0.2))
    assert pieces == PIECES
    assert gen.generate(MESSAGES) == "".join(PIECES)
    assert gen.last_stats["n_tokens"] == len(PIECES) and gen.last_stats["seconds"] > 0
    request = _Handler.seen[0]
    assert request["auth"] == f"Bearer {KEY}"  # the key was sent...
    assert request["body"]["stream"] is True and request["body"]["max_tokens"] == 32
    assert request["body"]["messages"] == MESSAGES
    # ...but is nowhere else
    assert KEY not in repr(gen) and KEY not in str(vars(gen))
    out = capsys.readouterr()
    assert KEY not in caplog.text and KEY not in out.out and KEY not in out.err


def test_openai_key_from_environment(fake_openai, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai)
    gen = get_generator("openai:tiny-chat", timeout_s=5, max_retries=0)
    assert gen.generate(MESSAGES) == "".join(PIECES)
    assert KEY not in repr(gen)


def test_openai_bad_key_and_unknown_model(fake_openai, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = "sk-wrong-key-987654321"
    gen = OpenAIGenerator("tiny-chat", base_url=fake_openai, api_key=wrong, timeout_s=5, max_retries=0)
    with pytest.raises(GenerationError) as err:
        gen.generate(MESSAGES)
    assert err.value.key == "err.gen_auth" and "OPENAI_API_KEY" in str(err.value)
    assert wrong not in str(err.value) and wrong not in caplog.text

    missing = OpenAIGenerator("nope", base_url=fake_openai, api_key=KEY, timeout_s=5, max_retries=0)
    with pytest.raises(GenerationError) as err:
        missing.generate(MESSAGES)
    assert err.value.key == "err.gen_model_missing" and "'nope'" in str(err.value)


def test_openai_unreachable_fails_fast():
    url = f"http://127.0.0.1:{_free_port()}/v1"
    gen = OpenAIGenerator("tiny-chat", base_url=url, api_key=KEY, timeout_s=2, max_retries=0)
    start = time.perf_counter()
    with pytest.raises(GenerationError) as err:
        gen.generate(MESSAGES)
    assert time.perf_counter() - start < 5
    assert err.value.key == "err.gen_connection" and url in str(err.value)
    assert err.value.message("en").startswith("Generator 'openai:tiny-chat' cannot reach")


def test_openai_without_key_for_openai_itself(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(GenerationError) as err:
        OpenAIGenerator("gpt-4o-mini")
    assert err.value.key == "err.gen_no_key"
    # a local server needs no key
    assert OpenAIGenerator("x", base_url="http://127.0.0.1:9/v1").name == "openai:x"
