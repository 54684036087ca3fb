"""Offline task and code sources: the microtask families, the prompt pool, the standard library's code."""
