"""Models: where round 0 comes from (``sources``), how every stage loads and saves them (``loading``), the
from-scratch architecture and tokenizer (``scratch``), prompt formats per model kind, and tiny test models."""
