"""Dataclass options, ours against ``transformers.HfArgumentParser`` (issue 9): start-up cost and fit.

Issue 9 asks whether ``oracle.cli._add_config_args`` (config dataclass fields -> ``--options``)
should be ``transformers.HfArgumentParser``. Two questions, both answered in one run:

1. **Start-up.** Each case runs in a fresh interpreter, the cases interleaved round by round,
   ``--runs`` rounds; the table gives the median wall time in milliseconds (process start to
   exit, interpreter start included) and, from one more instrumented run of each case, the
   number of modules loaded and which heavy packages among them (torch above all: ``--help``
   and the app must not load it).
2. **Fit.** For every ``(dataclass, fields)`` pair that ``oracle.cli.build_parser`` exposes,
   the option strings, defaults, types and ``nargs`` that HfArgumentParser's per-field
   builder (``HfArgumentParser._parse_dataclass_field``, the only way to add a subset of
   fields to a sub-command's parser) would give, against ours.

    PYTHONPATH=. nice -n 10 python bench/bench_cli_start.py --runs 5

Prints Markdown to stdout (nothing is written); ``bench/RESULTS.md`` holds a run of it.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import time
import typing
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HEAVY = ("torch", "transformers", "numpy", "huggingface_hub", "httpx", "yaml", "safetensors", "tokenizers",
         "gradio", "faiss", "sentence_transformers")
"""Packages reported when a case loads them."""

CASES = {
    "interpreter alone (`python -c pass`)": ["-c", "pass"],
    "ours: `python -m oracle --help`": ["-m", "oracle", "--help"],
    "`from transformers import HfArgumentParser`": ["-c", "from transformers import HfArgumentParser"],
    "`from transformers.hf_argparser import HfArgumentParser`":
        ["-c", "from transformers.hf_argparser import HfArgumentParser"],
    "ours + that import (what `--help` would cost with it)":
        ["-c", "from transformers.hf_argparser import HfArgumentParser; import sys; "
               "sys.argv = ['python -m oracle', '--help']; from oracle.cli import main; sys.exit(main())"],
}
"""Label -> interpreter arguments. Every case runs with the same environment (below)."""


def _env() -> dict[str, str]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _wall_ms(args: list[str]) -> float:
    """Wall time, in milliseconds, of one fresh ``python <args>`` (output discarded).

    Raises:
        RuntimeError: the process exits with a status other than 0.
    """
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *args], env=_env(), stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, cwd=ROOT)
    elapsed = (time.perf_counter() - start) * 1000.0
    if done.returncode != 0:
        raise RuntimeError(f"{args} exited with {done.returncode}: {done.stderr[-500:]}")
    return elapsed


def _modules(args: list[str]) -> list[str]:
    """Names in ``sys.modules`` at the exit of ``python <args>`` (one instrumented run)."""
    if args[0] == "-m":  # run the module as __main__, as `python -m` does
        body = (f"import sys, runpy; sys.argv = [{args[1]!r}] + {args[2:]!r}; "
                f"runpy.run_module({args[1]!r}, run_name='__main__', alter_sys=True)")
    else:
        body = args[1]
    hook = ("import atexit, json, sys; "
            "atexit.register(lambda: sys.stderr.write("
            "'MODULES ' + json.dumps(sorted(sys.modules)) + '\\n'))\n")
    done = subprocess.run([sys.executable, "-c", hook + body], env=_env(), stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, cwd=ROOT)
    line = next(x for x in done.stderr.splitlines() if x.startswith("MODULES "))
    return json.loads(line[len("MODULES "):])


BREAKDOWN = ("transformers", "transformers.dependency_versions_check", "transformers.utils",
             "transformers.utils.hub", "transformers.utils.generic", "transformers.utils.auto_docstring",
             "numpy", "yaml", "transformers.hf_argparser")
"""Modules whose cumulative import time is reported for the HfArgumentParser import."""


def _import_breakdown(statement: str) -> list[tuple[str, float]]:
    """Cumulative import times, in milliseconds, of the :data:`BREAKDOWN` modules under
    ``python -X importtime -c statement`` (one run; a module imported earlier by another shows 0)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", statement], env=_env(),
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    found = {}
    for line in done.stderr.splitlines():  # "import time:  self_us | cumulative_us |   name"
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _self, cumulative, raw = line[len("import time:"):].split("|")
        found.setdefault(raw.strip(), int(cumulative) / 1000.0)
    return [(name, found.get(name, 0.0)) for name in BREAKDOWN]


def _cli_pairs() -> list[tuple[type, list[str] | None, dict[str, str]]]:
    """Every ``_add_config_args(parser, cls, names, aliases)`` call that ``build_parser`` makes, recorded."""
    from oracle import cli

    calls = []
    real = cli._add_config_args

    def record(parser, cls, names=None, aliases=None):
        calls.append((cls, None if names is None else list(names), dict(aliases or {})))
        return real(parser, cls, names, aliases)

    cli._add_config_args = record
    try:
        cli.build_parser()
    finally:
        cli._add_config_args = real
    return calls


def _describe(parser: argparse.ArgumentParser) -> dict[str, tuple]:
    """``dest -> (option strings, default, type name, nargs, has help)`` of a parser's options (no -h)."""
    out = {}
    for action in parser._actions:
        if not action.option_strings or action.dest == "help":
            continue
        kind = getattr(action.type, "__name__", type(action).__name__)
        old = out.get(action.dest)
        strings = tuple(action.option_strings) + (old[0] if old else ())
        out[action.dest] = (strings, action.default if not old else old[1], old[2] if old else kind,
                            old[3] if old else action.nargs, bool(action.help))
    return out


