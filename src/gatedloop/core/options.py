"""Typed stage settings on the command line: one ``--field`` flag per dataclass field (trl/HfArgumentParser
style, without importing transformers into light CLIs). Booleans take ``true``/``false``."""

from __future__ import annotations

import argparse
import dataclasses
import typing


def _parse_bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in {"true", "1", "yes"}:
        return True
    if lowered in {"false", "0", "no"}:
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def _unescape(text: str) -> str:
    r"""Strings on the command line carry escapes (``'\ndef '``) so that stop sequences survive shell quoting."""
    return text.encode("latin-1", "backslashreplace").decode("unicode_escape")


def _escape(value) -> str:
    return value.encode("unicode_escape").decode("ascii") if isinstance(value, str) else str(value)


def _field_type(cls, field: dataclasses.Field):
    hint = typing.get_type_hints(cls)[field.name]
    origin = typing.get_origin(hint)
    if hint is bool:
        return {"type": _parse_bool}
    if origin in (list, tuple):
        (item,) = set(typing.get_args(hint)) - {Ellipsis}
        return {"type": _unescape if item is str else item, "nargs": "*"}
    return {"type": hint}


def add_dataclass_args(parser: argparse.ArgumentParser, cls) -> None:
    group = parser.add_argument_group(cls.__name__)
    for field in dataclasses.fields(cls):
        default = field.default if field.default is not dataclasses.MISSING else field.default_factory()
        group.add_argument(f"--{field.name.replace('_', '-')}", dest=field.name, default=default,
                           help=f"(default: {default})", **_field_type(cls, field))


def dataclass_from_args(cls, args: argparse.Namespace):
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls)}
    return cls(**values)


def to_cli_args(settings: dict) -> list[str]:
    """The inverse, for Snakemake rules: {"top_p": 0.95, "stop": ["a"]} -> ["--top-p", "0.95", "--stop", "a"]."""
    out: list[str] = []
    for key, value in settings.items():
        flag = f"--{key.replace('_', '-')}"
        if isinstance(value, bool):
            out += [flag, str(value).lower()]
        elif isinstance(value, (list, tuple)):
            out += [flag, *map(_escape, value)]
        else:
            out += [flag, str(value)]
    return out
