"""The command line drives the same core as the app: every stage end to end, offline,
with a fake generator and the tiny embedder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from dataclasses import fields

import pytest
from tiny_lm import tiny_lm_dir  # noqa: F401 - fixture

from oracle import cli, jobs
from oracle.cli import main
from oracle.training.specs import SelftestJob
from tiny_embedder import tiny_embedder_path
from docs import FACTS, make_corrupt_pdf, make_pt_pdf

QA_REPLY = json.dumps({"pairs": [{"question": "Qual é o valor total destinado ao edital?",
                                  "answer": "R$ 250.000,00"}]}, ensure_ascii=False)


def _fake_reply(messages):
    text = " ".join(m["content"] for m in messages)
    if "pairs" in text:  # the QA-generation prompt asks for {"pairs": [...]}
        return QA_REPLY
    return "O valor total é R$ 250.000,00 [1]."


@pytest.fixture
def fake_generator():
    from oracle.llm import FakeGenerator, register_generator

    calls = []

    def factory(model, adapter=None, **kw):
        def fn(messages):
            calls.append(messages)
            return _fake_reply(messages)
        return FakeGenerator(fn=fn, name=f"fake:{model}")

    register_generator("fake", factory)
    return calls


@pytest.mark.parametrize("command", ["ingest", "qa", "index", "ask", "rate", "demo", "train"])
def test_every_subcommand_has_help(command):
    out = subprocess.run([sys.executable, "-m", "oracle", command, "--help"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "usage: python -m oracle " + command in out.stdout


def test_help_does_not_import_torch():
    code = "import sys; from oracle.cli import build_parser; build_parser(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False"


def test_help_does_not_import_transformers():
    """Importing transformers alone costs ~1.9 s on 2 cores, 4x the whole ``--help`` (issue 9,
    bench/bench_cli_start.py): the parser is built without it."""
    code = ("import sys; from oracle.cli import build_parser; build_parser(); "
            "print('transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_whole_chain_from_the_command_line(tmp_path, workspace, fake_generator, capsys):
    pdf = make_pt_pdf(tmp_path)
    bad = make_corrupt_pdf(tmp_path)
    home = ["--home", str(workspace.home)]
    embedder = tiny_embedder_path()

    assert main(home + ["ingest", str(pdf), str(bad)]) == 1  # one failed, one ingested
    out = capsys.readouterr()
    assert bad.name in out.err and pdf.name in out.out
    assert len(list(workspace.documents.glob("*.chunks.jsonl"))) == 1  # chunked once, at ingest

    assert main(home + ["qa", "--generator", "fake:x", "--max-chunks", "5"]) == 0
    pairs = [json.loads(line) for f in workspace.data_qa.glob("*.qa.jsonl") for line in f.open()]
    assert pairs and all(p["generator"] == "fake:x" for p in pairs)
    assert pairs[0]["question"] in FACTS and pairs[0]["page"] == 1

    assert main(home + ["index", "--embedder", embedder]) == 0
    assert (workspace.index_dir() / "index.faiss").exists()
    # without --embedder, an update keeps the index's own embedder (not the default e5)
    assert main(home + ["index"]) == 0
    assert json.loads((workspace.index_dir() / "index.json").read_text(encoding="utf-8"))["embedder"] == embedder
    capsys.readouterr()

    assert main(home + ["ask", "Qual é o valor total destinado ao edital?", "--generator", "fake:x",
                        "--min-score", "-1", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["text"].endswith("[1].") and answer["citations"][0]["n"] == 1
    assert answer["citations"][0]["doc_name"] == pdf.name

    (stored,) = [json.loads(line) for line in workspace.answers.open()]  # the answer of record
    assert stored["answer_id"] == answer["answer_id"] and stored["text"] == answer["text"]
    assert main(home + ["rate", "last", "valid", "--comment", "ok", "--user", "ana"]) == 0
    rows = [json.loads(line) for line in workspace.validated.open()]
    assert len(rows) == 1 and rows[0]["user"] == "ana" and rows[0]["answer_id"] == answer["answer_id"]
    assert rows[0]["citations"][0]["page"] == answer["citations"][0]["page"]
    assert rows[0]["retrieved_chunk_ids"] == [c["chunk_id"] for c in answer["sources"]]

    # without --json, the passages being read are named on stderr before the answer's first words
    assert main(home + ["ask", "Qual é o valor total destinado ao edital?", "--generator", "fake:x",
                        "--min-score", "-1"]) == 0
    out = capsys.readouterr()
    assert f"trechos encontrados ({pdf.name}, p. 1" in out.err and "[1]" in out.out
    assert main(home + ["rate", "nope", "invalid"]) == 2
    assert "Nenhuma resposta única com id 'nope'" in capsys.readouterr().err
    assert not workspace.invalid.exists()
    # rated again by its id prefix: the later rating replaces the first
    assert main(home + ["rate", answer["answer_id"][:8], "invalid"]) == 0
    from oracle.feedback import current_ratings

    (current,) = current_ratings(workspace)
    assert current.valid is False and current.answer_id == answer["answer_id"]


def test_errors_are_one_line_in_portuguese(workspace, capsys):
    assert main(["--home", str(workspace.home), "ask", "?", "--name", "missing"]) == 2
    err = capsys.readouterr().err
    assert "não existe" in err and "Traceback" not in err


# --- train ----------------------------------------------------------------------------------
# The same jobs as the "Ajuste fino" tab: submitted with oracle.jobs, run in their own process,
# followed here from their files. Tiny models (tests/tiny_lm.py, tests/tiny_embedder.py).

TINY_LORA = ["--rank", "4", "--alpha", "8", "--max-steps", "3", "--grad-accum", "1", "--save-steps", "100",
             "--bf16", "off", "--max-seq-len", "512", "--k-distractors", "2", "--eval-fraction", "0.2",
             "--lr", "1e-2", "--warmup-ratio", "0"]


@pytest.fixture
def offline_fx(monkeypatch):
    """The exchange-rate request fails at once (closed port): the fallback rate is used."""
    monkeypatch.setenv("ORACLE_FX_URL", "http://127.0.0.1:9/")


def test_train_options_come_from_the_config_dataclasses(capsys):
    from oracle.training.embedding import EmbedTrainConfig
    from oracle.training.lora import LoraTrainConfig

    for action, cls in (("lora", LoraTrainConfig), ("embedder", EmbedTrainConfig)):
        with pytest.raises(SystemExit) as exit_:
            main(["train", action, "--help"])
        assert exit_.value.code == 0
        text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
        for f in fields(cls):
            assert "--" + f.name.replace("_", "-") in text, f.name
            assert " ".join(f.metadata["help"].split())[:30] in text, f.name  # the field's own help text
        assert "--lr" in text and "--qa-file" in text and "--no-ratings" in text and "--estimate" in text
    args = cli.build_parser().parse_args(["train", "lora", "--lr", "3e-4", "--no-cite-sources", "--epochs", "2"])
    cfg = cli._config(LoraTrainConfig, args)
    assert cfg.learning_rate == 3e-4 and cfg.cite_sources is False and cfg.epochs == 2.0 and cfg.rank == 8


def _option(parser, dest: str):
    """The first of the parser's actions that store into ``dest``."""
    return next(a for a in parser._actions if a.dest == dest)