def _differences(ours: tuple, theirs: tuple) -> list[str]:
    """What HfArgumentParser's option for one field changes, as short labels (empty: the same).

    ``ours``/``theirs``: :func:`_describe` tuples of one dest.
    """
    out = []
    extra = set(theirs[0]) - set(ours[0])
    missing = set(ours[0]) - set(theirs[0])
    if any("_" in s for s in extra):
        out.append("adds the `--snake_case` spelling next to `--kebab-case`")
    if any(s.startswith("--no-") for s in missing):
        out.append("bool with default False: no `--no-x`")
    if missing - {s for s in missing if s.startswith("--no-")}:
        out.append("alias lost (`--lr`)")
    if ours[2] != theirs[2] or ours[3] != theirs[3]:
        out.append("bool: `--x [X]` parsed by `string_to_bool` (nargs `?`), not `--x/--no-x` flags")
    if ours[1] != theirs[1]:
        out.append("different default")
    return out


def _fit(detail: bool) -> list[str]:
    """Markdown lines: for the fields ``build_parser`` exposes, what HfArgumentParser's per-field
    builder changes (``detail``: also one row per differing field)."""
    from transformers.hf_argparser import HfArgumentParser

    from oracle import cli

    rows, refused, seen = [], {}, set()
    kinds: dict[str, list[str]] = {}
    for cls, names, aliases in _cli_pairs():
        ours = argparse.ArgumentParser(add_help=False)
        cli._add_config_args(ours, cls, names, aliases)
        theirs = argparse.ArgumentParser(add_help=False)
        hints = typing.get_type_hints(cls)  # our modules postpone annotations: Field.type is a string
        for f in dataclasses.fields(cls):
            if names is not None and f.name not in names:
                continue
            g = copy.copy(f)  # HF's builder sets field.type in place; keep the class's own Field intact
            g.type = hints[f.name]
            try:
                HfArgumentParser._parse_dataclass_field(theirs, g)
            except TypeError as err:  # every metadata key is passed to add_argument as a keyword
                refused[f"{cls.__name__}.{f.name}"] = str(err)
                g.metadata = {"help": f.metadata.get("help", "")}  # type: ignore[misc]
                HfArgumentParser._parse_dataclass_field(theirs, g)
        a, b = _describe(ours), _describe(theirs)
        for dest in a:
            key = f"{cls.__name__}.{dest}"
            if key in seen:
                continue
            seen.add(key)
            for kind in _differences(a[dest], b[dest]):
                kinds.setdefault(kind, []).append(key)
            if detail and a[dest][:4] != b[dest][:4]:
                rows.append(f"| `{key}` | {' '.join(a[dest][0])}; default {a[dest][1]!r}; "
                            f"type {a[dest][2]} | "
                            f"{' '.join(b[dest][0])}; default {b[dest][1]!r}; type {b[dest][2]}, "
                            f"nargs {b[dest][3]} |")
    same = sum(1 for k in seen if not any(k in v for v in kinds.values()))
    lines = [f"{len(seen)} distinct fields exposed by `build_parser` "
             "(every `_add_config_args` call recorded), "
             f"each built again with `HfArgumentParser._parse_dataclass_field` (types resolved with "
             f"`typing.get_type_hints`); {same} come out the same, the others change:", "",
             "| change | fields | examples |", "|---|---:|---|"]
    for kind, keys in kinds.items():
        lines.append(f"| {kind} | {len(keys)} | {', '.join('`' + k + '`' for k in keys[:3])} |")
    for key, err in refused.items():
        lines.append(f"| refused as it is: `{err}` (our `cli_default` metadata) | 1 | `{key}` |")
    if detail:
        lines += ["", "| field | ours | HfArgumentParser |", "|---|---|---|"] + rows
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5,
                        help="Rounds; each case once per round (median shown).")
    parser.add_argument("--detail", action="store_true", help="Also list every field whose option differs.")
    args = parser.parse_args()

    import transformers

    load_start = os.getloadavg()
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    _wall_ms(["-c", "pass"])  # warm the file cache once, untimed
    times: dict[str, list[float]] = {label: [] for label in CASES}
    for _ in range(args.runs):
        for label, case in CASES.items():
            times[label].append(_wall_ms(case))
    load_end = os.getloadavg()

    print(f"## Dataclass options: ours against HfArgumentParser (issue 9) ({when})\n")
    print(f"`PYTHONPATH=. nice -n 10 python bench/bench_cli_start.py --runs {args.runs}`  ")
    print(f"Python {sys.version.split()[0]}, transformers {transformers.__version__}, {os.cpu_count()} CPUs; "
          f"load average {load_start[0]:.1f} at start, {load_end[0]:.1f} at end; HF_HUB_OFFLINE=1. "
          f"Fresh interpreter per run, cases interleaved, median of {args.runs} (min-max in brackets).\n")
    print("| case | median ms | [min-max] | modules loaded | torch loaded | heavy packages loaded |")
    print("|---|---:|---|---:|---|---|")
    for label, case in CASES.items():
        mods = _modules(case)
        heavy = [h for h in HEAVY if h in mods]
        ms = times[label]
        print(f"| {label} | {statistics.median(ms):.0f} | [{min(ms):.0f}-{max(ms):.0f}] | {len(mods)} | "
              f"{'yes' if 'torch' in mods else 'no'} | {', '.join(heavy) or '-'} |")
    print("\nWhere `from transformers.hf_argparser import HfArgumentParser` spends its time "
          "(`-X importtime`, "
          "cumulative ms, one run; nested: `transformers` holds the rest):\n")
    print(", ".join(f"`{name}` {ms:.0f}" for name, ms in
                    _import_breakdown("from transformers.hf_argparser import HfArgumentParser")))
    print()
    for line in _fit(args.detail):
        print(line)


if __name__ == "__main__":
    main()
