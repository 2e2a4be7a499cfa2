"""A small registry of named classes, filled as their modules are imported."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Generic, TypeVar

from datagen.errors import InputError

T = TypeVar("T")


class Registry(Generic[T]):
    """Named classes of one kind (document providers, journey providers)."""

    def __init__(self, kind: str, package: str):
        self.kind = kind
        self.package = package
        self._items: dict[str, type[T]] = {}
        self._loaded = False

    def register(self, name: str, cls: type[T]) -> None:
        existing = self._items.get(name)
        if existing is not None and existing.__qualname__ != cls.__qualname__:
            raise InputError(
                f"two {self.kind}s are named {name!r}: "
                f"{existing.__module__}.{existing.__qualname__} and "
                f"{cls.__module__}.{cls.__qualname__}",
                hint="give each a unique 'name'",
            )
        self._items[name] = cls

    def load(self) -> None:
        """Import every module of the extension package (once)."""
        if self._loaded:
            return
        self._loaded = True
        package = importlib.import_module(self.package)
        for module in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{self.package}.{module.name}")

    def names(self) -> list[str]:
        self.load()
        return sorted(self._items)

    def all(self) -> dict[str, type[T]]:
        self.load()
        return dict(sorted(self._items.items()))

    def get(self, name: str) -> type[T]:
        self.load()
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(self.names()) or "none"
            raise InputError(f"unknown {self.kind} {name!r}; known: {known}") from None
