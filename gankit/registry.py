"""One small name -> factory registry shared by every plugin family (datasets, nets, objectives, models).

Example::

    from gankit.registry import Registry
    OBJECTIVES = Registry("objective")

    @OBJECTIVES.register("nonsaturating")
    class NonSaturating: ...

    OBJECTIVES.get("nonsaturating")
"""

from __future__ import annotations

from typing import Callable, Generic, Iterator, TypeVar

from gankit.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to factories. ``get`` of an unknown name raises a ConfigError listing the choices."""

    def __init__(self, kind: str, config_key: str | None = None) -> None:
        self.kind = kind
        self.config_key = config_key or f"{kind}.name"
        self._items: dict[str, T] = {}
        self._help: dict[str, str] = {}

    def register(self, name: str, help: str | None = None) -> Callable[[T], T]:
        def add(obj: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._items[name] = obj
            doc = help or (getattr(obj, "__doc__", None) or "").strip().splitlines()
            self._help[name] = doc if isinstance(doc, str) else (doc[0] if doc else "")
            return obj

        return add

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise ConfigError(
                f"{self.config_key}: unknown {self.kind} {name!r}; choose one of: {', '.join(self.names())}"
            ) from None

    def help(self, name: str) -> str:
        return self._help[name]

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


# The plugin families. Each plugin module registers itself here; gankit.plugins imports them all.
DATASETS: Registry = Registry("dataset", "data.name")
NETS: Registry = Registry("net", "net.name")
OBJECTIVES: Registry = Registry("objective", "objective.name")
MODELS: Registry = Registry("model", "model")
