"""moto in server mode: in a process of its own (``sumu up``), or in this process.

``sumu up`` runs moto as a child process: it answers every AWS call of the stack's functions,
event sources and backends, and in the stack's own process its request threads took most of
the interpreter lock the gateway needs to move frames (measured: two thirds of the stack
process's samples during a broadcast). The child is in its own process group (Ctrl-C reaches
the stack, which still needs moto to run every ``$disconnect``, and then stops it) and exits
when its parent is gone, so nothing outlives a crashed stack.

``start_moto`` keeps 0.1's design, a ``ThreadedMotoServer`` in this process, for
``[stack] functions = "inprocess"`` and for embedders. There moto keeps its state in module
globals, so two stacks in one process share it: give them different stages.
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Protocol

from moto import backends
from moto.server import ThreadedMotoServer

from sumu_local import moto_fastpath, moto_sqs_fastpath

_original_list_of_moto_modules = backends.list_of_moto_modules

START_SECONDS = 60.0
STOP_SECONDS = 5.0
PARENT_CHECK_SECONDS = 1.0


class MotoServer(Protocol):
    @property
    def endpoint_url(self) -> str: ...

    def stop(self) -> None: ...


@dataclass
class MotoProcess:
    """moto in a thread of this process."""

    server: ThreadedMotoServer
    endpoint_url: str

    def stop(self) -> None:
        self.server.stop()


@dataclass
class MotoChild:
    """moto in a child process."""

    process: subprocess.Popen[bytes]
    endpoint_url: str

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_SECONDS)


@functools.cache
def _moto_modules() -> tuple[str, ...]:
    return tuple(_original_list_of_moto_modules())


def _cached_list_of_moto_modules() -> tuple[str, ...]:
    return _moto_modules()


def cache_moto_modules() -> None:
    """moto's server asks, on every request and under its dispatcher's lock, whether the host
    names one of moto's own packages: ``backends.list_of_moto_modules()`` lists moto's folder
    and stats each of its ~200 entries (a tenth of moto's time under load, measured). The
    installed package does not change while the server runs: list it once (same names, same
    order)."""
    _moto_modules()  # listed now, at start-up
    backends.list_of_moto_modules = _cached_list_of_moto_modules


def start_moto(host: str, port: int) -> MotoProcess:
    cache_moto_modules()  # the per-request listing of moto's own folder, done once
    moto_fastpath.install()  # Query reads one partition, not the whole table
    moto_sqs_fastpath.install()  # SendMessage does not count a standard queue's messages
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    return MotoProcess(server=server, endpoint_url=f"http://{host}:{port}")


def start_moto_process(host: str, port: int) -> MotoChild:
    """moto in a child process; returns once it accepts connections."""
    process = subprocess.Popen(
        [sys.executable, "-m", "sumu_local.stack.moto_server", host, str(port), str(os.getpid())],
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto exited with status {process.returncode} while starting")
        try:
            with socket.create_connection((host, port), timeout=1):
                return MotoChild(process=process, endpoint_url=f"http://{host}:{port}")
        except OSError:
            time.sleep(0.05)
    MotoChild(process=process, endpoint_url="").stop()
    raise RuntimeError(f"moto did not accept connections on {host}:{port} in {START_SECONDS:.0f} s")


def _serve(host: str, port: int, parent_pid: int) -> None:
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    # werkzeug logs every request at INFO (an eighth of moto's time under load); warnings stay.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s moto %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = start_moto(host, port)
    # A stack killed with SIGKILL cannot stop its moto: notice the parent is gone instead.
    while not stopping.wait(PARENT_CHECK_SECONDS):
        if os.getppid() != parent_pid:
            break
    server.stop()


if __name__ == "__main__":
    _serve(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
