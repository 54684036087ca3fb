"""The user's command: ``gatedloop <verb> [options]``, one verb per tool (``gatedloop <verb> --help`` for each).

    gatedloop check-config FILE...   check scenario files against the schema and registries
    gatedloop estimate               jobs, GPU-hours and disk a config will cost, before submitting
    gatedloop findings               the study's findings checked against a finished run

The workflow's stages are not verbs here: Snakemake runs them (``python -m gatedloop.<stage>``).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

# verb -> module with a main(argv); imported only when its verb runs, so `gatedloop --help` is instant.
VERBS = {
    "check-config": "gatedloop.tools.check_config",
    "estimate": "gatedloop.tools.estimate",
    "findings": "gatedloop.tools.findings",
}


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"}:
        print(__doc__.strip())
        return
    verb, rest = args[0], args[1:]
    if verb not in VERBS:
        sys.exit(f"gatedloop: unknown verb {verb!r}; verbs: {', '.join(VERBS)}")
    importlib.import_module(VERBS[verb]).main(rest)


if __name__ == "__main__":
    main()
