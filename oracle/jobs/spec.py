"""The typed parameters of a job: :class:`JobSpec`, the base of one dataclass per job kind.

A job's parameters are a dataclass, not a dict of unknown shape: the app and the command line
build the same object, :func:`oracle.jobs.submit` writes :meth:`JobSpec.to_params` into
``job.json`` next to its ``kind``, and the job process rebuilds the same class with
:meth:`JobSpec.from_params` before it calls the kind's runner. The classes of the kinds live
beside their runners (:mod:`oracle.training.specs`), so this package knows the kinds by name
only and imports no training code.

``params`` keep the shape they had as plain dicts (nested configs as JSON objects), so a
``job.json`` written by an older version still reads; keys a class does not know are ignored
(and logged), as in :meth:`oracle.schema.Record.from_dict`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar, TypeVar

logger = logging.getLogger(__name__)

S = TypeVar("S", bound="JobSpec")


def _plain(value: Any) -> Any:
    """``value`` as JSON data: a config with ``to_dict()`` (or any dataclass) becomes its dict,
    a Path its ``str``, tuples lists; at any depth."""
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict) and not isinstance(value, type):
        return _plain(to_dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


class JobSpec:
    """Base of the parameters of one job kind (subclasses are dataclasses).

    Subclasses set:

    * ``kind``: the job kind's name, one of :data:`oracle.jobs.KINDS`;
    * ``nested``: ``{field name: builder}`` for fields holding a config dataclass, where
      ``builder(dict) -> config`` rebuilds it (e.g. ``LoraTrainConfig.from_dict``); a field
      whose value in ``job.json`` is ``null`` stays None.

    Never put secrets in a spec: ``job.json`` is a plain file.
    """

    kind: ClassVar[str] = ""
    nested: ClassVar[dict[str, Callable[[dict[str, Any]], Any]]] = {}

    def to_params(self) -> dict[str, Any]:
        """The spec as JSON-ready ``params`` of ``job.json`` (nested configs as dicts)."""
        if not dataclasses.is_dataclass(self):
            raise TypeError(f"{type(self).__name__} is not a dataclass")
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_params(cls: type[S], params: Mapping[str, Any]) -> S:
        """Rebuild the spec from ``params`` (:meth:`to_params`, or an older ``job.json``'s dict).

        Raises:
            TypeError: a required field is missing.
            oracle.errors.ConfigError: a nested config's value is out of range.
        """
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(params) - names)
        if unknown:
            logger.info("%s: ignoring unknown job parameters %s", cls.__name__, ", ".join(unknown))
        kwargs = {k: v for k, v in params.items() if k in names}
        for name, build in cls.nested.items():
            if isinstance(kwargs.get(name), Mapping):
                kwargs[name] = build(dict(kwargs[name]))
        return cls(**kwargs)
