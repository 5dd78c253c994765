"""Test fixtures shared by SUMU's packages: a moto server over HTTP and free loopback ports.

Dev-only: no service depends on it at run time, so services still share nothing but contracts.
"""

from sumu_testkit.moto import MotoServer, start_moto_server
from sumu_testkit.ports import free_port

__all__ = ["MotoServer", "free_port", "start_moto_server"]
