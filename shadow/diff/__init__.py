"""Diff stage: pure functions from (production output, candidate output, request context) to metrics.

No I/O: this package imports neither httpx, aiokafka nor clickhouse-connect.
"""

from shadow.diff.compare import COMPARATOR_VERSION, Comparison, DiffContext, PairMetrics, SideMetrics, compare

__all__ = ["COMPARATOR_VERSION", "Comparison", "DiffContext", "PairMetrics", "SideMetrics", "compare"]
