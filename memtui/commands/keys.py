"""`memtui keys create|list|revoke`: the API keys of a local store."""

from __future__ import annotations

import argparse
from typing import Any

from memtui.commands.local_store import fail, masked, refuse_client_options, resolve_db_url


def run_keys_command(args: argparse.Namespace) -> int:
    from memtui.config import mask_secret
    from memtui.domain.errors import MemtuiError, NotFoundError
    from memtui.store.api_keys import SqlKeyStore

    refused = refuse_client_options(args, "keys")
    if refused is not None:
        return refused
    db_url = resolve_db_url(args.db)
    try:
        key_store = SqlKeyStore.open(db_url)
    except MemtuiError as exc:
        return fail(f"cannot open the store: {exc}")
    except Exception as exc:  # noqa: BLE001
        return fail(f"cannot open the store {masked(db_url)!r}: {exc}")
    try:
        action = args.keys_command
        if action == "create":
            created = key_store.create(args.name or "")
            label = f" ({created.info.name})" if created.info.name else ""
            warning = "Store it now: it will NOT be shown again."
            print(f"Created API key {created.info.id}{label}. {warning}")
            print(created.key)
            return 0
        if action == "list":
            keys = key_store.list()
            if not keys:
                print("No API keys yet (memtui serve creates an admin key on first start).")
                return 0
            rows = [("ID", "NAME", "KEY", "CREATED", "LAST USED", "STATUS")]
            for info in keys:
                rows.append(
                    (
                        info.id,
                        info.name or "-",
                        info.prefix if info.prefix.endswith("…") else mask_secret(info.prefix),
                        _when(info.created_at),
                        _when(info.last_used_at) if info.last_used_at else "never",
                        f"revoked {_when(info.revoked_at)}" if info.revoked_at else "active",
                    )
                )
            widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
            for row in rows:
                print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
            return 0
        if action == "revoke":
            try:
                info = key_store.revoke(args.key_id)
            except NotFoundError as exc:
                return fail(str(exc))
            print(f"Revoked API key {info.id} ({info.prefix}).")
            return 0
        return fail(f"unknown keys action {action!r}")
    except MemtuiError as exc:
        return fail(str(exc))
    finally:
        key_store.close()


def _when(value: Any) -> str:
    if value is None:
        return "-"
    return value.astimezone().strftime("%Y-%m-%d %H:%M")
