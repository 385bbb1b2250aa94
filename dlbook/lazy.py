"""Lazy package exports: a package lists ``name -> module`` and imports a module on first use."""
import importlib


def lazy_exports(package, exports):
    """Return a module-level ``__getattr__`` resolving ``exports[name]`` on first access."""

    def __getattr__(name):
        if name in exports:
            return getattr(importlib.import_module(exports[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
