"""The global options (`--db`, `--server`, `--api-key`, `--version`) work before the
command and after it, at every level: `memtui --db URL keys create`, `memtui keys --db
URL create` and `memtui keys create --db URL` are the same command (issue 9, item 2).

The parser is walked, so a command added later is covered without touching this file.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from memtui.cli import GLOBAL_OPTIONS, build_parser


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _positionals(parser: argparse.ArgumentParser) -> list[str]:
    """A placeholder value for each positional argument the command requires, and the
    first option of each required group (`memtui history --memory X`)."""
    values = [
        "X"
        for action in parser._actions
        if not action.option_strings and not isinstance(action, argparse._SubParsersAction)
    ]
    for group in parser._mutually_exclusive_groups:
        if group.required:
            first = group._group_actions[0]
            values += [first.option_strings[0], *(["X"] if first.nargs != 0 else [])]
    return values


def _command_paths() -> list[tuple[list[str], list[str]]]:
    """Every runnable command as (its words, the positional values it needs)."""
    paths: list[tuple[list[str], list[str]]] = []

    def walk(parser: argparse.ArgumentParser, words: list[str]) -> None:
        children = _subcommands(parser)
        if not children:
            paths.append((words, _positionals(parser)))
            return
        for name, child in children.items():
            walk(child, [*words, name])

    walk(build_parser(), [])
    return paths


COMMAND_PATHS = _command_paths()
OPTION_DESTS = {flag: flag.lstrip("-").replace("-", "_") for flag, _, _ in GLOBAL_OPTIONS}


def test_every_command_is_walked() -> None:
    found = {" ".join(words) for words, _ in COMMAND_PATHS}
    assert {"demo", "sessions", "context", "serve", "keys create", "keys list", "keys revoke"} <= (
        found
    )


@pytest.mark.parametrize("flag", sorted(OPTION_DESTS))
@pytest.mark.parametrize(("words", "positionals"), COMMAND_PATHS, ids=lambda v: " ".join(v))
def test_a_global_option_works_in_every_position(
    words: list[str], positionals: list[str], flag: str
) -> None:
    parser = build_parser()
    value = "sqlite:////tmp/x.db" if flag == "--db" else "http://127.0.0.1:1"
    dest = OPTION_DESTS[flag]
    # Before the command, after each command word, and after the positionals.
    for at in range(len(words) + 1):
        argv = [*words[:at], flag, value, *words[at:], *positionals]
        assert getattr(parser.parse_args(argv), dest) == value, argv
    argv = [*words, *positionals, flag, value]
    assert getattr(parser.parse_args(argv), dest) == value, argv


@pytest.mark.parametrize(("words", "positionals"), COMMAND_PATHS, ids=lambda v: " ".join(v))
def test_unset_global_options_are_none_everywhere(words: list[str], positionals: list[str]) -> None:
    args = build_parser().parse_args([*words, *positionals])
    for dest in OPTION_DESTS.values():
        assert getattr(args, dest) is None


def test_the_later_position_wins() -> None:
    args = build_parser().parse_args(["--db", "sqlite:///a.db", "keys", "list", "--db", "b"])
    assert args.db == "b"


def memtui(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "memtui", *args], capture_output=True, text=True, timeout=60
    )


def test_keys_create_with_db_after_the_action_as_the_server_hint_says(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'keys.db'}"
    created = memtui("keys", "create", "--db", db, "--name", "after")
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip().splitlines()[-1].startswith("mtk_")
    for argv in (
        ("keys", "list", "--db", db),
        ("keys", "--db", db, "list"),
        ("--db", db, "keys", "list"),
    ):
        listed = memtui(*argv)
        assert listed.returncode == 0, listed.stderr
        assert "after" in listed.stdout


def test_sessions_and_version_after_the_command(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    listed = memtui("sessions", "--json", "--db", db)
    assert listed.returncode == 0, listed.stderr
    assert (tmp_path / "s.db").is_file()  # it really used that store
    version = memtui("sessions", "--version")
    assert version.returncode == 0 and version.stdout.startswith("memtui ")


@pytest.mark.parametrize("command", [["serve"], ["keys", "list"]])
@pytest.mark.parametrize("flag", ["--server", "--api-key"])
def test_client_options_given_to_local_store_commands_are_refused(
    tmp_path: Path, command: list[str], flag: str
) -> None:
    """serve and keys work on a local store; a --server would be silently ignored."""
    db = f"sqlite:///{tmp_path / 'local.db'}"
    done = memtui(*command, "--db", db, flag, "http://127.0.0.1:1")
    assert done.returncode == 2
    assert flag in done.stderr and "--db" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert not (tmp_path / "local.db").exists()
