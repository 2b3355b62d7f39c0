"""The embedded default: bundled sample events, a local candidate endpoint and the demo run."""
