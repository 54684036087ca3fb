"""The study's evaluation settings: its stop lists per benchmark cut crafted completions where it cuts them, the
prompt the model sees is stripped while the checked program keeps the task's own prompt, tabs become four spaces,
the summary records what was used, and the workflow passes the new flags only where a config sets them."""

from __future__ import annotations

import json

import pytest
import yaml
from workflow_runs import CONFIG, score_commands, snakemake

import gatedloop.score as score_module
from gatedloop.backends import SamplingParams, truncate_at_stop
from gatedloop.benchmarks import load
from gatedloop.benchmarks.lcb import release_files
from gatedloop.sandbox import Limits
from gatedloop.score import benchmark_settings, finished_completion, main, model_prompt, score

# The study's lists (v1 configs/<model>.yaml: stop_sequences_humaneval / stop_sequences_mbpp, the same for all four
# models), as a config gives them: score.stop.<benchmark>.
STUDY_HUMANEVAL = ["\nclass ", "\ndef ", "\n#", "\nif ", "\nprint"]
STUDY_MBPP = ["\nclass ", "\nassert", '\n"""', "\nprint", "\nif "]

BODY = "    return x + 1\n"
HUMANEVAL_CASES = [  # (what the model wrote after the body, whether the study's list cuts it off)
    ("\ndef test():\n    pass\n", True),
    ("\nclass Helper:\n    pass\n", True),
    ("\n# a trailing note\n", True),
    ("\nif __name__ == '__main__':\n    print(f(1))\n", True),
    ("\nprint(f(1))\n", True),
    ("\nassert f(1) == 2\n", False),  # not in the study's HumanEval list
    ("\nresult = f(1)\n", False),  # nor is top-level code in general
    ("\nifx = 3\n", False),  # "\nif " needs its space
]
FUNCTION = "def add_one(x):\n    return x + 1\n"
MBPP_CASES = [
    ("\nassert add_one(1) == 2\n", True),
    ('\n"""\nMore prose.\n"""\n', True),
    ("\nprint(add_one(1))\n", True),
    ("\nif __name__ == '__main__':\n    pass\n", True),
    ("\nclass Helper:\n    pass\n", True),
    ("\ndef helper(y):\n    return y\n", False),  # MBPP answers are whole modules: a second function stays
    ("\n# a comment\n", False),
]


@pytest.mark.parametrize(("after", "cut"), HUMANEVAL_CASES)
def test_the_study_humaneval_list_ends_a_body_where_the_study_ends_it(after, cut):
    assert truncate_at_stop(BODY + after, STUDY_HUMANEVAL) == (BODY if cut else BODY + after)


@pytest.mark.parametrize(("after", "cut"), MBPP_CASES)
def test_the_study_mbpp_list_ends_a_module_where_the_study_ends_it(after, cut):
    assert truncate_at_stop(FUNCTION + after, STUDY_MBPP) == (FUNCTION if cut else FUNCTION + after)


def test_prompt_strip_and_tab_expansion():
    prompt = '\n\ndef f(x):\n    """Add one."""\n  \t\n'
    assert model_prompt(prompt, "none") == prompt
    assert model_prompt(prompt, "trailing") == '\n\ndef f(x):\n    """Add one."""'
    assert model_prompt(prompt, "both") == 'def f(x):\n    """Add one."""'
    with pytest.raises(ValueError, match="prompt_strip 'left'"):
        model_prompt(prompt, "left")
    assert finished_completion("\tif x:\n\t\treturn 1\n", True) == "    if x:\n        return 1\n"
    assert finished_completion("\tif x:\n", False) == "\tif x:\n"
    assert finished_completion("a\tb", True) == "a    b"  # a plain replacement, as the study does: not to column 8


# A HumanEval-format task whose prompt ends in whitespace; the fake model answers with tab indentation and what a
# base model writes after it.
TASK = {"task_id": "Crafted/0", "prompt": 'def add_one(x):\n    """Add one to x."""\n   \n',
        "canonical_solution": BODY, "test": "def check(candidate):\n    assert candidate(1) == 2\n",
        "entry_point": "add_one"}
RAW_ANSWER = "\n\treturn x + 1\n\n\ndef test_add_one():\n    assert add_one(1) == 3\n"


