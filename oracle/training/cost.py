"""What a fine-tuning run costs: an estimate before it (from a measured step), the bill after it.

Before a run, :func:`estimate` extrapolates a measured step (tokens per second on this
machine, see :func:`oracle.training.lora.measure_step`) to the whole run: tokens, optimizer
steps, seconds. After it, :func:`run_cost` is wall time x the hourly price. Prices are in US
dollars per hour (:class:`CostConfig`) and are converted to Brazilian reais with the rate of
a public exchange-rate API (:func:`usd_to_brl`, 3 s timeout); when the API cannot be reached
(always, on a machine without internet), the configured fallback rate is used and the result
says so (``rate_source = "fallback"``).
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from oracle.errors import ConfigError

logger = logging.getLogger(__name__)

DEFAULT_RATE_URL = "https://open.er-api.com/v6/latest/USD"
"""Free, key-less JSON API: ``{"result": "success", "rates": {"BRL": 5.4, ...}}``."""

_RATE_CACHE: dict[str, tuple[float, float, str]] = {}  # url -> (monotonic time, rate, source)
_RATE_LOCK = threading.Lock()
RATE_CACHE_S = 3600.0


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


@dataclass
class CostConfig:
    """Prices and currency conversion.

    Environment overrides: ``ORACLE_HOURLY_PRICE_USD``, ``ORACLE_USD_BRL``, ``ORACLE_FX_URL``.
    """

    hourly_price_usd: float = field(
        default_factory=lambda: _env_float("ORACLE_HOURLY_PRICE_USD", 0.10),
        metadata={"help": "Price of the machine per hour, in US dollars (e.g. 0.10 for a 2-core CPU "
                  "instance, ~2-4 for one H100). Env ORACLE_HOURLY_PRICE_USD."},
    )
    fallback_usd_brl: float = field(
        default_factory=lambda: _env_float("ORACLE_USD_BRL", 5.40),
        metadata={"help": "BRL per USD used when the exchange-rate API cannot be reached. Env ORACLE_USD_BRL."},
    )
    rate_url: str = field(
        default_factory=lambda: os.environ.get("ORACLE_FX_URL", DEFAULT_RATE_URL),
        metadata={"help": "Public exchange-rate API returning JSON with rates.BRL for USD. Env ORACLE_FX_URL."},
    )
    timeout_s: float = field(default=3.0, metadata={"help": "Timeout of the exchange-rate request, seconds."})

    def __post_init__(self) -> None:
        if self.hourly_price_usd < 0:
            raise ConfigError.non_negative("hourly_price_usd", self.hourly_price_usd)
        if self.fallback_usd_brl <= 0:
            raise ConfigError.positive("fallback_usd_brl", self.fallback_usd_brl)
        if self.timeout_s <= 0:
            raise ConfigError.positive("timeout_s", self.timeout_s)


def usd_to_brl(cfg: CostConfig | None = None, use_cache: bool = True) -> tuple[float, str]:
    """BRL per USD and where it came from: ``(rate, "api")`` or ``(fallback, "fallback")``.

    One GET to ``cfg.rate_url`` with ``cfg.timeout_s``; any failure (no network, timeout, bad
    JSON, missing BRL) gives the fallback rate and a log line, never an exception. Successful
    answers are cached in this process for an hour.
    """
    cfg = cfg or CostConfig()
    now = time.monotonic()
    with _RATE_LOCK:
        cached = _RATE_CACHE.get(cfg.rate_url)
        if use_cache and cached and now - cached[0] < RATE_CACHE_S:
            return cached[1], cached[2]
    try:
        req = urllib.request.Request(cfg.rate_url, headers={"Accept": "application/json", "User-Agent": "oracle"})
        with urllib.request.urlopen(req, timeout=cfg.timeout_s) as resp:  # noqa: S310 - https URL from config
            data = json.loads(resp.read(1 << 20).decode("utf-8"))
        rate = float(data["rates"]["BRL"])
        if not math.isfinite(rate) or rate <= 0:
            raise ValueError(f"bad rate {rate}")
    except Exception as err:  # noqa: BLE001 - offline is a normal case here
        logger.info("exchange rate unavailable (%s); using fallback %.4f BRL/USD", type(err).__name__, cfg.fallback_usd_brl)
        return cfg.fallback_usd_brl, "fallback"
    with _RATE_LOCK:
        _RATE_CACHE[cfg.rate_url] = (now, rate, "api")
    return rate, "api"


def _money(seconds: float, cfg: CostConfig, convert: bool = True) -> dict[str, Any]:
    usd = seconds / 3600.0 * cfg.hourly_price_usd
    out: dict[str, Any] = {"hourly_price_usd": cfg.hourly_price_usd, "usd": round(usd, 6)}
    if convert:
        rate, source = usd_to_brl(cfg)
        out.update({"usd_brl": rate, "rate_source": source, "brl": round(usd * rate, 6)})
    return out


def estimate(
    n_train_tokens: int,
    n_examples: int,
    tokens_per_s: float,
    epochs: float,
    batch_size: int,
    grad_accum: int,
    n_eval_tokens: int = 0,
    eval_tokens_per_s: float | None = None,
    overhead_s: float = 30.0,
    cfg: CostConfig | None = None,
    convert: bool = True,
) -> dict[str, Any]:
    """Extrapolate a measured training speed to a whole run.

    Args:
        n_train_tokens: tokens of one pass over the training examples (prompt + answer).
        n_examples: training examples per epoch.
        tokens_per_s: measured training throughput (forward + backward), tokens/second.
        epochs: passes over the data.
        batch_size, grad_accum: examples per device step and steps per optimizer step.
        n_eval_tokens: tokens of the held-out set (evaluated before and after training).
        eval_tokens_per_s: forward-only speed (default 3 x ``tokens_per_s``).
        overhead_s: model loading and saving, seconds.
        cfg: prices; ``convert`` False skips the exchange-rate request.

    Returns:
        ``{"tokens", "steps", "seconds", "usd", "brl", "usd_brl", "rate_source", ...}``;
        ``steps`` are optimizer steps, ``seconds`` wall time.

    Raises:
        ConfigError: non-positive speed, batch size or accumulation.
    """
    for name, value in (("tokens_per_s", tokens_per_s), ("batch_size", batch_size), ("grad_accum", grad_accum)):
        if value <= 0:
            raise ConfigError.positive(name, value)
    cfg = cfg or CostConfig()
    tokens = int(n_train_tokens * epochs)
    # optimizer steps counted as transformers' Trainer does: ceil(batches / grad_accum) per epoch
    per_epoch = max(1, math.ceil(math.ceil(n_examples / batch_size) / grad_accum)) if n_examples else 0
    steps = int(math.ceil(round(epochs * per_epoch, 6)))
    eval_speed = eval_tokens_per_s or 3.0 * tokens_per_s
    seconds = tokens / tokens_per_s + 2 * n_eval_tokens / eval_speed + overhead_s
    return {"tokens": tokens, "steps": steps, "seconds": round(seconds, 1), "tokens_per_s": round(tokens_per_s, 2),
            **_money(seconds, cfg, convert)}


def run_cost(wall_time_s: float, cfg: CostConfig | None = None, convert: bool = True) -> dict[str, Any]:
    """The bill of a finished run: ``wall_time_s`` x hourly price, in USD and BRL.

    Returns ``{"wall_time_s", "hourly_price_usd", "usd", "usd_brl", "rate_source", "brl"}``.
    """
    cfg = cfg or CostConfig()
    return {"wall_time_s": round(wall_time_s, 1), **_money(wall_time_s, cfg, convert)}
