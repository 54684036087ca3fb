"""Config validation: the options of gates and benchmarks (typed by their ``Options``), JSON Schema (with defaults
filled from the schema; each gate's and benchmark's options section generated from its ``Options``), then registry
names.

Used by the Snakefile before any job is planned, and by tests. Every error names the config key (and a YAML
syntax error its file and line). CLI, to check scenario files before a run or a submission:
``python -m gatedloop.core.config config/paper.yaml [more.yaml ...]`` (later files override earlier ones, as
Snakemake merges ``--configfile`` files).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import re
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator, validators

from gatedloop.core.options import OptionsError, config_fields
from gatedloop.models.loading import check_model_dir

# The schema in the checkout (src/gatedloop/core/ -> the repository root).
SCHEMA = Path(__file__).resolve().parents[3] / "workflow" / "schemas" / "config.schema.yaml"


class ConfigError(ValueError):
    """A config problem, with the offending key in the message."""


def _with_defaults(validator_class):
    """A validator that fills each property's schema default before validating it (the jsonschema FAQ recipe)."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def fill_then_validate(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema and name not in instance:
                    instance[name] = copy.deepcopy(subschema["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return validators.extend(validator_class, {"properties": fill_then_validate})


FillingValidator = _with_defaults(Draft202012Validator)


def _key(path) -> str:
    parts = [f"[{p}]" if isinstance(p, int) else f".{p}" for p in path]
    return "".join(parts).lstrip(".") or "(top level)"


def load_schema(path: str | Path) -> dict:
    with open(path) as f:
        return yaml.safe_load(f)


def benchmark_option_sections() -> list[str]:
    """The benchmarks with settings of their own: each has a section score.<name>."""
    from gatedloop.benchmarks import BENCHMARKS

    return [name for name, benchmark in BENCHMARKS.items() if config_fields(benchmark.Options)]


def config_schema(path: str | Path) -> dict:
    """The schema file with the options of every gate (gate_options.<gate>) and every benchmark with settings
    (score.<benchmark>) generated from their ``Options`` dataclasses, so the schema cannot drift from the code. Gate
    options carry no schema default (their jobs get the options as written, and the gate fills its defaults, so a
    default changes no job); a benchmark's section is filled with its defaults, as its jobs' --option flags are."""
    from gatedloop.benchmarks import BENCHMARKS
    from gatedloop.gates import GATES
    from gatedloop.gates.base import ARM_MARK

    schema = load_schema(path)
    gate_options = schema["properties"]["gate_options"]
    gate_options["properties"] = {
        name: {**GATES.options_schema(name, defaults=False), "description": f"gate {name} ({gate.kind})"}
        for name, gate in GATES.items()}
    gate_options["patternProperties"] = {
        f"^{re.escape(name)}{ARM_MARK}[A-Za-z0-9][A-Za-z0-9_.-]*$": {
            **GATES.options_schema(name, defaults=False), "description": f"a variant arm of gate {name}"}
        for name, gate in GATES.items() if gate.kind != "control"}
    gate_options["additionalProperties"] = False
    score = schema["properties"]["score"]["properties"]
    for name in benchmark_option_sections():
        score[name] = BENCHMARKS.options_schema(name, defaults=True)
    return schema


def load_yaml(path: str | Path) -> dict:
    """Read a YAML config file; a syntax error names the file and line."""
    try:
        with open(path) as f:
            data = yaml.safe_load(f)
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the config must be a mapping of keys to values")
    return data


def check_names(config: dict) -> None:
    """Names the schema cannot know: they live in the code's registries."""
    from gatedloop.backends import BACKENDS
    from gatedloop.benchmarks import BENCHMARKS
    from gatedloop.gates import GATES
    from gatedloop.gates.base import ARM_MARK
    from gatedloop.models.sources import SOURCES

    checks = [(f"gates[{i}]", name, GATES) for i, name in enumerate(config["gates"])]
    checks += [(f"score.benchmarks[{i}]", name, BENCHMARKS) for i, name in enumerate(config["score"]["benchmarks"])]
    checks += [("generate.backend", config["generate"]["backend"], BACKENDS),
               ("score.backend", config["score"]["backend"], BACKENDS)]
    checks += [(f"models.{m}.source", spec["source"], SOURCES) for m, spec in config["models"].items()]
    for key, name, registry in checks:
        if name not in registry:
            raise ConfigError(f"config key '{key}': unknown {registry.kind} {name!r}; "
                              f"known: {', '.join(registry.names())}")
    for i, arm in enumerate(config["gates"]):
        if ARM_MARK in arm and GATES.kind_of(arm) == "control":
            raise ConfigError(f"config key 'gates[{i}]': {arm!r}: the control arm has no variants")
    scored = config["score"]["benchmarks"]
    for name in config["score"]["data"]:
        if name not in scored:
            raise ConfigError(f"config key 'score.data.{name}': {name!r} is not in score.benchmarks "
                              f"({', '.join(scored)})")
        if name == "microtasks":
            raise ConfigError("config key 'score.data.microtasks': the workflow builds the microtasks file itself")
    for key in ("stop", "prompt_strip"):  # per-benchmark settings
        for name in config["score"][key]:
            if name not in scored:
                raise ConfigError(f"config key 'score.{key}.{name}': {name!r} is not in score.benchmarks "
                                  f"({', '.join(scored)})")
    for key, chosen, available in (("figures.gates", config["figures"]["gates"], config["gates"]),
                                   ("figures.benchmarks", config["figures"]["benchmarks"], scored)):
        missing = [name for name in chosen if name not in available]
        if missing:
            raise ConfigError(f"config key '{key}': {missing[0]!r} is not run by this config "
                              f"({', '.join(available)})")


def check_options(config: dict) -> None:
    """The options of each gate (gate_options.<gate>) and benchmark (score.<benchmark>), typed by the registries
    from their ``Options``: an unknown key or a value of the wrong type is named with its config path, the type
    expected and the value given. Before the schema, whose generated sections would say the same less plainly;
    sections that are not mappings are left to it."""
    from gatedloop.benchmarks import BENCHMARKS
    from gatedloop.gates import GATES

    gate_options = config.get("gate_options", {})
    sections = []
    if isinstance(gate_options, dict):
        unknown = sorted(name for name in gate_options if name not in GATES)
        if unknown:
            raise ConfigError(f"config key 'gate_options': unknown gate {unknown[0]!r}; known: "
                              f"{', '.join(GATES.names())}, or a variant arm of one: <gate>@<label>")
        sections += [(GATES, name, values) for name, values in gate_options.items()]
    score = config.get("score", {})
    if isinstance(score, dict):
        sections += [(BENCHMARKS, name, score[name]) for name in benchmark_option_sections() if name in score]
    for registry, name, values in sections:
        if registry is GATES and isinstance(values, dict):
            check_noise_kind(name, values)
        if isinstance(values, dict):
            try:
                registry.options(name, values, config=True)
            except OptionsError as exc:
                raise ConfigError(f"config key '{exc.key}': {exc.problem}") from None


def check_noise_kind(gate: str, options: dict) -> None:
    """Decision noise is for model-independent gates (kinds human and exogenous, as in the study); on a self-gate
    or the control it would be refused as an unknown option: say why instead."""
    from gatedloop.gates import GATES
    from gatedloop.gates.noise import NOISY_KINDS

    kind = GATES.kind_of(gate)
    if "noise" in options and kind not in NOISY_KINDS:
        raise ConfigError(f"config key 'gate_options.{gate}.noise': decision noise applies only to gates of kind "
                          f"{' or '.join(NOISY_KINDS)} (model-independent checks); {gate!r} is of kind {kind}")


def validate_config(config: dict, schema_path: str | Path, check_tokenizers: bool = True) -> dict:
    """Return a validated copy of ``config`` with schema defaults filled in; raise ConfigError otherwise.
    ``check_tokenizers``: load the tokenizers that exist before the run to check answer words (the Snakefile does
    it in its main process only, not again in every cluster job)."""
    config = copy.deepcopy(dict(config))
    _dates_as_text(config)
    check_options(config)
    validator = FillingValidator(config_schema(schema_path))
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"config key '{_key(e.absolute_path)}': {e.message}" for e in errors]
        raise ConfigError("invalid config:\n  " + "\n  ".join(lines))
    select_models(config)
    add_control_arm(config)
    check_names(config)
    check_consistency(config)
    check_answer_options(config)
    if check_tokenizers:
        check_answer_words(config)
    return config


BASE_REVIEWER = "base"  # gate_options.cross.reviewer: the cell's own round-0 model
ANSWER_WORDS = ("yes_word", "no_word")


def asks_question(gate: str) -> bool:
    """A gate that asks a model a question and reads its answer word (binary, cross)."""
    from gatedloop.gates import GATES

    return "yes_word" in {f.name for f in config_fields(GATES.get(gate).Options)}


def answer_model(config: dict, model: str, gate: str) -> str | None:
    """The configured model whose tokenizer reads a gate's answer in the cells of ``model``: the model itself
    (self-gates; a reviewer 'base' is its round-0 model), the reviewer when it is another configured model, or
    None when the reviewer is a directory or hub id outside the config."""
    from gatedloop.gates import GATES

    if GATES.get(gate).scores_with != "reviewer":
        return model
    reviewer = arm_options(config, gate).get("reviewer", BASE_REVIEWER)
    if reviewer == BASE_REVIEWER:
        return model
    return reviewer if reviewer in config["models"] else None


def gate_options_for(config: dict, model: str, gate: str) -> dict:
    """A gate's options in the cells of ``model``: ``gate_options.<gate>``, with the answer words and template of
    the answering model (``models.<name>.gate_options.<gate>``, see answer_model) on top. The workflow passes
    exactly this to the gate and the audit, so changing one model's words re-plans only the jobs it answers in."""
    from gatedloop.gates.base import gate_of

    options = arm_options(config, gate)
    answering = answer_model(config, model, gate)
    if answering is not None:
        options.update(config["models"][answering].get("gate_options", {}).get(gate_of(gate), {}))
    return options


def arm_options(config: dict, arm: str) -> dict:
    """An arm's gate options: ``gate_options.<gate>``, and for a variant arm (``<gate>@<label>``) its own
    ``gate_options.<gate>@<label>`` on top."""
    from gatedloop.gates.base import options_of_arm

    return options_of_arm(config["gate_options"], arm)


def check_answer_options(config: dict) -> None:
    """Per-model gate options name gates that ask a question, and their template has the fields a gate fills."""
    from gatedloop.gates import GATES

    for name, spec in config["models"].items():
        for gate in spec.get("gate_options", {}):
            if gate not in GATES or not asks_question(gate):
                asking = [g for g in GATES.names() if asks_question(g)]
                raise ConfigError(f"config key 'models.{name}.gate_options.{gate}': per-model options are for the "
                                  f"gates that ask a question ({', '.join(asking)}), not {gate!r}")
    for model in config["models"]:
        for gate in filter(asks_question, config["gates"]):
            template = gate_options_for(config, model, gate).get("template")
            if template is None:
                continue
            try:
                template.format(prompt="", completion="")
            except (KeyError, IndexError, ValueError) as exc:
                raise ConfigError(f"config key '{_answer_key(config, model, gate, 'template')}': the template may "
                                  f"use {{prompt}} and {{completion}} only ({type(exc).__name__}: {exc})") from None


def _answer_key(config: dict, model: str, gate: str, key: str) -> str:
    """Where a gate's setting for ``model`` comes from: the answering model's options, the gate's, or the default."""
    answering = answer_model(config, model, gate)
    if answering is not None and key in config["models"][answering].get("gate_options", {}).get(gate, {}):
        return f"models.{answering}.gate_options.{gate}.{key}"
    return f"gate_options.{gate}.{key}"


def answering_tokenizer_source(config: dict, model: str, gate: str) -> tuple[str, str, str | None]:
    """(what it is, source kind, where) of the tokenizer that reads ``gate``'s answer in the cells of ``model``."""
    answering = answer_model(config, model, gate)
    if answering is None:  # a reviewer outside the config: a directory, or a hub id
        reviewer = arm_options(config, gate)["reviewer"]
        return f"reviewer {reviewer}", "local" if Path(reviewer).is_dir() else "hub", reviewer
    spec = config["models"][answering]
    where = {"local": spec.get("path"), "hub": spec.get("id")}.get(spec["source"])
    return f"model {answering!r}", spec["source"], where


def validation_tokenizer(config: dict, model: str, gate: str):
    """The tokenizer that reads ``gate``'s answer in the cells of ``model``, when it exists before the run: a local
    directory, a packaged GGUF, a hub model already in the local cache; None otherwise (a model trained from scratch
    has no tokenizer until its tokenizer job: its gate job checks the words)."""
    _, kind, where = answering_tokenizer_source(config, model, gate)
    if kind == "local":
        from gatedloop.models.loading import load_tokenizer

        return load_tokenizer(where)
    if kind == "hub":
        from transformers import AutoTokenizer

        answering = answer_model(config, model, gate)
        revision = config["models"][answering].get("revision") if answering else None
        try:
            return AutoTokenizer.from_pretrained(where, revision=revision, local_files_only=True)
        except Exception:  # not in the local cache (or not a hub id): its gate job checks the words
            return None
    if kind == "packaged":
        from transformers import AutoTokenizer

        from gatedloop.models.sources import packaged_file

        spec = config["models"][answer_model(config, model, gate)]
        gguf = packaged_file(spec["package"], spec["file"])
        return AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    return None


def check_answer_words(config: dict) -> None:
    """Every answer word is a single token of the tokenizer that reads it, for each model whose tokenizer exists
    before the run: a two-token word would fail every gate job of the model mid-sweep."""
    from gatedloop.core.encoding import TextEncoder, token_pieces
    from gatedloop.gates import GATES

    encoders: dict = {}  # one load per tokenizer (a model's binary and cross gates read the same one)
    for model in config["models"]:
        for gate in filter(asks_question, config["gates"]):
            described = answering_tokenizer_source(config, model, gate)[0]
            if described not in encoders:
                tokenizer = validation_tokenizer(config, model, gate)
                encoders[described] = TextEncoder(tokenizer) if tokenizer is not None else None
            encoder = encoders[described]
            if encoder is None:
                continue
            settings = dataclasses.asdict(GATES.options(gate, gate_options_for(config, model, gate)))
            for key in ANSWER_WORDS:
                ids = encoder.continuation(settings[key])
                if len(ids) != 1:
                    pieces = token_pieces(encoder, ids)
                    answering = answer_model(config, model, gate)
                    where = f"models.{answering}.gate_options" if answering else "gate_options"
                    raise ConfigError(
                        f"config key '{_answer_key(config, model, gate, key)}': gate {gate!r} of model {model!r}: "
                        f"{settings[key]!r} is {len(ids)} tokens {pieces} in the tokenizer of {described}; an answer "
                        f"word must be a single token (set one under {where}.{gate}.{key})")


def select_models(config: dict) -> None:
    """only_models keeps those models of ``models`` (in their order there); a name not among them is named."""
    chosen = config["only_models"]
    if chosen is None:
        return
    unknown = [name for name in chosen if name not in config["models"]]
    if unknown:
        raise ConfigError(f"config key 'only_models': {unknown[0]!r} is not a model of models "
                          f"({', '.join(config['models'])})")
    for arm in config["gates"]:
        reviewer = arm_options(config, arm).get("reviewer") if isinstance(config.get("gate_options"), dict) else None
        if reviewer in config["models"] and reviewer not in chosen:
            raise ConfigError(f"config key 'only_models': gate_options.{arm}.reviewer names model {reviewer!r}, "
                              "which only_models leaves out: keep it, or name the reviewer another way")
    config["models"] = {name: spec for name, spec in config["models"].items() if name in chosen}


def add_control_arm(config: dict) -> None:
    """control.enabled puts the control arm in every sweep: 'reference' joins the gates (once)."""
    from gatedloop.gates import GATES

    control = GATES.control_name()
    if config["control"]["enabled"] and control not in config["gates"]:
        config["gates"] = [*config["gates"], control]


def resolve_control_solutions(config: dict, prompts: list[dict] | None) -> None:
    """control.solutions auto -> prompts (every prompt has a canonical_solution) or human_pool; an explicit
    'prompts' with a pool that lacks solutions is refused, naming the first prompt without one."""
    from gatedloop.data.prompt_pool import missing_solutions
    from gatedloop.gates import GATES

    control = config["control"]
    missing = missing_solutions(prompts) if prompts is not None else []  # None: the microtasks pool (has them)
    if control["solutions"] == "auto":
        control["solutions"] = "human_pool" if missing else "prompts"
    elif control["solutions"] == "prompts" and missing and GATES.control_name() in config["gates"]:
        raise ConfigError(f"config key 'control.solutions': 'prompts' trains the control arm on each prompt's "
                          f"canonical_solution, and {len(missing)} prompt(s) of prompt source "
                          f"{config['prompts'].get('source') or 'pool'!r} have none (first: {missing[0]!r}); "
                          "use human_pool")


def check_packaged(name: str, spec: dict) -> None:
    """The package is installed and carries the file: a missing one is named at validation, not after a
    half-hour of other jobs."""
    from gatedloop.models.sources import packaged_file

    for key in ("package", "file"):
        if not spec.get(key):
            raise ConfigError(f"config key 'models.{name}.{key}': source 'packaged' needs it")
    try:
        packaged_file(spec["package"], spec["file"])
    except ValueError as exc:
        raise ConfigError(f"config key 'models.{name}.package': {exc}") from None


CHECKED_DATA_BYTES = 256 * 2**20  # bigger files (LiveCodeBench with its private tests) are checked by their job


def check_benchmark_file(name: str, path: str) -> None:
    """A broken line in a benchmark file is named now, before any job runs, not in the middle of a sweep."""
    from gatedloop.benchmarks import BENCHMARKS

    if Path(path).stat().st_size > CHECKED_DATA_BYTES:
        return
    try:
        BENCHMARKS.get(name).check_data(path)
    except (ValueError, UnicodeDecodeError, OSError) as exc:
        raise ConfigError(f"config key 'score.data.{name}': {exc}") from None


def check_prompts(config: dict) -> None:
    """The prompt source (prompts.source, resolved where unset: pool with a path, else microtasks) and its files.
    A pool of your own: well-formed, no duplicates, no prompt of a scored benchmark, tests where a gate runs them.
    Another source: its own checks (a local corpus exists and reads), and no gate that needs tests it lacks."""
    from gatedloop.core.options import OptionsError
    from gatedloop.prompt_sources import from_config, source_name

    section = config["prompts"]
    section["source"] = source_name(section)
    if section["source"] != "pool" and section["path"] is not None:
        raise ConfigError(f"config key 'prompts.path': a pool file is read by source 'pool', not "
                          f"{section['source']!r} (drop path, or set source: pool)")
    try:
        source = from_config(section)
        source.check()
    except OptionsError as exc:
        raise ConfigError(f"config key '{exc.key}': {exc.problem}") from None
    if section["source"] == "pool":
        check_pool_file(config)
        return
    if source.tests_every_prompt() is False:
        if needs_tests(config):
            raise ConfigError(f"config key 'prompts.source': gate {needs_tests(config)[0]!r} runs each prompt's "
                              f"tests, and source {section['source']!r} has none (or set its option untested: run)")
        resolve_control_solutions(config, [{"task_id": "any prompt"}])  # no canonical solutions either
    else:
        resolve_control_solutions(config, None)


def check_pool_file(config: dict) -> None:
    from gatedloop.data.prompt_pool import check_pool

    path = config["prompts"]["path"]
    if not Path(path).is_file():
        raise ConfigError(f"config key 'prompts.path': {path} is not a file")
    try:
        rows = check_pool(path, config["score"]["benchmarks"], config["score"]["data"], config["microtasks"])
    except ValueError as exc:
        raise ConfigError(f"config key 'prompts.path': {exc}") from None
    resolve_control_solutions(config, rows)
    untested = [row["task_id"] for row in rows if not row.get("tests")]
    if needs_tests(config) and untested:
        raise ConfigError(f"config key 'prompts.path': gate {needs_tests(config)[0]!r} runs each prompt's tests, "
                          f"and {len(untested)} prompt(s) have none (first: {untested[0]!r}; or set the gate's "
                          "option untested: run)")


def needs_tests(config: dict) -> list[str]:
    """The arms of the execution gate that refuse a sample without tests (option untested: error)."""
    from gatedloop.gates.base import gate_of

    return [arm for arm in config["gates"]
            if gate_of(arm) == "execution" and arm_options(config, arm).get("untested", "error") == "error"]


def check_consistency(config: dict) -> None:
    """Settings that are valid alone but not together."""
    for name, spec in config["models"].items():
        if spec["source"] == "hub" and not spec.get("id"):
            raise ConfigError(f"config key 'models.{name}.id': source 'hub' needs the hub id (e.g. ORG/NAME)")
        if spec["source"] == "local":
            path = spec.get("path")
            if not path or not Path(path).is_dir():
                raise ConfigError(f"config key 'models.{name}.path': source 'local' needs a Hugging Face model "
                                  f"directory; {path!r} is not a directory")
            try:
                check_model_dir(path)
            except FileNotFoundError as exc:
                raise ConfigError(f"config key 'models.{name}.path': {exc}") from None
        if spec["source"] == "packaged":
            check_packaged(name, spec)
    check_prompts(config)
    check_mixture(config)
    check_evaluation_rounds(config)
    check_finetune_batches(config)
    check_selection(config)
    probe = config["analysis"]["probe"]
    if probe["source"] == "file" and not (probe["path"] and Path(probe["path"]).is_file()):
        raise ConfigError(f"config key 'analysis.probe.path': source 'file' needs a JSONL file with a 'text' field "
                          f"per line; {probe['path']!r} is not a file")
    score = config["score"]
    for name, path in score["data"].items():
        if not Path(path).is_file():
            raise ConfigError(f"config key 'score.data.{name}': {path} is not a file")
        check_benchmark_file(name, path)
    if score["n_samples"] > 1 and score["temperature"] == 0:
        raise ConfigError(f"config key 'score.n_samples': {score['n_samples']} samples per task need "
                          "score.temperature > 0 (greedy samples are all the same); the study used 0.8")


def check_selection(config: dict) -> None:
    """Selection in waves (budget.selection) needs the N it stops at, within the candidate budget."""
    budget = config["budget"]
    if budget["selection"] != "waves":
        return
    accepted = budget["accepted_per_round"]
    if accepted is None:
        raise ConfigError("config key 'budget.accepted_per_round': budget.selection 'waves' generates until this many "
                          "samples pass the gate: set it (the study: 5000)")
    if budget["candidate_budget"] < accepted:
        raise ConfigError(f"config key 'budget.candidate_budget': {budget['candidate_budget']} candidates cannot "
                          f"reach budget.accepted_per_round {accepted}")
    from gatedloop.gates import GATES
    from gatedloop.gates.self_gates import quantile_count, quantile_pool
    from gatedloop.gates.waves import wave_gates

    for arm in wave_gates(config):
        if arm_options(config, arm).get("mode") == "calibrated":
            raise ConfigError(f"config key 'gate_options.{arm}.mode': calibrated takes its threshold from all of round "
                              "1's decisions, which selection in waves never sees whole: use mode threshold or "
                              "quantile, or budget.selection fixed")
    for arm in config["gates"]:
        keep = GATES.get(arm).keep_fraction(arm_options(config, arm))
        if keep is not None and quantile_count(keep, quantile_pool(accepted, keep)) != accepted:
            raise ConfigError(f"config key 'gate_options.{arm}.keep_fraction': a quantile of {keep} cannot keep "
                              f"exactly budget.accepted_per_round {accepted} (the study's pool of N / keep_fraction "
                              "is a whole number: 5000 / 0.25 = 20000)")


def nl_fraction_for(config: dict, model: str) -> float:
    """A model's natural-language share: its own (models.<name>.nl_fraction), else natural_language.fraction."""
    return config["models"][model].get("nl_fraction", config["natural_language"]["fraction"])


def pool_prompts(config: dict) -> list[str]:
    """The prompts of the prompt pool every round generates from: prompts.path's, or the embedded microtasks'."""
    if config["prompts"]["path"] is not None:
        from gatedloop.data.prompt_pool import read_pool

        return [row["prompt"] for row in read_pool(config["prompts"]["path"])]
    from gatedloop.data.task_families import split_tasks

    microtasks = config["microtasks"]
    return [task.prompt for task in split_tasks(microtasks["heldout_fraction"], microtasks["seed"],
                                                microtasks["pool_size"])["pool"]]


def check_mixture(config: dict) -> None:
    """The study's training mixture (anchors, natural_language): the budget it shares out, the files, and enough
    rows for every round's slice, before any job; an anchor that is a prompt of the pool is refused."""
    from gatedloop.data import mixture

    anchor_fraction = config["anchors"]["fraction"]
    for i, arm in enumerate(config["anchors"]["arms"] or []):
        if arm not in config["gates"]:
            raise ConfigError(f"config key 'anchors.arms[{i}]': {arm!r} is not an arm of gates "
                              f"({', '.join(config['gates'])})")
    nl_fractions = {model: nl_fraction_for(config, model) for model in config["models"]}
    if not anchor_fraction and not any(nl_fractions.values()):
        return
    total = config["budget"]["accepted_per_round"]
    if total is None:
        raise ConfigError("config key 'budget.accepted_per_round': anchors.fraction and natural_language fractions "
                          "are shares of each round's total training set: set the total here (the study: 5000)")
    rounds = config["rounds"]
    for model, nl_fraction in nl_fractions.items():
        try:
            mixture.mixture_counts(total, anchor_fraction, nl_fraction)
        except ValueError as exc:
            raise ConfigError(f"config key 'anchors.fraction' / nl_fraction of model {model!r}: {exc}") from None
    if anchor_fraction:
        path = _mixture_file(config, "anchors")
        try:
            rows = mixture.read_anchors(path)
            mixture.check_anchor_supply(path, rows, round(total * anchor_fraction), rounds)
        except ValueError as exc:
            raise ConfigError(f"config key 'anchors.path': {exc}") from None
        hit = mixture.pool_overlap(rows, pool_prompts(config))
        if hit is not None:
            raise ConfigError(f"config key 'anchors.path': {path}:{hit['line']}: anchor {hit['id']!r} is a prompt of "
                              "the prompt pool; anchors must be fresh data, never a prompt the model completes")
    needed = max(round(total * fraction) for fraction in nl_fractions.values())
    if needed:
        path = _mixture_file(config, "natural_language")
        try:
            mixture.check_natural_language_supply(path, mixture.read_natural_language(path), needed, rounds)
        except ValueError as exc:
            raise ConfigError(f"config key 'natural_language.path': {exc}") from None


def _mixture_file(config: dict, section: str) -> str:
    path = config[section]["path"]
    if path is None or not Path(path).is_file():
        raise ConfigError(f"config key '{section}.path': a fraction above 0 needs a JSONL file; {path!r} is not a "
                          "file")
    return path


def check_evaluation_rounds(config: dict) -> None:
    """The rounds scored: within 0..rounds, with round 0 (the baseline) and the last round (the study's rule)."""
    chosen = config["evaluation_rounds"]
    if chosen is None:
        return
    last = config["rounds"]
    outside = [r for r in chosen if r > last]
    if outside:
        raise ConfigError(f"config key 'evaluation_rounds': round {outside[0]} is past the last round ({last})")
    for needed, what in ((0, "the baseline, round 0"), (last, f"the last round, {last}")):
        if needed not in chosen:
            raise ConfigError(f"config key 'evaluation_rounds': must include {what}; got {sorted(chosen)}")
def effective_batch(config: dict) -> int:
    """The samples (or packed sequences) per optimizer step: finetune.batch_size x finetune.grad_accum."""
    return config["finetune"]["batch_size"] * config["finetune"]["grad_accum"]


def finetune_batch(config: dict, model: str) -> tuple[int, int]:
    """(batch_size, grad_accum) of a model's fine-tuning: its own per-step batch (models.<name>.batch_sizes.finetune)
    with the accumulation that keeps the configured effective batch, else the finetune section's pair."""
    own = config["models"][model]["batch_sizes"].get("finetune")
    if own is None:
        return config["finetune"]["batch_size"], config["finetune"]["grad_accum"]
    return own, effective_batch(config) // own


def check_finetune_batches(config: dict) -> None:
    """A model's own fine-tuning batch must divide the effective batch, or its optimizer steps would differ."""
    effective = effective_batch(config)
    for name, spec in config["models"].items():
        own = spec["batch_sizes"].get("finetune")
        if own is not None and effective % own:
            raise ConfigError(f"config key 'models.{name}.batch_sizes.finetune': {own} does not divide the effective "
                              f"batch {effective} (finetune.batch_size {config['finetune']['batch_size']} x "
                              f"finetune.grad_accum {config['finetune']['grad_accum']})")


def _dates_as_text(config: dict) -> None:
    """YAML reads an unquoted 2024-05-01 as a date; the LiveCodeBench window takes it as text either way."""
    window = config.get("score", {}).get("livecodebench") if isinstance(config.get("score"), dict) else None
    if isinstance(window, dict):
        for key in ("start_date", "end_date"):
            if isinstance(window.get(key), datetime.date):
                window[key] = window[key].isoformat()


# The stage sections' keys that are not fields of their stage's settings dataclasses (which the rules pass as flags,
# common.smk cli_for), each with where it goes instead: the one place a config key may go around a stage's settings.
NOT_STAGE_SETTINGS = {
    "generate": {"backend": "--backend, with the vllm section's engine settings (backend_spec)",
                 "samples_per_prompt": "--samples-per-prompt"},
    "audit": {"enabled": "whether the audit rules run at all",
              "samples_per_task": "--samples-per-task", "timeout_s": "--timeout-s", "bootstrap": "--bootstrap"},
    "score": {"benchmarks": "the score jobs, one per benchmark ({benchmark})",
              "backend": "--backend, with the vllm section's engine settings (backend_spec)",
              "timeout_s": "--timeout-s", "max_tasks": "--max-tasks, where set",
              "data": "--data and the job's input file, per benchmark"},
    "finetune": {"keep_merged": "--adapter-chain where false"},
    "analysis": {"enabled": "whether the analyze rules run at all", "probe": "the probe rule's settings (probe.smk)"},
    "sample_checks": {"enabled": "whether the sample_checks rules run at all",
                      "training_from_finetune": "--finetune and the round's finetune.json as input, where true"},
}


def not_stage_settings(section: str) -> dict[str, str]:
    """NOT_STAGE_SETTINGS of a section; score's include each benchmark's own settings (score.<benchmark>), which go
    to its jobs as --option BENCHMARK.KEY=VALUE."""
    keys = dict(NOT_STAGE_SETTINGS.get(section, {}))
    if section == "score":
        keys.update({name: "--option NAME.KEY=VALUE (benchmark_options)" for name in benchmark_option_sections()})
    return keys


def merge(base: dict, override: dict) -> dict:
    """Snakemake's merge of several config files: nested mappings update key by key."""
    merged = dict(base)
    for key, value in override.items():
        merged[key] = merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) \
            else value
    return merged
