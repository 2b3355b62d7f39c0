"""ClickHouse cluster mode on a real cluster: Keeper and two ClickHouse servers in Docker (issue 15)."""
