"""`memtui serve` and `memtui keys create|list|revoke`."""

from __future__ import annotations

import argparse
import logging
import os
import re
import signal
import socket
import sys
import threading
from typing import Any

from memtui.config import default_db_url, load_config

log = logging.getLogger("memtui.server")

# Anything that looks like a secret is masked in every log line, whatever logged it:
# API keys in any form a URL or header can carry them (`mtk_…`, percent-encoded once or
# twice as in `mtk%5F…` or `mtk%255F…`, any case), bearer tokens, JWTs (seed 001's
# session tokens) and `key=value` / `key: value` pairs named like secrets.
_KEY_START = r"(?:m|%(?:25)*6d)(?:t|%(?:25)*74)(?:k|%(?:25)*6b)(?:_|%(?:25)*5f|\\u005f|\\x5f)"
_SECRET_PATTERNS = (
    re.compile(_KEY_START + r"[A-Za-z0-9_\-=%]*", re.IGNORECASE),
    re.compile(r"(?i)(bearer(?:\s|%20|\+)+)[^\s\"'&]+"),
    re.compile(r"eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*"),
    re.compile(
        r"(?i)((?:x-)?(?:api(?:[_-]|%5f|%2d)?key|token|password|secret)"
        r"(?:=|%3d|\s*:\s*|\"\s*:\s*\"))[^&\s\"',;]+"
    ),
)


def redact(text: str) -> str:
    """`text` with every secret-looking part masked (for log lines)."""
    text = _SECRET_PATTERNS[0].sub("mtk_…", text)
    text = _SECRET_PATTERNS[1].sub(r"\1…", text)
    text = _SECRET_PATTERNS[2].sub("…", text)
    return _SECRET_PATTERNS[3].sub(r"\1…", text)


def _redacting(base: type[logging.Formatter]) -> type[logging.Formatter]:
    class Redacting(base):  # type: ignore[valid-type, misc]
        def format(self, record: logging.LogRecord) -> str:
            return redact(super().format(record))

        def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
            return redact(super().formatException(ei))

    return Redacting


def log_config() -> dict[str, Any]:
    from uvicorn.logging import AccessFormatter, DefaultFormatter

    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "default": {
                "()": _redacting(DefaultFormatter),
                "fmt": "%(levelprefix)s %(message)s",
                "use_colors": False,
            },
            "access": {
                "()": _redacting(AccessFormatter),
                "fmt": '%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s',
                "use_colors": False,
            },
        },
        "handlers": {
            "default": {
                "formatter": "default",
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
            },
            "access": {
                "formatter": "access",
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
            },
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
            "memtui": {"handlers": ["default"], "level": "INFO", "propagate": False},
        },
        # Any other library's warnings go through the same redacting handler, not
        # through logging's bare last-resort handler.
        "root": {"handlers": ["default"], "level": "WARNING"},
    }


def resolve_db_url(db: str | None) -> str:
    return db or os.environ.get("MEMTUI_DB") or load_config().get("db") or default_db_url()


def _fail(message: str, code: int = 2) -> int:
    print(f"memtui: {message}", file=sys.stderr)
    return code


