"""Report stage: the read side — summary, gate and report queries over ClickHouse."""
