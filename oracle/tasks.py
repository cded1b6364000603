"""The in-process tasks now live in :mod:`oracle.jobs.threads`; this name is kept for the
imports that still use it (the app, the tests)."""

from oracle.jobs.threads import (  # noqa: F401
    ACTIVE_STATES,
    FINAL_STATES,
    RUNNER,
    TaskCancelled,
    TaskFn,
    TaskRegistry,
    TaskStatus,
    get_registry,
)
