"""The bounded PDF reader (issue 11, F1): what the child process costs, and what it saves.

1. Overhead on real PDFs: for each PDF given, the time to read its pages in this process
   (``oracle.pdf_worker.read_pdf_pages``, what ingest did before) against the shared child
   process (``oracle.pdf_worker.read_pdf``, what ingest does now), alternating, median of
   ``--repeat`` runs each; plus the one-off start of the child (Python + PDFium).
2. A generated decompression bomb (``tests/docs.py: make_pdf_bomb``, ~1 MB of upload per
   GiB it inflates to): peak memory before (read in-process, in a fresh Python, uncapped; and
   under an address-space cap, where PDFium aborts the whole process and the valid PDF queued
   after the bomb is never read) and after (``ingest_files([bomb, valid])`` in a fresh Python:
   the parent's peak RSS and the reader's).

Peak memory is ``ru_maxrss`` of each process, read with ``os.wait4`` (children) or
``getrusage`` (self). Prints Markdown for bench/RESULTS.md.

    python bench/bench_pdf_worker.py /work/shared/corpus/*.pdf --bomb-mib 4000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def _run_measured(code: str, *args: str, env: dict | None = None) -> tuple[int, float, float, str]:
    """Run ``python -c code args`` to its end: (exit status, wall seconds, peak RSS in MB, stdout)."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=env)  # fmt: skip
    out = proc.stdout.read().decode() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, time.perf_counter() - start, usage.ru_maxrss / 1024, out


_IN_PROCESS = """
import sys
sys.path.insert(0, sys.argv[1])
from oracle.pdf_worker import read_pdf_pages
for path in sys.argv[3:]:
    pages = read_pdf_pages(open(path, "rb").read())
    print(path, len(pages["texts"]), flush=True)
"""

_CAPPED = """
import resource, sys
limit = int(sys.argv[2]) * 1024 * 1024
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
""" + _IN_PROCESS.replace("import sys\n", "", 1)

_AFTER = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from oracle.config import IngestConfig
from oracle.ingest import ingest_files
start = time.perf_counter()
result = ingest_files(sys.argv[3:], cfg=IngestConfig(pdf_memory_mb=int(sys.argv[2])))
print(json.dumps({
    "seconds": time.perf_counter() - start,
    "outcomes": [[o.name, len(o.document.pages) if o.document else o.error.key] for o in result.outcomes],
    "parent_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "reader_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
}))
"""


def overhead(pdfs: list[Path], repeat: int) -> list[str]:
    from oracle import pdf_worker

    pdf_worker.shutdown()
    t0 = time.perf_counter()
    worker = pdf_worker.PdfWorker(1024)
    worker.start()
    start_s = time.perf_counter() - t0
    lines = [
        "| PDF | pages | size (MB) | in-process (s, median) | child process (s, median) | overhead (ms) | overhead per page (ms) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for path in pdfs:
        data = path.read_bytes()
        inproc, child = [], []
        for _ in range(repeat):  # alternate, so that load from other processes hits both alike
            t = time.perf_counter()
            pages = pdf_worker.read_pdf_pages(data)
            inproc.append(time.perf_counter() - t)
            t = time.perf_counter()
            remote = worker.read(data, timeout_s=120)
            child.append(time.perf_counter() - t)
            assert remote["texts"] == pages["texts"], f"{path.name}: the child read other text"
        a, b = statistics.median(inproc), statistics.median(child)
        n = len(pages["texts"])
        lines.append(f"| {path.name} | {n} | {len(data) / 1e6:.1f} | {a:.3f} | {b:.3f} | {(b - a) * 1000:+.0f} "
                     f"| {(b - a) * 1000 / n:+.2f} |")  # fmt: skip
    worker.close()
    lines.append("")
    lines.append(f"Start of the child (Python + PDFium, once per app process and after each bomb): {start_s:.2f} s.")
    return lines


def bomb(mib: int, cap_mb: int, limit_mb: int) -> list[str]:
    import docs

    folder = Path(tempfile.mkdtemp(prefix="pdf-bomb-"))
    bomb_path = docs.make_pdf_bomb(folder, inflated_mib=mib)
    valid = docs.make_pt_pdf(folder)
    size_mb = bomb_path.stat().st_size / 1e6
    lines = [(f"Bomb: {bomb_path.stat().st_size:,} bytes (one page, /FlateDecode of {mib} MiB of zeros), "
              f"then a valid 3-page PDF."), "",
             "| run | exit status | wall (s) | peak RSS, app process (MB) | peak RSS, PDF reader (MB) | valid PDF read |",
             "|---|---|---:|---:|---:|---|"]  # fmt: skip
    code, wall, peak, out = _run_measured(_IN_PROCESS, str(ROOT), "0", str(bomb_path), str(valid))
    lines.append(f"| before: in-process, no cap | {code} | {wall:.1f} | {peak:,.0f} | (same process) "
                 f"| {'yes' if 'edital' in out else 'no'} |")  # fmt: skip
    code, wall, peak, out = _run_measured(_CAPPED, str(ROOT), str(cap_mb), str(bomb_path), str(valid))
    lines.append(f"| before: in-process, address space capped at {cap_mb} MB | {code} | {wall:.1f} | {peak:,.0f} "
                 f"| (same process) | {'yes' if 'edital' in out else 'no'} |")  # fmt: skip
    code, wall, _, out = _run_measured(_AFTER, str(ROOT), str(limit_mb), str(bomb_path), str(valid))
    report = json.loads(out.strip().splitlines()[-1])
    (_, bomb_outcome), (_, valid_outcome) = report["outcomes"]
    lines.append(f"| after: `ingest_files([bomb, valid])`, reader limit {limit_mb} MB | {code} | {wall:.1f} "
                 f"| {report['parent_mb']:,.0f} | {report['reader_mb']:,.0f} "
                 f"| {'yes, ' + str(valid_outcome) + ' pages' if isinstance(valid_outcome, int) else 'no'}; "
                 f"bomb: `{bomb_outcome}` |")  # fmt: skip
    lines.append("")
    lines.append(f"Upload size {size_mb:.1f} MB.")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pdfs", nargs="*", type=Path, help="Real PDFs for the overhead table.")
    parser.add_argument("--repeat", type=int, default=7, help="Readings of each PDF, each way.")
    parser.add_argument("--bomb-mib", type=int, default=4000, help="MiB the bomb inflates to (~1 MB of file per GiB).")
    parser.add_argument("--cap-mb", type=int, default=2048, help="Address-space cap of the 'before, capped' run.")
    parser.add_argument("--limit-mb", type=int, default=1024, help="The reader's limit in the 'after' run (the default).")
    parser.add_argument("--no-bomb", action="store_true")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs\n")
    if args.pdfs:
        print("\n".join(overhead(args.pdfs, args.repeat)))
        print()
    if not args.no_bomb:
        print("\n".join(bomb(args.bomb_mib, args.cap_mb, args.limit_mb)))


if __name__ == "__main__":
    main()
