"""Check scenario config files against the schema and the registries, before anything runs.

CLI: ``gatedloop check-config config/paper.yaml [more.yaml ...]`` (files merge in order, as Snakemake merges
``--configfile`` files). Prints ``valid: ...`` or exits non-zero with an error that names the file and key.
``gatedloop check-config --schema`` prints the schema configs are checked against: the schema file with every
gate's and benchmark's options generated from their ``Options`` dataclasses.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from gatedloop.core.config import SCHEMA, ConfigError, config_schema, load_yaml, merge, validate_config


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="gatedloop check-config", description=__doc__.split("\n\n")[0])
    parser.add_argument("configfiles", type=Path, nargs="*")
    parser.add_argument("--schema", action="store_true", help="print the full schema (gate and benchmark options "
                        "included) instead")
    args = parser.parse_args(argv)
    if args.schema:
        print(yaml.safe_dump(config_schema(SCHEMA), sort_keys=False, width=120), end="")
        return
    if not args.configfiles:
        parser.error("name at least one config file (or --schema)")
    try:
        config: dict = {}
        for path in args.configfiles:
            if not path.is_file():
                raise ConfigError(f"{path}: no such file")
            loaded = load_yaml(path)
            if not isinstance(loaded, dict):
                raise ConfigError(f"{path}: a config file is a YAML mapping (key: value), not {type(loaded).__name__}")
            config = merge(config, loaded)
        validate_config(config, SCHEMA)
    except ConfigError as exc:
        sys.exit(f"config: error: {exc}")
    print(f"valid: {', '.join(map(str, args.configfiles))}")


if __name__ == "__main__":
    main()