class FakeBackend:
    """Records the prompts it gets; answers each with RAW_ANSWER cut at the stop strings, as real backends cut."""

    tokenizer = None

    def __init__(self):
        self.prompts: list[str] = []

    def generate(self, prompts, params, seed=0):
        self.prompts += prompts
        return [truncate_at_stop(RAW_ANSWER, params.stop) for _ in prompts]


@pytest.fixture
def crafted(tmp_path, monkeypatch):
    data = tmp_path / "humaneval-crafted.jsonl"
    data.write_text(json.dumps(TASK) + "\n")
    backend = FakeBackend()
    monkeypatch.setattr(score_module, "open_backend", lambda *args, **kwargs: backend)
    return str(data), backend


def _score(data, **settings):
    params = SamplingParams(temperature=0.0, max_new_tokens=512)
    return score("fake", "humaneval", data, params, "transformers", "cpu", Limits(timeout_s=5.0), workers=1,
                 stop=STUDY_HUMANEVAL, **settings)


def test_the_study_settings_reach_the_model_and_the_checked_program(crafted):
    data, backend = crafted
    rows, summary = _score(data, prompt_strip="both", expand_tabs=True)
    assert backend.prompts == ['def add_one(x):\n    """Add one to x."""']
    assert rows[0]["completion"] == "\n    return x + 1\n\n"  # cut at "\ndef ", tab expanded
    assert rows[0]["passed"], rows[0]  # program = the task's own prompt + the completion
    assert summary["prompt_strip"] == "both" and summary["expand_tabs"] is True
    assert summary["stop"] == STUDY_HUMANEVAL == summary["sampling"]["stop"]
    assert summary["sampling"]["max_new_tokens"] == 512 and summary["benchmark_settings"] == {}


def test_by_default_the_prompt_and_the_tabs_stay_as_they_are(crafted):
    data, backend = crafted
    rows, summary = _score(data)
    assert backend.prompts == [TASK["prompt"]]
    assert rows[0]["completion"] == "\n\treturn x + 1\n\n"
    assert not rows[0]["passed"]  # a tab after space-indented lines: Python refuses the mix
    assert summary["prompt_strip"] == "none" and summary["expand_tabs"] is False


def test_an_unknown_prompt_strip_is_refused_by_the_cli(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--model", "m", "--benchmark", "humaneval", "--out", str(tmp_path / "v.jsonl"), "--summary",
              str(tmp_path / "s.json"), "--prompt-strip", "left"])
    assert "--prompt-strip: 'left'" in capsys.readouterr().err


def test_livecodebench_release_v1_is_the_default_reads_the_first_file_and_is_recorded():
    assert release_files("release_v1") == ["test.jsonl"]
    recorded = benchmark_settings(load("livecodebench"))
    assert recorded["release_version"] == "release_v1" and recorded["timeout_s"] == 6
    assert benchmark_settings(load("livecodebench", None, {"release_version": "release_v2"}))["release_version"] \
        == "release_v2"


# The workflow: which score commands carry the new flags.
def _score_commands(tmp_path, **score_settings) -> dict[str, list[list[str]]]:
    config = yaml.safe_load(CONFIG.read_text())
    config["score"].update(score_settings)
    tmp_path.mkdir()
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(config))
    result = snakemake(tmp_path, "-n", "--printshellcmds", configfile=path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return score_commands(result)


@pytest.mark.integration
def test_the_new_flags_appear_only_where_a_config_sets_them(tmp_path):
    plain = _score_commands(tmp_path / "plain")
    assert plain and not any({"--prompt-strip", "--expand-tabs"} & set(words)
                             for jobs in plain.values() for words in jobs)
    benchmarks = sorted(plain)
    chosen = _score_commands(tmp_path / "study", prompt_strip={benchmarks[0]: "both"}, expand_tabs=True)
    for name, jobs in chosen.items():
        for words in jobs:
            assert words[words.index("--expand-tabs") + 1] == "true"
            stripped = "--prompt-strip" in words
            assert stripped == (name == benchmarks[0])
            if stripped:
                assert words[words.index("--prompt-strip") + 1] == "both"