def _masked(url: str) -> str:
    """The URL without its password (`postgresql://me:***@host/db`)."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def _client_option_given(args: argparse.Namespace, command: str) -> int | None:
    """`serve` and `keys` work on a local store: a --server or --api-key given to them
    would be silently ignored, so it is an error that says what to use instead."""
    for flag, value in (("--server", args.server), ("--api-key", args.api_key)):
        if value:
            return _fail(
                f"{command}: {flag} does not apply here: {command} works on a local store; "
                "give it with --db URL"
            )
    return None


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio turns on TCP_NODELAY only for sockets that say
    # so, and without it every response waits ~40 ms on Nagle and delayed ACKs.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def run_serve_command(args: argparse.Namespace) -> int:
    from memtui.domain.clock import clock_from_environment
    from memtui.domain.errors import MemtuiError

    refused = _client_option_given(args, "serve")
    if refused is not None:
        return refused
    host: str = args.host
    port: int = args.port
    if not 0 <= port <= 65535:
        return _fail(f"--port {port} is not a port number (0-65535)")
    from memtui.server.events import DEFAULT_MAX_EVENT_STREAMS
    from memtui.server.read_timeout import DEFAULT_READ_TIMEOUT_SECONDS

    max_streams = getattr(args, "max_event_streams", None)
    max_streams = DEFAULT_MAX_EVENT_STREAMS if max_streams is None else max_streams
    if not 1 <= max_streams <= 100_000:
        return _fail(f"--max-event-streams {max_streams} is out of range (1-100000)")
    read_timeout = getattr(args, "read_timeout", None)
    read_timeout = DEFAULT_READ_TIMEOUT_SECONDS if read_timeout is None else read_timeout
    if not 0.1 <= read_timeout <= 3600:  # also refuses nan and inf
        return _fail(f"--read-timeout {read_timeout:g} is out of range (0.1-3600 seconds)")
    clock = clock_from_environment()
    db_url = resolve_db_url(args.db)
    try:
        from memtui.store import SqlStore

        store = SqlStore(db_url, clock=clock)
    except MemtuiError as exc:
        return _fail(f"cannot open the store: {exc}")
    except Exception as exc:  # noqa: BLE001 - one clear line, never a traceback
        return _fail(f"cannot open the store {_masked(db_url)!r}: {exc}")
    if store.read_only:
        store.close()
        return _fail(
            f"cannot serve the store {_masked(db_url)!r}: it is read-only (memtui cannot "
            "write the file or its directory), and a server writes (keys, memories)"
        )

    try:
        sock = _bind(host, port)
    except OSError as exc:
        store.close()
        reason = (
            "is already in use" if exc.errno in (98, 48) else f"cannot be used ({exc.strerror})"
        )
        return _fail(f"cannot listen on {host}:{port}: the address {reason}")

    try:
        return _serve(
            store,
            sock,
            host=host,
            clock=clock,
            max_event_streams=max_streams,
            read_timeout=read_timeout,
        )
    finally:
        sock.close()
        store.close()


def show_once(text: str) -> None:
    """Shows a secret to the operator once: on the controlling terminal when there is one,
    so it never lands in the access log (stdout) or any redirected log file; else on
    stderr, marked as such. Never through logging."""
    try:
        with open("/dev/tty", "w", encoding="utf-8") as tty:
            tty.write(text)
            tty.flush()
        return
    except OSError:
        pass  # no controlling terminal (a service, a pipe, setsid)
    sys.stderr.write(
        "memtui serve: no terminal to show the new admin key on; it follows on stderr, "
        "once (never on stdout, the access log's stream):\n" + text
    )
    sys.stderr.flush()


def _serve(
    store: Any,
    sock: socket.socket,
    *,
    host: str,
    clock: Any,
    max_event_streams: int,
    read_timeout: float,
) -> int:
    import uvicorn

    from memtui.server.app import create_app
    from memtui.server.read_timeout import ReadTimeoutH11Protocol

    key_store = store.key_store()
    keys_hint = "memtui keys create"
    if store.url_text != default_db_url():
        keys_hint += f" --db {_masked(store.url_text)}"
    if not key_store.list():
        admin = key_store.create("admin")
        show_once(
            "memtui serve: first start, created an admin API key. Store it now: "
            "it will NOT be shown again.\n"
            f"  key id:  {admin.info.id}\n"
            f"  API key: {admin.key}\n"
            f"  (more keys: {keys_hint})\n"
        )

    watcher = store.expiry_watcher()
    stop = threading.Event()
    app = create_app(
        store,
        key_store=key_store,
        clock=clock,
        stop_event=stop,
        max_event_streams=max_event_streams,
        on_startup=watcher.start,
        on_shutdown=watcher.stop,
    )
    config = uvicorn.Config(
        app,
        log_config=log_config(),
        access_log=True,
        workers=1,
        timeout_graceful_shutdown=5,
        server_header=False,
        http=ReadTimeoutH11Protocol.with_timeout(read_timeout),
    )

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            stop.set()  # end the event streams so shutdown does not wait on them
            app.state.change_hub.close()
            super().handle_exit(sig, frame)

    server = Server(config)
    actual_port = sock.getsockname()[1]
    shown_host = f"[{host}]" if ":" in host else host
    print(
        f"memtui serve: listening on http://{shown_host}:{actual_port}, store {store.describe()}",
        flush=True,
    )
    # uvicorn re-raises the signal that stopped it once it is done; with these no-op
    # handlers in place that ends in a clean return (exit 0) instead of a traceback.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: None)
    server.run(sockets=[sock])
    watcher.stop()
    print("memtui serve: stopped", flush=True)
    return 0


def run_keys_command(args: argparse.Namespace) -> int:
    from memtui.config import mask_secret
    from memtui.domain.errors import MemtuiError, NotFoundError
    from memtui.store.api_keys import SqlKeyStore

    refused = _client_option_given(args, "keys")
    if refused is not None:
        return refused
    db_url = resolve_db_url(args.db)
    try:
        key_store = SqlKeyStore.open(db_url)
    except MemtuiError as exc:
        return _fail(f"cannot open the store: {exc}")
    except Exception as exc:  # noqa: BLE001
        return _fail(f"cannot open the store {_masked(db_url)!r}: {exc}")
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
                return _fail(str(exc))
            print(f"Revoked API key {info.id} ({info.prefix}).")
            return 0
        return _fail(f"unknown keys action {action!r}")
    except MemtuiError as exc:
        return _fail(str(exc))
    finally:
        key_store.close()


def _when(value: Any) -> str:
    if value is None:
        return "-"
    return value.astimezone().strftime("%Y-%m-%d %H:%M")
