"""The user's keymap (memtui.tui.keymap): every binding has a kebab-case id listed in
the catalogue, the config's keymap remaps keys, and a wrong entry is one clear toast."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest
from textual.binding import Binding
from textual.dom import DOMNode

import memtui.tui
from memtui.config import update_config
from memtui.tui.keymap import BINDINGS, key_problem, keys_help, read_keymap
from memtui.tui.screens.help import HelpScreen
from tests.tui.conftest import SIZE, toasts, wait_for_screen, wait_until

KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def all_bindings() -> list[Binding]:
    """Every Binding declared by a class of memtui's TUI (all its modules imported)."""
    found: list[Binding] = []
    for info in pkgutil.walk_packages(memtui.tui.__path__, "memtui.tui."):
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if inspect.isclass(obj) and issubclass(obj, DOMNode) and obj.__module__ == info.name:
                for binding in obj.__dict__.get("BINDINGS", []):
                    assert isinstance(binding, Binding), f"{obj.__name__}: {binding!r} has no id"
                    found.append(binding)
    return found


def test_every_binding_has_a_kebab_case_id_and_is_in_the_catalogue() -> None:
    bindings = all_bindings()
    for binding in bindings:
        assert binding.id is not None and KEBAB.match(binding.id), binding
    assert sorted((b.id or "", b.key) for b in bindings) == sorted(
        (info.id, info.keys) for info in BINDINGS
    )
    assert len({info.id for info in BINDINGS}) == len(BINDINGS)


@pytest.mark.parametrize("key", ["ctrl+s", "f2", "question_mark", "A", "1", "shift+tab", "+"])
def test_keys_textual_can_bind(key: str) -> None:
    assert key_problem(key) is None


@pytest.mark.parametrize(
    ("key", "said"),
    [
        ("", "an empty key"),
        ("ctrl+", "names no key after its modifiers"),
        ("cmd+s", "unknown modifier"),
        ("ctrl+sss", "is not a key name"),
        ("page down", "is not a key name"),
    ],
)
def test_keys_that_are_not_keys_are_named(key: str, said: str) -> None:
    problem = key_problem(key)
    assert problem is not None and said in problem


def test_read_keymap_keeps_good_entries_and_names_bad_ones() -> None:
    keymap = read_keymap(
        {
            "keymap": {
                "working-memory-save": " ctrl+w , f2",
                "working_memory.save": "ctrl+s",
                "quit": "ctrl+",
                "refresh": 5,
            }
        }
    )
    assert keymap.bindings == {"working-memory-save": "ctrl+w,f2"}
    message = keymap.message()
    assert message is not None and "\n" not in message
    assert "unknown binding id 'working_memory.save' (did you mean 'working-memory-save'?)" in (
        message
    )
    assert "'quit': 'ctrl+' names no key after its modifiers" in message
    assert "'refresh': keys must be a string" in message
    assert read_keymap({}).message() is None
    assert read_keymap({"keymap": ["quit"]}).bindings == {}


def test_the_help_lists_every_id_with_the_users_keys() -> None:
    text = keys_help({"refresh": "f5"})
    for info in BINDINGS:
        assert f"`{info.id}`" in text
    assert "`f5` (yours; default `r`)" in text


async def test_a_remapped_key_works_and_a_bad_entry_is_one_toast(small_store, make_app, settle):
    update_config(keymap={"refresh": "f5", "nonsense-id": "x", "quit": "cmd+q"})
    app = make_app(small_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        problems = [t for t in toasts(app) if t.startswith("Keymap: ")]
        assert len(problems) == 1
        assert "unknown binding id 'nonsense-id'" in problems[0]
        assert "'quit': 'cmd+q' has an unknown modifier" in problems[0]
        await pilot.press("r")  # no longer bound
        await settle(pilot)
        assert "Reloaded." not in toasts(app)
        await pilot.press("f5")
        await wait_until(pilot, lambda: "Reloaded." in toasts(app), what="f5 reloads")
        await pilot.press("q")  # the bad entry was ignored: q still quits
        await wait_until(pilot, lambda: not app.is_running, what="q quits")


async def test_help_shows_the_remapped_key(small_store, make_app, settle):
    update_config(keymap={"refresh": "f5"})
    app = make_app(small_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        help_screen = await wait_for_screen(pilot, HelpScreen)
        assert "`refresh` | `f5` (yours; default `r`)" in help_screen.markdown
