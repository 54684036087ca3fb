"""Typed settings. A stage's settings on the command line: one ``--field`` flag per dataclass field
(trl/HfArgumentParser style, without importing transformers into light CLIs; booleans take ``true``/``false``), and
the workflow's side, a config section as exactly those flags (stage_settings, to_cli_args). A gate's or benchmark's
options: a frozen ``Options`` dataclass of ``option`` fields, checked from a config section (options_from) and
described in the config schema (options_schema)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import types
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


def stage_settings(section: typing.Mapping, classes, elsewhere: typing.Mapping[str, str], where: str) -> dict:
    """The keys of a config section that are fields of the stage's settings dataclasses (``classes``), sorted so
    that reordering a YAML file changes no job's params. A key that is neither a field nor one of ``elsewhere`` (the
    keys that reach the jobs another way, each with its reason) is refused, naming ``where`` (its config path): a new
    config key fails when the workflow is planned, not in a job's argument parser."""
    names = {f.name for cls in classes for f in dataclasses.fields(cls)}
    stray = sorted(set(section) - names - set(elsewhere))
    if stray:
        takers = ", ".join(cls.__name__ for cls in classes)
        raise ValueError(f"config key '{where}.{stray[0]}': no field of {takers} takes it, and no other use of it is "
                         "named (gatedloop.core.config.NOT_STAGE_SETTINGS)")
    return {key: section[key] for key in sorted(section) if key in names}


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


# ---------------------------------------------------------------- typed options of gates and benchmarks
# A gate or benchmark declares its options as a frozen dataclass (``Options``) whose fields are made by ``option``.
# The registries turn a config section into it (options_from), and the config schema describes it (options_schema).


class OptionsError(ValueError):
    """An option the dataclass does not declare, or a value of the wrong type; ``key`` is its config path."""

    def __init__(self, key: str, problem: str):
        super().__init__(f"{key}: {problem}")
        self.key, self.problem = key, problem


def option(default, doc: str, *, config: bool = True, **schema):
    """A field of an ``Options`` dataclass: its default, a one-line doc (the schema's description), and JSON Schema
    keywords beyond its type (``minimum=0``, ``pattern=...``). ``config=False``: the job sets it, not the config.
    Defaults are immutable (a tuple, not a list): the dataclass is frozen."""
    return dataclasses.field(default=default, metadata={"doc": doc, "schema": schema, "config": config})


def config_fields(cls) -> list[dataclasses.Field]:
    """The fields a config section may set (those the job sets itself left out)."""
    return [f for f in dataclasses.fields(cls) if f.metadata.get("config", True)]


def _is_union(hint) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType)


def _items(hint):
    """The item type of ``list[X]`` / ``tuple[X, ...]``."""
    (item,) = set(typing.get_args(hint)) - {Ellipsis}
    return item


def accepts(hint, value) -> bool:
    """Whether ``value`` (as YAML or JSON reads it) is of type ``hint``: an int is a number too, a bool is neither."""
    origin = typing.get_origin(hint)
    if _is_union(hint):
        return any(accepts(arm, value) for arm in typing.get_args(hint))
    if origin is typing.Literal:
        return any(value == choice and type(value) is type(choice) for choice in typing.get_args(hint))
    if origin in (list, tuple):
        return isinstance(value, (list, tuple)) and all(accepts(_items(hint), item) for item in value)
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint in (str, bool):
        return isinstance(value, hint)
    raise TypeError(f"an option of type {hint!r}: options_from knows bool, int, float, str, Literal, lists, unions")


_NAMES = {bool: "true or false", int: "an integer", float: "a number", str: "a string", type(None): "null"}
_PLURALS = {int: "integers", float: "numbers", str: "strings", bool: "booleans"}


