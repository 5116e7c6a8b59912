"""The trace regrouped by execution; it lives in :mod:`convex_sim.execution_records`."""

from convex_sim.execution_records import ExecutionRecord, executions

__all__ = ["ExecutionRecord", "executions"]
