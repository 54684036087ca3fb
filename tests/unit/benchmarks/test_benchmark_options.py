"""A benchmark's own settings (score.<benchmark>, --option NAME.KEY=VALUE): typed by its Options, named when wrong."""

import dataclasses

import pytest

from gatedloop.benchmarks import BENCHMARKS, load, parse_options
from gatedloop.core.options import OptionsError


def test_options_are_typed_with_their_defaults():
    settings = load("livecodebench", None, {"release_version": "release_v5", "timeout_s": 3}).settings
    assert (settings.release_version, settings.timeout_s, settings.start_date, settings.revision) == (
        "release_v5", 3, None, None)
    # the prepare job's record: every option, in the order they are declared (as the defaults dict had them)
    assert list(dataclasses.asdict(settings)) == ["release_version", "start_date", "end_date", "timeout_s",
                                                  "revision"]
    assert dataclasses.asdict(load("microtasks", "x.jsonl").settings) == {}


@pytest.mark.parametrize(("name", "options", "expected"), [
    ("livecodebench", {"release": "v5"}, r"^score.livecodebench: unknown option 'release' \(known: end_date, "),
    ("livecodebench", {"timeout_s": "6s"}, r"^score.livecodebench.timeout_s: expected an integer, got '6s'$"),
    ("humaneval", {"timeout_s": 6}, r"^score.humaneval: unknown option 'timeout_s' \(known: none\)$"),
])
def test_a_wrong_option_is_named(name, options, expected):
    with pytest.raises(OptionsError, match=expected):
        load(name, None, options)


def test_command_line_options_take_the_options_types():
    parsed = parse_options(["livecodebench.revision=20240501", "livecodebench.timeout_s=6",
                            "livecodebench.start_date=2024-05-01", "livecodebench.end_date=null"])
    assert parsed == {"livecodebench": {"revision": "20240501", "timeout_s": 6, "start_date": "2024-05-01",
                                        "end_date": None}}
    assert load("livecodebench", None, parsed["livecodebench"]).settings.revision == "20240501"
    with pytest.raises(ValueError, match="expected BENCHMARK.KEY=VALUE"):
        parse_options(["livecodebench=6"])


def test_the_registry_knows_where_each_benchmarks_options_live():
    assert BENCHMARKS.options_at("livecodebench") == "score.livecodebench"
    assert BENCHMARKS.options("livecodebench", {"timeout_s": 2}).timeout_s == 2
