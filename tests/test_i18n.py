"""Where strings live: the core's messages in oracle.i18n, the app's (``ui.*``) in
oracle.ui.locales, registered into the one lookup ``t`` when oracle.ui is imported. Read from
the source with ``ast``: every key the app names resolves in Portuguese and English, and no
core module names (or defines) a ``ui.*`` key, so the command line never prints a bare key."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import oracle
from oracle import i18n

ROOT = Path(oracle.__file__).resolve().parent
UI = ROOT / "ui"
KEY_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+\.?$")  # "ui.tab.chat", or a prefix "ui.eval.mode."


def _tree(path: Path) -> ast.AST:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _lookups(path: Path) -> list[tuple[str, str, bool]]:
    """``(function, key, is_prefix)`` for each ``t(...)``/``tn(...)``/``ctx.t(...)`` call in
    ``path`` whose first argument is a string literal (``is_prefix`` False) or an f-string that
    starts with one (``f"ui.eval.mode.{m}"``: the literal head, ``is_prefix`` True)."""
    found = []
    for node in ast.walk(_tree(path)):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if func not in ("t", "tn"):
            continue
        arg = node.args[0]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            found.append((func, arg.value, False))
        elif isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant):
            found.append((func, arg.values[0].value, True))
    return found


def _key_literals(path: Path, prefix: str) -> set[str]:
    """Every string literal (or f-string head) in ``path`` that looks like an i18n key under ``prefix``."""
    return {n.value for n in ast.walk(_tree(path))
            if isinstance(n, ast.Constant) and isinstance(n.value, str)
            and n.value.startswith(prefix) and KEY_RE.match(n.value)}


def _core_files() -> list[Path]:
    return [p for p in ROOT.rglob("*.py") if UI not in p.parents]


def _ui_files() -> list[Path]:
    return [p for p in UI.rglob("*.py") if p.parent != UI / "locales"]


def _defined_keys(path: Path) -> list[str]:
    """The keys of the ``STRINGS = {...}`` literal in ``path``, read without importing it."""
    for node in _tree(path).body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "STRINGS":
            return [k.value for k in node.value.keys]
    raise AssertionError(f"no STRINGS in {path}")


@pytest.fixture(scope="module")
def strings() -> dict[str, dict[str, str]]:
    """The lookup's table once the app is imported (which registers the ui.* strings)."""
    import oracle.ui  # noqa: F401

    return i18n.STRINGS


def _resolves(strings: dict, key: str) -> bool:
    entry = strings.get(key) or {}
    return all(entry.get(lang) for lang in i18n.LANGUAGES)


def test_importing_the_app_registers_its_strings(strings):
    assert i18n.t("ui.tab.documents", "pt") == "Documentos" and i18n.t("ui.tab.documents", "en") == "Documents"
    locale_keys = _defined_keys(UI / "locales" / "strings.py")
    assert len(locale_keys) > 300 and all(k in strings for k in locale_keys)


def test_every_string_has_both_languages_with_the_same_placeholders(strings):
    """A translation that drops or renames a ``{field}`` would print the raw template."""
    import string

    def fields(template: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}

    missing = [k for k, v in strings.items() if not all(v.get(lang) for lang in i18n.LANGUAGES)]
    differ = [k for k, v in strings.items() if len({frozenset(fields(v[lang])) for lang in i18n.LANGUAGES}) > 1]
    assert missing == [] and differ == []


def test_every_key_the_app_names_resolves_in_both_languages(strings):
    missing, prefixes = [], []
    for path in _ui_files():
        where = path.relative_to(ROOT.parent)
        for func, key, is_prefix in _lookups(path):
            if is_prefix:
                if not any(k.startswith(key) for k in strings):
                    prefixes.append(f"{where}: {func}(f'{key}…')")
            elif func == "tn":
                missing += [f"{where}: {key}.{form}" for form in ("one", "other")
                            if not _resolves(strings, f"{key}.{form}")]
            elif not _resolves(strings, key):
                missing.append(f"{where}: {key}")
        # keys kept in data (TABS, choices) rather than passed to t() directly
        for key in _key_literals(path, "ui."):
            if not key.endswith(".") and not _resolves(strings, key) \
                    and not all(_resolves(strings, f"{key}.{form}") for form in ("one", "other")):
                missing.append(f"{where}: {key} (literal)")
    assert missing == [] and prefixes == []


