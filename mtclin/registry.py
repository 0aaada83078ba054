"""One registry type for every pluggable thing: corpus readers and formats, heads, schedules.

A :class:`Registry` maps versioned public names to values (functions, classes, declarations), in registration
order. A name is registered once: registering a *different* value under a taken name is an error, so behaviour under
an existing name never changes silently (registering the same value again is allowed: a module imported twice).
It is a read-only ``Mapping``, so ``sorted(SCHEDULES)``, ``name in HEADS`` and ``HEADS[kind]`` work as on a dict.
"""

from __future__ import annotations

from typing import Callable, Generic, Iterator, Mapping, TypeVar

T = TypeVar("T")


class Registry(Mapping[str, T], Generic[T]):
    """Named values of one kind (``what``: "schedule", "head", ... used in error messages). ``load``, when given,
    is called once before the first lookup: it imports the modules whose decorators fill the registry, so that
    importing the registry itself stays cheap."""

    def __init__(self, what: str, load: Callable[[], None] | None = None):
        self.what = what
        self._entries: dict[str, T] = {}
        self._load = load
        self._loading = False

    def _ensure_loaded(self) -> None:
        if self._load is not None and not self._loading:
            self._loading = True  # the loaded modules register (and may look up) while loading
            load, self._load = self._load, None
            try:
                load()
            except BaseException:
                self._load = load
                raise
            finally:
                self._loading = False

    def add(self, name: str, value: T) -> T:
        """Register ``value`` under ``name``; raises ValueError when ``name`` already holds a different value."""
        if name in self._entries and self._entries[name] != value:
            raise ValueError(f"{self.what} {name!r} is already registered (as {self._entries[name]!r}); "
                             "choose a new versioned name instead of changing an existing one")
        self._entries[name] = value
        return value

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator form of :meth:`add`: ``@SCHEDULES.register("round_robin")``."""
        def decorator(value: T) -> T:
            return self.add(name, value)

        return decorator

    def get(self, name: str) -> T:  # type: ignore[override]  (no default: an unknown name is an error)
        """The value registered under ``name``; KeyError listing the known names otherwise."""
        self._ensure_loaded()
        if name not in self._entries:
            raise KeyError(f"unknown {self.what} {name!r}; known: {', '.join(sorted(self._entries)) or '(none)'}")
        return self._entries[name]

    def names(self) -> tuple[str, ...]:
        """Every registered name, in registration order."""
        self._ensure_loaded()
        return tuple(self._entries)

    def __getitem__(self, name: str) -> T:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        self._ensure_loaded()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def __repr__(self) -> str:
        return f"Registry({self.what!r}, {list(self._entries)})"
