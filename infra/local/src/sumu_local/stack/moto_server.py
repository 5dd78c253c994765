"""moto in server mode, in this process.

moto runs as a ``ThreadedMotoServer`` (a werkzeug server in a thread) rather than as a child
process: one process means one Ctrl-C stops everything and nothing is left running when the
stack dies; the handlers still reach it over HTTP, exactly as they reach AWS. moto keeps its
state in module globals, so two stacks in one process (tests) share it: give them different
stages so their resource names differ.
"""

from __future__ import annotations

from dataclasses import dataclass

from moto.server import ThreadedMotoServer

from sumu_local import moto_fastpath


@dataclass
class MotoProcess:
    server: ThreadedMotoServer
    endpoint_url: str

    def stop(self) -> None:
        self.server.stop()


def start_moto(host: str, port: int) -> MotoProcess:
    moto_fastpath.install()  # Query reads one partition, not the whole table
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    return MotoProcess(server=server, endpoint_url=f"http://{host}:{port}")
