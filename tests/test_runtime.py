"""Allocator settings for long runs: what they put in the environment, and that the command applies them."""

from __future__ import annotations

import os
import subprocess
import sys

from critmin.runtime import JEMALLOC_CONF_VARIABLE, JEMALLOC_DECAY, keep_polars_memory, reuse_freed_memory


def test_jemalloc_decay_goes_first_so_a_callers_own_setting_wins() -> None:
    env: dict[str, str] = {}
    assert keep_polars_memory(env)
    assert env[JEMALLOC_CONF_VARIABLE] == JEMALLOC_DECAY
    env = {JEMALLOC_CONF_VARIABLE: "dirty_decay_ms:0"}
    keep_polars_memory(env)
    assert env[JEMALLOC_CONF_VARIABLE] == f"{JEMALLOC_DECAY},dirty_decay_ms:0"
    keep_polars_memory(env)  # idempotent
    assert env[JEMALLOC_CONF_VARIABLE].count("dirty_decay_ms:10000") == 1


def test_too_late_once_polars_is_loaded() -> None:
    import polars  # noqa: F401  (the test process has it loaded)

    assert keep_polars_memory() is False


def test_glibc_thresholds_are_accepted_on_linux() -> None:
    assert reuse_freed_memory() is sys.platform.startswith("linux")


def test_the_command_sets_polars_allocator_before_polars_loads() -> None:
    # Polars appends the caller's setting to its own defaults, so ours must come last to take effect.
    code = "import os, critmin.cli.app, polars; print(os.environ['_RJEM_MALLOC_CONF'])"
    env = {k: v for k, v in os.environ.items() if k != JEMALLOC_CONF_VARIABLE}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith(JEMALLOC_DECAY)
    assert "dirty_decay_ms:500" in out.stdout  # Polars' default, overridden by what follows it
