"""Sink stage: comparison rows and ingest-log rows, batched into ClickHouse or chDB."""
