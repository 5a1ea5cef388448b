"""What `memtui serve` and `memtui keys` share: both work on a local store (--db), not
on a server, and report failures as one line on stderr with exit code 2."""

from __future__ import annotations

import argparse
import os
import re
import sys

from memtui.config import default_db_url, load_config


def resolve_db_url(db: str | None) -> str:
    return db or os.environ.get("MEMTUI_DB") or load_config().get("db") or default_db_url()


def fail(message: str, code: int = 2) -> int:
    print(f"memtui: {message}", file=sys.stderr)
    return code


def masked(url: str) -> str:
    """The URL without its password (`postgresql://me:***@host/db`)."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def refuse_client_options(args: argparse.Namespace, command: str) -> int | None:
    """`serve` and `keys` work on a local store: a --server or --api-key given to them
    would be silently ignored, so it is an error that says what to use instead."""
    for flag, value in (("--server", args.server), ("--api-key", args.api_key)):
        if value:
            return fail(
                f"{command}: {flag} does not apply here: {command} works on a local store; "
                "give it with --db URL"
            )
    return None