def describe(hint) -> str:
    """The type in words, for error messages: 'a number', 'a string or null', "one of 'a', 'b'"."""
    if _is_union(hint):
        return " or ".join(describe(arm) for arm in typing.get_args(hint))
    if typing.get_origin(hint) is typing.Literal:
        return "one of " + ", ".join(repr(choice) for choice in typing.get_args(hint))
    if typing.get_origin(hint) in (list, tuple):
        return f"a list of {_PLURALS.get(_items(hint), describe(_items(hint)))}"
    return _NAMES[hint]


def options_from(cls, values: typing.Mapping, where: str, *, config: bool = False):
    """``values`` as an instance of the ``Options`` dataclass ``cls``, defaults filled. An unknown key and a value of
    the wrong type are refused with an OptionsError naming ``where`` (the section's config path, gate_options.binary)
    and the key. ``config``: values from the config file, which may not set what the job sets itself."""
    allowed = config_fields(cls) if config else dataclasses.fields(cls)
    hints = typing.get_type_hints(cls)
    known = {f.name for f in allowed}
    for key, value in values.items():
        if key not in known and key in {f.name for f in dataclasses.fields(cls)}:
            raise OptionsError(f"{where}.{key}", "set by the job itself, not by the config")
        if key not in known:
            listed = ", ".join(sorted(known)) or "none"
            raise OptionsError(where, f"unknown option {key!r} (known: {listed})")
        if not accepts(hints[key], value):
            raise OptionsError(f"{where}.{key}", f"expected {describe(hints[key])}, got {value!r}")
    return cls(**{key: tuple(value) if typing.get_origin(hints[key]) is tuple else value
                  for key, value in values.items()})


def value_from_text(cls, key: str, text: str):
    """An option given on the command line (``--option NAME.KEY=VALUE``): the text itself where the option takes text
    (a revision of digits stays text), else JSON where it parses (numbers, null, true), else the text."""
    hint = typing.get_type_hints(cls).get(key) if dataclasses.is_dataclass(cls) else None
    if hint is not None and accepts(hint, text) and not (text == "null" and accepts(hint, None)):
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", type(None): "null"}


def type_schema(hint) -> dict:
    """The JSON Schema of a type: {'type': 'number'}, {'type': ['string', 'null']}, {'enum': [...]}, arrays."""
    if _is_union(hint):
        arms = [type_schema(arm) for arm in typing.get_args(hint)]
        if all(set(arm) == {"type"} for arm in arms):
            return {"type": [arm["type"] for arm in arms]}
        if all(set(arm) == {"enum"} or arm == {"type": "null"} for arm in arms):
            return {"enum": [choice for arm in arms for choice in arm.get("enum", [None])]}
        return {"anyOf": arms}
    if typing.get_origin(hint) is typing.Literal:
        return {"enum": list(typing.get_args(hint))}
    if typing.get_origin(hint) in (list, tuple):
        return {"type": "array", "items": type_schema(_items(hint))}
    return {"type": _JSON_TYPES[hint]}


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


def options_schema(cls, *, defaults: bool) -> dict:
    """The JSON Schema of a config section that sets ``cls``'s options: each field's type, doc and keywords.
    ``defaults``: as schema defaults, which config validation fills in (else the doc names each default)."""
    hints = typing.get_type_hints(cls)
    properties = {}
    for f in config_fields(cls):
        prop = {**type_schema(hints[f.name]), **f.metadata.get("schema", {})}
        if defaults:
            prop.update(description=f.metadata.get("doc", ""), default=_plain(f.default))
        else:
            prop["description"] = f"{f.metadata.get('doc', '')} (default: {json.dumps(_plain(f.default))})"
        properties[f.name] = prop
    schema = {"type": "object", "additionalProperties": False, "properties": properties}
    doc = cls.__doc__ or ""
    if doc and not doc.startswith(f"{cls.__name__}("):  # not the signature dataclass() writes when there is none
        schema["description"] = " ".join(doc.split())
    if defaults:
        schema["default"] = {}
    return schema