def test_config_options_keep_names_defaults_types_and_help():
    """``_add_config_args`` (kept over transformers.HfArgumentParser, issue 9: bench/bench_cli_start.py):
    one ``--kebab-case`` option per chosen field, typed and defaulted by the dataclass, with its help."""
    import argparse

    from oracle.config import RAGConfig

    chosen = ["top_k", "min_score", "hybrid", "prompt"]
    parser = argparse.ArgumentParser(prog="t")
    cli._add_config_args(parser, RAGConfig, chosen)
    by_field = {f.name: f for f in fields(RAGConfig)}
    assert sorted(a.dest for a in parser._actions if a.dest != "help") == sorted(chosen)  # only the subset
    top_k = _option(parser, "top_k")
    assert top_k.option_strings == ["--top-k"] and top_k.type is int and top_k.default == 4
    assert top_k.help == by_field["top_k"].metadata["help"] + " (default: 4)"
    min_score = _option(parser, "min_score")  # float | None: typed float, shown as its cli_default
    assert min_score.type is float and min_score.default is None
    assert min_score.help.endswith("(default: the index's)")
    hybrid = _option(parser, "hybrid")
    assert hybrid.option_strings == ["--hybrid", "--no-hybrid"] and hybrid.default is True
    prompt = _option(parser, "prompt")
    assert prompt.type is str and prompt.default == "v1"
    assert parser.parse_args([]) == argparse.Namespace(top_k=4, min_score=None, hybrid=True, prompt="v1")
    args = parser.parse_args(["--top-k", "7", "--min-score", "0.5", "--no-hybrid", "--prompt", "v3"])
    cfg = cli._config(RAGConfig, args)
    assert (cfg.top_k, cfg.min_score, cfg.hybrid, cfg.prompt) == (7, 0.5, False, "v3")
    with pytest.raises(SystemExit):  # int-typed: argparse refuses a float before RAGConfig sees it
        parser.parse_args(["--top-k", "2.5"])
    text = " ".join(parser.format_help().split())  # "%" in help texts is escaped: formatting works
    assert "--top-k TOP_K" in text and "--hybrid, --no-hybrid" in text and "--top_k" not in text

    # The real sub-commands: the same option on each, its default the dataclass's.
    def commands(p: argparse.ArgumentParser) -> dict:
        return next(a for a in p._actions if isinstance(a, argparse._SubParsersAction)).choices

    sub = commands(cli.build_parser())
    for command in ("ask", "demo", "eval"):
        assert _option(sub[command], "top_k").default == RAGConfig().top_k, command
    lora = commands(sub["train"])["lora"]
    assert _option(lora, "learning_rate").option_strings == ["--learning-rate", "--lr"]


