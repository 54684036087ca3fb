"""gatedloop: recursive self-training of code LLMs behind review gates."""

__version__ = "0.1.0"
