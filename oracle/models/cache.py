"""The conversion cache: bundled source files located in their packages, converted once into
``<cache_dir>/models/<name>/`` under a file lock, with a marker file.

A conversion is written to a temporary folder and renamed into place (a crash never leaves half a
model); the marker ``oracle_model.json`` records the source files, package versions, sha256 and
:data:`CONVERTER_VERSION`, and a cached folder is reused until one of them changes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from oracle.errors import ModelIntegrityError, ModelNotFoundError
from oracle.models.catalogue import BundledModel

logger = logging.getLogger(__name__)

CONVERTER_VERSION = 2
"""Bump when a converter's output changes: every cached conversion is then redone once."""

MARKER_FILE = "oracle_model.json"


def cache_dir() -> Path:
    """Folder of converted models: ``ORACLE_CACHE`` or ``platformdirs.user_cache_dir('oracle')``.

    Not created here; conversions create ``<cache_dir>/models/<name>/`` on first use.
    """
    env = os.environ.get("ORACLE_CACHE")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("oracle"))


def _locate(spec: BundledModel) -> list[tuple[Path, str]]:
    """``[(path, package version), ...]`` of the model's source files, in order.

    Raises:
        ModelNotFoundError: a package is not installed.
        ModelIntegrityError: a package is installed but a file is missing.
    """
    from importlib import metadata

    found: list[tuple[Path, str]] = []
    for f in spec.files:
        try:
            dist = metadata.distribution(f.package)
        except metadata.PackageNotFoundError:
            raise ModelNotFoundError("err.model_package_missing", name=spec.name, package=f.package) from None
        path = Path(str(dist.locate_file(f.path)))
        if not path.exists():
            raise ModelIntegrityError("err.model_integrity.missing_file", name=spec.name, package=f.package, path=f.path)
        found.append((path, dist.version))
    return found


def _fingerprint(sources: list[tuple[Path, str]]) -> list[dict[str, Any]]:
    """What identifies the sources cheaply (no hashing): name, package version, size, mtime."""
    out = []
    for path, version in sources:
        st = path.stat()
        out.append({"file": path.name, "version": version, "size": st.st_size, "mtime_ns": st.st_mtime_ns})
    return out


def read_marker(folder: Path) -> dict[str, Any] | None:
    """The ``oracle_model.json`` marker of a converted bundled model folder (its ``name`` and
    source fingerprint), or None when there is none or it cannot be read."""
    try:
        return json.loads((folder / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _cache_valid(folder: Path, fingerprint: list[dict[str, Any]]) -> bool:
    marker = read_marker(folder)
    return (
        marker is not None
        and marker.get("converter_version") == CONVERTER_VERSION
        and marker.get("sources") == fingerprint
    )


Converter = Callable[[BundledModel, list[Path], Path], str]


def _converted(spec: BundledModel, converter: Converter, folder: str | None = None) -> Path:
    """The cached conversion of ``spec``; converts (once, under a lock) when missing or stale.

    ``converter(spec, source_paths, out_dir) -> sha256 hex`` writes the model into ``out_dir``
    (an empty temporary folder) and returns the digest of the sources it read. ``folder``: the
    cache folder's name (default ``spec.name``), for a second form of the same model.
    """
    sources = _locate(spec)
    fingerprint = _fingerprint(sources)
    root = cache_dir() / "models"
    folder = folder or spec.name
    out = root / folder
    if _cache_valid(out, fingerprint):
        return out

    from filelock import FileLock

    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root / f"{folder}.lock")):
        if _cache_valid(out, fingerprint):  # another process finished while we waited
            return out
        for pattern in (f".{folder}.tmp-*", f".{folder}.old-*"):  # leftovers of a crash
            for stale in root.glob(pattern):
                shutil.rmtree(stale, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder}.tmp-", dir=root))
        try:
            logger.info("Converting bundled model %s into %s (once)", spec.name, out)
            t0 = time.monotonic()
            digest = converter(spec, [p for p, _ in sources], tmp)
            seconds = time.monotonic() - t0
            marker = {
                "name": spec.name,
                "kind": spec.kind,
                "converter_version": CONVERTER_VERSION,
                "sources": fingerprint,
                "packages": sorted({f.package for f in spec.files}),
                "sha256": digest,
                "upstream": spec.upstream,
                "licence": spec.licence,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "seconds": round(seconds, 1),
            }
            (tmp / MARKER_FILE).write_text(json.dumps(marker, indent=2, sort_keys=True), encoding="utf-8")
            os.chmod(tmp, 0o755)  # mkdtemp makes it private; the cache may be shared
            if out.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{folder}.old-", dir=root))
                os.rmdir(old)  # a free name for the previous version
                os.replace(out, old)
                os.replace(tmp, out)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, out)
            logger.info("Converted %s in %.1f s", spec.name, seconds)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return out


def _sha256_concat(paths: list[Path], dest: Path | None = None, chunk: int = 8 << 20) -> str:
    """sha256 of the files joined in order; also writes the join to ``dest`` when given."""
    h = hashlib.sha256()
    with contextlib.ExitStack() as stack:
        sink = stack.enter_context(open(dest, "wb")) if dest is not None else None
        for p in paths:
            with open(p, "rb") as f:
                while block := f.read(chunk):
                    h.update(block)
                    if sink is not None:
                        sink.write(block)
    return h.hexdigest()


def _check_digest(spec: BundledModel, digest: str) -> None:
    if spec.sha256 and digest != spec.sha256:
        raise ModelIntegrityError(
            "err.model_integrity.checksum", name=spec.name, got=digest[:16], expected=spec.sha256[:16],
            packages=", ".join(sorted({f.package for f in spec.files})),
        )