def test_no_core_module_names_a_ui_key():
    """The core and the command line run without oracle.ui: a ui.* key there prints as the key."""
    used = {f"{p.relative_to(ROOT.parent)}: {key}" for p in _core_files() for key in _key_literals(p, "ui.")}
    assert used == set()


def test_core_and_app_strings_are_apart():
    """oracle.i18n defines no ui.* key and the locales only ui.* keys (one home per key; a ui key
    merged back into the core by mistake fails here rather than shadowing the locale's text)."""
    core = _defined_keys(ROOT / "i18n.py")
    app = _defined_keys(UI / "locales" / "strings.py")
    assert [k for k in core if k.startswith("ui.")] == []
    assert [k for k in app if not k.startswith("ui.")] == []
    assert len(set(core)) == len(core) and len(set(app)) == len(app)  # no key written twice


def test_register_adds_to_the_one_lookup_and_refuses_a_conflict(monkeypatch):
    monkeypatch.setattr(i18n, "STRINGS", dict(i18n.STRINGS))
    entry = {"pt": "Olá, {name}", "en": "Hello, {name}"}
    i18n.register({"ui.test.hello": entry})
    i18n.register({"ui.test.hello": dict(entry)})  # the same again: a no-op
    assert i18n.t("ui.test.hello", "pt", name="Ana") == "Olá, Ana"
    assert i18n.t("ui.test.hello", "en", name="Ana") == "Hello, Ana"
    with pytest.raises(ValueError, match="ui.test.hello"):
        i18n.register({"ui.test.hello": {"pt": "Oi", "en": "Hi"}})
    with pytest.raises(ValueError, match="ui.test.bad"):
        i18n.register({"ui.test.bad": "Oi"})
    assert i18n.t("ui.test.hello", "pt", name="Ana") == "Olá, Ana"


def test_errors_once_raised_with_english_details_read_in_one_language():
    """Config ranges, a LoRA adapter on a remote generator and an empty generator name read
    wholly in Portuguese (and wholly in English), not a Portuguese frame around English text."""
    from oracle.config import ChunkingConfig, QAConfig, RAGConfig
    from oracle.errors import ConfigError, GenerationError
    from oracle.llm import get_generator

    with pytest.raises(ConfigError) as info:
        ChunkingConfig(chunk_size=100, chunk_overlap=200)
    assert info.value.message("pt") == ("Configuração inválida: `chunk_overlap` deve estar no intervalo "
                                        "[0, chunk_size=100), mas é 200.")
    assert info.value.message("en") == "Invalid setting: `chunk_overlap` must be in [0, chunk_size=100), got 200."
    with pytest.raises(ConfigError) as info:
        RAGConfig(prompt="v9")
    assert info.value.message("pt").startswith("Configuração inválida: `prompt` deve ser um destes: v1, v2")
    assert info.value.message("pt").endswith("mas é 'v9'.")
    with pytest.raises(ConfigError) as info:
        QAConfig(temperature=-1)
    assert info.value.message("pt") == "Configuração inválida: `temperature` não pode ser negativo, mas é -1."
    with pytest.raises(GenerationError) as info:
        get_generator("openai:gpt-4o-mini", adapter="meu-adaptador")
    assert "adaptador LoRA não pode ser aplicado ao gerador remoto 'openai:gpt-4o-mini'" in info.value.message("pt")
    with pytest.raises(GenerationError) as info:
        get_generator("  ")
    assert info.value.message("pt").startswith("Nenhum gerador indicado")


def _english_left(message: str, old: str, technical: str = "") -> list[str]:
    """The words of ``old`` (the English detail an error was once raised with, its values left
    out) that ``message`` still contains, names in ``technical`` (QLoRA, CUDA...) excepted."""
    allowed = {w.lower() for w in re.findall(r"[A-Za-z_]+", technical)}
    words = {w.lower() for w in re.findall(r"[A-Za-z]{2,}", old)} - allowed
    return sorted(w for w in words if re.search(rf"(?<![\w-]){w}(?![\w-])", message, re.IGNORECASE))


