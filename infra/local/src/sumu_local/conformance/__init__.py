"""``sumu conformance``: black-box cases that prove an implementation of a SUMU service honours
the contracts and the behaviour its README promises, run against whatever ``sumu.toml`` names.

Kept import-free: the ``sumu`` CLI imports this package for every command, and moto, hypothesis
and the runtime load only when ``sumu conformance`` runs (``runner.run_conformance``).
"""
