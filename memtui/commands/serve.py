"""`memtui serve`: the HTTP server (memtui.server) over a local store, under uvicorn on
a socket bound here (127.0.0.1 unless told otherwise)."""

from __future__ import annotations

import argparse
import signal
import socket
import sys
import threading
from typing import Any

from memtui.commands.local_store import fail, masked, refuse_client_options, resolve_db_url
from memtui.config import default_db_url


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

    refused = refuse_client_options(args, "serve")
    if refused is not None:
        return refused
    host: str = args.host
    port: int = args.port
    if not 0 <= port <= 65535:
        return fail(f"--port {port} is not a port number (0-65535)")
    from memtui.server.events import DEFAULT_MAX_EVENT_STREAMS
    from memtui.server.read_timeout import DEFAULT_READ_TIMEOUT_SECONDS

    max_streams = getattr(args, "max_event_streams", None)
    max_streams = DEFAULT_MAX_EVENT_STREAMS if max_streams is None else max_streams
    if not 1 <= max_streams <= 100_000:
        return fail(f"--max-event-streams {max_streams} is out of range (1-100000)")
    read_timeout = getattr(args, "read_timeout", None)
    read_timeout = DEFAULT_READ_TIMEOUT_SECONDS if read_timeout is None else read_timeout
    if not 0.1 <= read_timeout <= 3600:  # also refuses nan and inf
        return fail(f"--read-timeout {read_timeout:g} is out of range (0.1-3600 seconds)")
    clock = clock_from_environment()
    db_url = resolve_db_url(args.db)
    from memtui.config import load_config
    from memtui.store.retention import retention_days

    try:
        days = retention_days(load_config())
    except MemtuiError as exc:
        return fail(str(exc))
    try:
        from memtui.store import SqlStore

        store = SqlStore(db_url, clock=clock)
    except MemtuiError as exc:
        return fail(f"cannot open the store: {exc}")
    except Exception as exc:  # noqa: BLE001 - one clear line, never a traceback
        return fail(f"cannot open the store {masked(db_url)!r}: {exc}")
    if store.read_only:
        store.close()
        return fail(
            f"cannot serve the store {masked(db_url)!r}: it is read-only (memtui cannot "
            "write the file or its directory), and a server writes (keys, memories)"
        )

    try:
        sock = _bind(host, port)
    except OSError as exc:
        store.close()
        reason = (
            "is already in use" if exc.errno in (98, 48) else f"cannot be used ({exc.strerror})"
        )
        return fail(f"cannot listen on {host}:{port}: the address {reason}")

    try:
        return _serve(
            store,
            sock,
            host=host,
            clock=clock,
            max_event_streams=max_streams,
            read_timeout=read_timeout,
            retention_days=days,
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
    retention_days: float,
    read_timeout: float,
) -> int:
    import uvicorn

    from memtui.server.app import create_app
    from memtui.server.logs import log_config
    from memtui.server.read_timeout import ReadTimeoutH11Protocol

    key_store = store.key_store()
    keys_hint = "memtui keys create"
    if store.url_text != default_db_url():
        keys_hint += f" --db {masked(store.url_text)}"
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
    from memtui.store.retention import RetentionWorker

    retention = RetentionWorker(store, retention_days)

    def started() -> None:
        watcher.start()
        retention.start()

    def stopped() -> None:
        watcher.stop()
        retention.stop()

    stop = threading.Event()
    app = create_app(
        store,
        key_store=key_store,
        clock=clock,
        stop_event=stop,
        max_event_streams=max_event_streams,
        on_startup=started,
        on_shutdown=stopped,
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
    stopped()
    print("memtui serve: stopped", flush=True)
    return 0
