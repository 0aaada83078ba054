"""Flow parameters derived from a config dataclass (the flows' counterpart of :mod:`mtclin.config_args`): one
definition, in the dataclass, gives each flow parameter its name, type, default and description.

Prefect reads a flow's parameters from its function's signature (the parameter schema behind the UI form,
``prefect deployment run --params`` and the validation of every run) and its descriptions from the docstring's
``Args:`` section. :func:`config_parameters` gives a flow function whose body takes ``**settings`` a signature
holding its own parameters followed by one keyword-only parameter per config field, so every training flow takes
every training setting, a new field reaches every flow, and an unknown name is refused before the flow runs.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from typing import Any, Callable, Literal, Mapping, Sequence, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def _json_type(hint: Any, choices: Sequence[str] | None) -> Any:
    """A field's type as a flow parameter: a fixed set of values is an enum (a choice list in the UI, a bad value
    refused when the run starts); a tuple arrives from JSON as a list."""
    if choices is not None:
        return Literal[tuple(choices)]
    if typing.get_origin(hint) is tuple:
        return list[typing.get_args(hint)[0]]
    return hint


def _default(field: dataclasses.Field) -> Any:
    value = field.default_factory() if field.default is dataclasses.MISSING else field.default
    return list(value) if isinstance(value, tuple) else value


def field_parameters(cls: type, exclude: Sequence[str] = (), defaults: Mapping[str, Any] = {},
                     choices: Mapping[str, Sequence[str]] = {}) -> list[inspect.Parameter]:
    """One keyword-only parameter per field of the dataclass ``cls`` not in ``exclude``, in field order: the
    field's type (see :func:`_json_type`) and default (``defaults`` over the dataclass's)."""
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = (set(exclude) | set(defaults) | set(choices)) - names
    if unknown:
        raise ValueError(f"{cls.__name__} has no field {', '.join(sorted(unknown))}; "
                         f"fields: {', '.join(sorted(names))}")
    hints = typing.get_type_hints(cls)
    return [inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY,
                              default=defaults[f.name] if f.name in defaults else _default(f),
                              annotation=_json_type(hints[f.name], choices.get(f.name)))
            for f in dataclasses.fields(cls) if f.name not in exclude]


def _with_args(doc: str, described: Mapping[str, str]) -> str:
    """``doc`` with ``name: description`` lines appended to its Args section (added when it has none, so an
    existing one must come last)."""
    doc = inspect.cleandoc(doc)
    if "Args:" not in doc.splitlines():
        doc += "\n\nArgs:"
    return doc + "".join(f"\n    {name}: {' '.join(text.split())}" for name, text in described.items())


def config_parameters(cls: type, exclude: Sequence[str] = (), defaults: Mapping[str, Any] = {},
                      choices: Mapping[str, Sequence[str]] = {}) -> Callable[[F], F]:
    """Decorator (below ``@flow``) for ``def f(<own parameters>, **settings)``: ``f``'s signature and annotations
    become its own parameters followed by :func:`field_parameters`, and each field's ``help`` joins the docstring's
    Args. Prefect binds a call (or a deployment run's parameters) to that signature, defaults applied, so
    ``settings`` holds every field parameter; a name that is neither is a bind error naming it. ``defaults``: where
    this flow deliberately departs from the dataclass."""
    def decorate(fn: F) -> F:
        hints = typing.get_type_hints(fn)
        own = [p.replace(annotation=hints.get(p.name, p.annotation))
               for p in inspect.signature(fn).parameters.values() if p.kind is not p.VAR_KEYWORD]
        settings = field_parameters(cls, exclude, defaults, choices)
        clash = {p.name for p in own} & {p.name for p in settings}
        if clash:
            raise TypeError(f"{fn.__name__}: parameter {', '.join(sorted(clash))} is also a {cls.__name__} field; "
                            "rename it or exclude the field")
        returns = hints.get("return", inspect.Signature.empty)
        fn.__signature__ = inspect.Signature(own + settings, return_annotation=returns)
        fn.__annotations__ = {p.name: p.annotation for p in own + settings} | (
            {"return": returns} if "return" in hints else {})
        help_text = {f.name: f.metadata.get("help", "") for f in dataclasses.fields(cls)}
        fn.__doc__ = _with_args(fn.__doc__ or "", {p.name: help_text[p.name] for p in settings})
        return fn

    return decorate
