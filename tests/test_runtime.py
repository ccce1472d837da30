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


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != JEMALLOC_CONF_VARIABLE}


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], env=_clean_env(), capture_output=True, text=True, timeout=120
    )
    return done.stdout.strip()


def test_importing_the_command_line_changes_nothing_in_the_process() -> None:
    # Polars sets its own allocator default when it loads, so load it first and compare after.
    code = (
        "import os, polars; before = dict(os.environ)\n"
        "import critmin.cli, critmin.cli.app\n"
        "from critmin.cli.app import app\n"
        "import critmin.cli.duty, critmin.cli.serve\n"
        "print(dict(os.environ) == before)"
    )
    assert _run(code) == "True"


def test_importing_the_entry_module_does_not_load_polars() -> None:
    # So the console script can still tune Polars' allocator for the command it is about to run.
    assert _run("import sys, critmin.cli.app; print('polars' in sys.modules)") == "False"


def _env_seen_by(command: list[str]) -> str:
    """The allocator setting inside `critmin COMMAND`, read when the process exits."""
    code = (
        "import atexit, os, sys\n"
        f"sys.argv = ['critmin', *{command!r}]\n"
        "atexit.register(lambda: print(os.environ.get('_RJEM_MALLOC_CONF', '-')))\n"
        "from critmin.cli.app import main\n"
        "main()"
    )
    return _run(code).splitlines()[-1]


def test_a_batch_command_sets_polars_allocator_before_polars_loads() -> None:
    # Polars appends the caller's setting to its own defaults, so ours must come last to take effect.
    seen = _env_seen_by(["risk", "table", "-f", "json"])
    assert seen.endswith(JEMALLOC_DECAY)
    assert "dirty_decay_ms:500" in seen  # Polars' default, overridden by what follows it


def test_serve_and_other_commands_keep_the_default_allocator() -> None:
    for command in (["serve", "--help"], ["policy", "scenarios", "--format", "json"]):
        seen = _env_seen_by(command)
        assert JEMALLOC_DECAY not in seen, command