def test_train_errors_are_one_line_and_start_no_job(workspace, capsys, monkeypatch):
    home = ["--home", str(workspace.home)]
    assert main(home + ["train", "lora", "--base", "x"]) == 2  # no QA data at all
    err = capsys.readouterr().err
    assert "Não há exemplos de treino" in err and "python -m oracle qa" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert jobs.list_jobs(workspace) == []

    from test_training import build_workspace

    build_workspace(workspace, 6)
    assert main(home + ["train", "lora", "--rank", "0"]) == 2
    assert "Configuração inválida" in capsys.readouterr().err
    assert main(home + ["train", "lora", "--qa-file", "nope.qa.jsonl"]) == 2
    err = capsys.readouterr().err
    assert "nope.qa.jsonl" in err and "manual-0001.qa.jsonl" in err  # says what exists
    assert main(home + ["train", "embedder", "--index", "missing"]) == 2  # the embedder needs an index
    assert "'missing' não existe" in capsys.readouterr().err
    assert main(home + ["train", "resume", "no-such-job"]) == 2
    assert main(home + ["train", "merge", "no-such-adapter"]) == 2
    assert jobs.list_jobs(workspace) == []
    monkeypatch.setenv("ORACLE_LANG", "en")
    assert main(home + ["train", "lora", "--no-qa", "--no-ratings"]) == 2
    assert "There are no training examples" in capsys.readouterr().err


