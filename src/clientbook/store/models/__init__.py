"""ORM models. Every module of this package is imported so that ``Base.metadata`` is complete.

The models stay inside ``store``: what leaves it is a pydantic model or a plain dataclass.
"""

from __future__ import annotations

import importlib
import pkgutil

from clientbook.store.models.base import Base

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["Base"]
