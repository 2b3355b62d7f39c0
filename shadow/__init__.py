"""shadow: measure LLM model rollouts on mirrored production traffic before users see them."""

__version__ = "0.1.0"
