"""A name -> class registry (as lm-evaluation-harness does for models and tasks)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Generic, TypeVar

from gatedloop.core.options import options_from, options_schema

T = TypeVar("T")


class Registry(Generic[T]):
    """``options_key``: where an item's options live in the config, as a format of its name (``gate_options.{name}``),
    for registries whose classes declare an ``Options`` dataclass (gates, benchmarks)."""

    def __init__(self, kind: str, options_key: str | None = None):
        self.kind = kind
        self.options_key = options_key
        self._items: dict[str, T] = {}

    def add(self, name: str, item: T) -> T:
        if name in self._items:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._items[name] = item
        return item

    def register(self, name: str):
        """Class decorator: ``@GATES.register("compile")``."""

        def decorate(item: T) -> T:
            return self.add(name, item)

        return decorate

    def get(self, name: str) -> T:
        if name not in self._items:
            raise KeyError(f"unknown {self.kind} {name!r}; known: {', '.join(sorted(self._items))}")
        return self._items[name]

    def names(self) -> list[str]:
        return sorted(self._items)

    def items(self) -> list[tuple[str, T]]:
        """(name, item) in registration order."""
        return list(self._items.items())

    def __contains__(self, name: str) -> bool:
        return name in self._items

    def options_at(self, name: str) -> str:
        """The config path of ``name``'s options (gate_options.perplexity, score.livecodebench)."""
        return self.options_key.format(name=name)

    def options(self, name: str, values: Mapping | None = None, *, where: str | None = None, config: bool = False):
        """``values`` as ``name``'s typed options (its class's ``Options``), defaults filled; an unknown key or a
        wrong type raises an OptionsError naming the config path (``where``, by default ``options_at(name)``), the
        key, the expected type and the value. ``config``: values from a config file (see options_from)."""
        return options_from(self.get(name).Options, values or {}, where or self.options_at(name), config=config)

    def options_schema(self, name: str, *, defaults: bool) -> dict:
        """The JSON Schema of ``name``'s config section, generated from its ``Options`` (see options_schema)."""
        return options_schema(self.get(name).Options, defaults=defaults)