def test_job_training_and_environment_errors_read_in_one_language(workspace, monkeypatch):
    """Errors of the job queue, the training configs, an environment variable and the settings
    of "Melhorar o Oráculo" once carried an English ``detail`` inside the Portuguese frame; now
    each has its own key, and none of the old English words is left in the Portuguese."""
    from oracle import jobs
    from oracle.errors import ConfigError, JobError
    from oracle.improve.config import ImproveConfig, with_settings
    from oracle.models.device import quant_setting
    from oracle.training.lora import LoraTrainConfig, sanitize_name, use_qlora
    from oracle.training.specs import SelftestJob

    queued = jobs.submit(workspace, SelftestJob(steps=1), start=False)
    cases = []
    with pytest.raises(JobError) as info:
        jobs.delete(workspace, queued.job_id)
    cases.append((info.value, "job is ; cancel it first", "",
                  f"A tarefa {queued.job_id} ainda está na fila ou em andamento: cancele-a antes de apagá-la."))
    with pytest.raises(JobError) as info:
        jobs.get_job(workspace, "20260101-000000-lora-0a0a0a")
    cases.append((info.value, "job not found", "", None))
    with pytest.raises(ConfigError) as info:
        use_qlora("on", "cpu")
    cases.append((info.value, "QLoRA needs a CUDA GPU and the bitsandbytes package; set qlora to 'off' or 'auto'.",
                  "QLoRA CUDA GPU bitsandbytes qlora off auto", None))
    with pytest.raises(ConfigError) as info:
        sanitize_name(" /// ")
    cases.append((info.value, "name has no usable characters; use letters, digits, '.', '_' or '-'.", "", None))
    with pytest.raises(ConfigError) as info:
        LoraTrainConfig(max_steps=0)
    cases.append((info.value, "`max_steps` must be -1 or positive, got", "max_steps",
                  "Configuração inválida: `max_steps` deve ser -1 (sem limite) ou maior que zero, mas é 0."))
    monkeypatch.setenv("ORACLE_QUANT", "int4")
    with pytest.raises(ConfigError) as info:
        quant_setting()
    cases.append((info.value, "ORACLE_QUANT must be one of , got", "ORACLE_QUANT",
                  "A variável de ambiente ORACLE_QUANT deve ser um destes valores: auto, none, int8, int8-dynamic; "
                  "mas é 'int4'. Corrija-a, ou remova-a para usar o padrão."))
    with pytest.raises(ConfigError) as info:
        with_settings(ImproveConfig(), {"lora.rank": 2.5})
    cases.append((info.value, "`` must be a int, got", "",
                  "Configuração inválida: `lora.rank` deve ser um número inteiro, mas é 2.5."))
    with pytest.raises(ConfigError) as info:
        with_settings(ImproveConfig(), {"lora.rnak": 8})
    cases.append((info.value, "unknown setting ``.", "", None))

    for err, old, technical, pt in cases:
        assert "detail" not in err.params, err.key  # a key of its own, not English in err.config/err.job
        message = err.message("pt")
        assert _english_left(message, old, technical) == [], message
        assert pt is None or message == pt
        assert err.message("en") != message


def test_a_gold_file_error_reads_in_the_language_asked_for(tmp_path):
    """The gold-file problem was translated when raised (server language) and framed later in
    the reader's: now the whole sentence follows ``message(lang)``."""
    from oracle.errors import GoldError
    from oracle.gold_eval import load_gold

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "q1", "question": "Qual?", "keyfacts": ["250"], "doc": "a.pdf", "page": 1}\n',
                   encoding="utf-8")
    with pytest.raises(GoldError) as info:
        load_gold(bad)
    assert info.value.message("pt").startswith("Conjunto de perguntas de referência inválido: bad.jsonl:1: "
                                               "'keyfacts' deve ser uma lista de listas de textos")
    assert info.value.message("en").startswith("Invalid gold set: bad.jsonl:1: 'keyfacts' must be a list of lists")
