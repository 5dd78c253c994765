"""The embedded stack behind ``sumu up``: moto, the resources, the gateway, the event sources."""

from sumu_local.stack.config import ConfigError, StackConfig, Timeouts, load_stack_config
from sumu_local.stack.functions import Function, FunctionError, FunctionSpec, FunctionTimeout
from sumu_local.stack.manifest import ManifestError, StackManifest

__all__ = [
    "ConfigError",
    "Function",
    "FunctionError",
    "FunctionSpec",
    "FunctionTimeout",
    "ManifestError",
    "StackConfig",
    "StackManifest",
    "Timeouts",
    "load_stack_config",
]
