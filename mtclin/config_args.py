"""Command-line options derived from a config dataclass (as HF's HfArgumentParser does): one definition, in the
dataclass, gives each option its name, type, default and help.

``corpora: tuple[str, ...]`` -> ``--corpora a,b`` ("all": every registered corpus); ``dict[str, int]`` (or
``dict[str, str]``) -> ``--<name>-for TASK=N ...`` (``TASK=VALUE``); ``bool`` -> ``--<name>`` / ``--no-<name>``; ``choices`` constrain named fields.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
from typing import Any, Mapping, Sequence

_SCALARS = {"int": int, "float": float, "str": str}


def _kind(cls: type, field: dataclasses.Field) -> str:
    hints = typing.get_type_hints(cls)
    return getattr(hints[field.name], "__name__", str(hints[field.name]))


def add_config_options(parser: argparse.ArgumentParser, cls: type, choices: Mapping[str, Sequence[str]] = {},
                       aliases: Mapping[str, Sequence[str]] = {}) -> None:
    """One option per field of ``cls``; every default is None (unset: the dataclass default applies)."""
    for field in dataclasses.fields(cls):
        flag = "--" + field.name.replace("_", "-")
        names = [flag, *aliases.get(field.name, ())]
        text = field.metadata.get("help", "")
        kind = _kind(cls, field)
        if kind == "bool":
            parser.add_argument(*names, dest=field.name, action=argparse.BooleanOptionalAction, default=None,
                                help=f"{text} (default: {field.default})")
        elif kind == "dict":
            metavar = "TASK=N" if _dict_values(cls, field) is int else "TASK=VALUE"
            parser.add_argument(f"--{field.name.rstrip('s').replace('_', '-')}-for", dest=field.name, nargs="*",
                                metavar=metavar, default=None, help=text)
        elif kind == "tuple":
            parser.add_argument(*names, dest=field.name, default=None, metavar="A,B,...",
                                help=f"{text} (comma-separated, or 'all')")
        else:
            parser.add_argument(*names, dest=field.name, type=_SCALARS[kind], default=None,
                                choices=list(choices[field.name]) if field.name in choices else None,
                                help=f"{text} (default: {field.default})")


def _dict_values(cls: type, field: dataclasses.Field) -> type:
    """The value type of a ``dict[str, X]`` field (int when unparameterised)."""
    args = typing.get_args(typing.get_type_hints(cls)[field.name])
    return args[1] if len(args) == 2 else int


def _key_ints(items: Sequence[str], option: str) -> dict[str, int]:
    out = {}
    for item in items:
        key, _, value = item.partition("=")
        if not key or not value.isdigit():
            raise ValueError(f"{option} {item!r}: expected TASK=INTEGER")
        out[key] = int(value)
    return out


def _key_strings(items: Sequence[str], option: str) -> dict[str, str]:
    out = {}
    for item in items:
        key, _, value = item.partition("=")
        if not key or not value:
            raise ValueError(f"{option} {item!r}: expected TASK=VALUE")
        out[key] = value
    return out


def config_from_options(args: argparse.Namespace, cls: type, all_values: Mapping[str, Sequence[str]] = {}) -> Any:
    """The config the options ask for: the set ones over the dataclass defaults (``all_values[field]`` is what
    'all' means for a list field)."""
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        value = getattr(args, field.name, None)
        if value is None:
            continue
        kind = _kind(cls, field)
        if kind == "tuple":
            items = [v for v in value.split(",") if v]
            value = tuple(all_values.get(field.name, ()) if items == ["all"] else items)
        elif kind == "dict":
            parse = _key_ints if _dict_values(cls, field) is int else _key_strings
            value = parse(value, f"--{field.name.rstrip('s').replace('_', '-')}-for")
        values[field.name] = value
    return cls.from_dict(values) if hasattr(cls, "from_dict") else cls(**values)
