"""Pages: each module in this package registers its routes with `@ui.page` when imported."""

from __future__ import annotations

import importlib
import pkgutil


def register() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
        importlib.import_module(f"{__name__}.{info.name}")
