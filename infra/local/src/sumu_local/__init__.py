"""sumu-local: SUMU on one machine (gateway emulator, moto, event sources, the ``sumu`` CLI)."""

__version__ = "0.5.0"