def test_train_lora_end_to_end(workspace, tiny_lm_dir, capsys, offline_fx, tmp_path):
    from test_training import build_workspace
    from tiny_embedder import tiny_embedder_path

    build_workspace(workspace, 16, embedder=tiny_embedder_path())
    home = ["--home", str(workspace.home)]

    # --estimate: two real steps timed here, extrapolated; no job, no adapter
    assert main(home + ["train", "lora", "--base", tiny_lm_dir, "--estimate", "--json", *TINY_LORA]) == 0
    est = json.loads(capsys.readouterr().out)
    assert est["steps"] == 3 and est["tokens_per_s"] > 0 and est["rate_source"] == "fallback" and est["brl"] > 0
    assert main(home + ["train", "lora", "--base", tiny_lm_dir, "--estimate", *TINY_LORA]) == 0
    assert "Estimativa:" in capsys.readouterr().out
    assert jobs.list_jobs(workspace) == [] and not (workspace.adapters / "cli-adapter").exists()

    # a real run: a job in its own process, followed until it completes
    assert main(home + ["train", "lora", "--base", tiny_lm_dir, "--name", "cli-adapter", *TINY_LORA]) == 0
    out = capsys.readouterr()
    folder = workspace.adapters / "cli-adapter"
    assert (folder / "adapter_model.safetensors").exists() and (folder / "adapter_config.json").exists()
    info = json.loads((folder / "train.json").read_text())
    assert info["kind"] == "lora" and info["hyperparameters"]["rank"] == 4 and info["metrics"]["steps"] == 3
    assert info["hyperparameters"]["learning_rate"] == 1e-2 and info["data"]["files"]
    progress = [line for line in out.err.splitlines() if line.startswith("[lora] ")]
    assert any(line.startswith("[lora] 1/3") and "loss" in line and "tokens/s" in line for line in progress)
    assert any(line.startswith("[lora] 3/3") for line in progress) and any("eval_loss" in line for line in progress)
    assert "Dados: 16 exemplos" in out.err and "Tarefa " in out.err
    assert "Adaptador 'cli-adapter' salvo" in out.out and str(folder) in out.out and "--adapter" in out.out
    (status,) = jobs.list_jobs(workspace)
    assert status.kind == "lora" and status.state == jobs.COMPLETED and status.name == "cli-adapter"

    # train list: finished runs with their metrics
    assert main(home + ["train", "list"]) == 0
    listed = capsys.readouterr().out
    assert "cli-adapter" in listed and "[lora]" in listed and "eval_loss" in listed and "R$" in listed
    assert main(home + ["train", "list", "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert runs[0]["name"] == "cli-adapter" and runs[0]["metrics"]["eval_loss"] == pytest.approx(
        info["metrics"]["eval_loss"])
    assert main(home + ["train", "jobs"]) == 0
    assert status.job_id in capsys.readouterr().out

    # export: the RAFT training examples, as trainers read them
    target = tmp_path / "train.sharegpt.jsonl"
    assert main(home + ["train", "export", "--format", "sharegpt", "--out", str(target), "--eval-fraction", "0.2"]) == 0
    rows = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == info["data"]["n_train"]
    assert rows[0]["conversations"][0]["from"] == "human" and "Fonte 1" in rows[0]["conversations"][0]["value"]
    assert rows[0]["conversations"][-1]["from"] == "gpt" and rows[0]["system"]
    assert str(target) in capsys.readouterr().out and not Path(str(target) + ".lock").exists()


def test_follow_ctrl_c_cancels_the_job_and_resume_continues(workspace, capsys, monkeypatch):
    status = jobs.submit(workspace, SelftestJob(steps=40, sleep_s=0.05), name="s")
    real_pause = cli._pause

    def pause(seconds):  # Ctrl-C once the job has done a few steps
        if jobs.get_job(workspace, status.job_id).step >= 3 and not getattr(pause, "fired", False):
            pause.fired = True
            raise KeyboardInterrupt
        real_pause(0.05)

    monkeypatch.setattr(cli, "_pause", pause)
    home = ["--home", str(workspace.home)]
    assert main(home + ["train", "follow", "last"]) == 130
    err = capsys.readouterr().err
    stopped = jobs.get_job(workspace, status.job_id)
    assert stopped.state == jobs.CANCELLED and stopped.resumable and 3 <= stopped.step < 40
    assert f"python -m oracle train resume {status.job_id}" in err and "[selftest] 1/40" in err

    assert main(home + ["train", "resume", status.job_id[:-2]]) == 0  # a unique prefix is enough
    err = capsys.readouterr().err
    done = jobs.get_job(workspace, status.job_id)
    assert done.state == jobs.COMPLETED and done.attempts == 2 and "[selftest] 40/40" in err
    assert f"[selftest] {stopped.step + 1}/40" in err  # continued from the checkpoint
    assert "[selftest] 1/40" not in err  # only this attempt's lines are shown
    steps = [r["step"] for r in jobs.read_log(workspace, status.job_id)]
    assert steps == list(range(1, 41))

    failing = jobs.submit(workspace, SelftestJob(steps=3, fail_at=2, sleep_s=0.0))
    assert main(home + ["train", "follow", failing.job_id]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "falhou" in err[-1] and "selftest failure at step 2" in err[-1] and "process.log" in err[-1]


def test_failed_training_job_reports_the_translated_error(workspace, tiny_lm_dir, capsys, offline_fx):
    from test_training import build_workspace

    build_workspace(workspace, 6)  # QA pairs, but no index and no documents: no gold chunk anywhere
    assert main(["--home", str(workspace.home), "train", "lora", "--base", tiny_lm_dir, *TINY_LORA]) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "falhou" in last and "Não há exemplos de treino" in last and "Traceback" not in last
    assert jobs.list_jobs(workspace)[0].state == jobs.FAILED


def test_train_embedder_then_reindex(workspace, capsys):
    from test_training import build_workspace
    from tiny_embedder import tiny_embedder_path

    from oracle.index import load_index

    build_workspace(workspace, 16, embedder=tiny_embedder_path())
    home = ["--home", str(workspace.home)]
    assert main(home + ["train", "embedder", "--estimate", "--batch-size", "4", "--epochs", "2",
                        "--eval-fraction", "0.3"]) == 0
    assert "pares de treino" in capsys.readouterr().out
    assert main(home + ["train", "embedder", "--name", "cli-emb", "--epochs", "1", "--batch-size", "4",
                        "--eval-fraction", "0.3", "--lr", "1e-3", "--reindex"]) == 0
    out = capsys.readouterr()
    folder = workspace.embedders / "cli-emb"  # embedders have their own folder
    info = json.loads((folder / "train.json").read_text())
    assert info["kind"] == "embedding" and (folder / "modules.json").exists()
    assert "mrr@10" in info["metrics"]["after"] and "Antes:" in out.out and "mrr@10" in out.out
    assert "Índice 'default' refeito" in out.out and "[embedding]" in out.err and "[reindex]" in out.err
    assert load_index(workspace, "default", cache=False).embedder == str(folder)
    assert (workspace.indexes / "default.prev").is_dir()
    assert [s.kind for s in jobs.list_jobs(workspace)] == ["reindex", "embedding"]
    assert main(home + ["train", "list"]) == 0
    assert "cli-emb  [embedding]" in capsys.readouterr().out
    assert main(home + ["train", "reindex", "--embedder", str(workspace.data_qa)]) == 2  # a folder, not a model
    assert "modules.json" in capsys.readouterr().err and len(jobs.list_jobs(workspace)) == 2


def test_min_score_flag_defaults_to_the_indexs_gate():
    from oracle import cli

    parser = cli.build_parser()
    assert parser.parse_args(["ask", "Qual é o valor?"]).min_score is None
    args = parser.parse_args(["ask", "Qual é o valor?", "--min-score", "0.3"])
    assert args.min_score == 0.3 and cli._config(cli.C.RAGConfig, args).min_score == 0.3
    assert cli._config(cli.C.RAGConfig, parser.parse_args(["ask", "x"])).min_score is None
