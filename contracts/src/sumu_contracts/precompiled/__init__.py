"""Validators generated from the schemas by ``python -m sumu_contracts.precompile`` (do not edit).

fastjsonschema turns a schema into Python source and executes it; doing that at run time costs
3-6 ms per contract in every new process (a Lambda cold start). These modules are that source,
generated ahead of time, so importing one costs a cached bytecode load. Each records the SHA-256
of the schema file it came from: validation.py uses a module only when that still matches, and
compiles the schema itself otherwise, so a stale module is never used (a test keeps them fresh).
"""
