"""convex-semantics.md §10, end to end: each transaction limit, just under and just over.

Functions are in ``tests/apps/s10_limits.py``; each mutation writes a marker
row first, so "nothing committed" is checked, not assumed. Scheduling limits
(functions scheduled, scheduled args) are in ``test_s6_scheduler.py`` (§6.8).
"""

from __future__ import annotations

import pytest

from convex_sim import (
    ConvexSimError,
    InvalidValueError,
    LimitExceededError,
    Simulator,
    define_app,
    define_schema,
    define_table,
    v,
)
from tests.apps import s10_limits

MIB = 1024 * 1024
BLOB = 1_000_000  # a document of one such blob is just under 1 MiB


def make_sim() -> Simulator:
    schema = define_schema({"rows": define_table({"i": v.int64()}).index("by_i", ["i"])})
    return Simulator(define_app(schema=schema, modules=[s10_limits]))


def markers(sim: Simulator) -> int:
    return int(sim.query(s10_limits.markers))


# -- documents written ----------------------------------------------------------------------


def test_10_16000_writes_in_one_mutation_are_allowed() -> None:
    sim = make_sim()
    assert sim.mutation(s10_limits.insert_rows, {"count": 15_999}) == 15_999  # + the marker
    assert sim.query(s10_limits.count_rows) == 15_999
    assert markers(sim) == 1


def test_10_too_many_writes_past_16000() -> None:
    sim = make_sim()
    with pytest.raises(LimitExceededError) as raised:
        sim.mutation(s10_limits.insert_rows, {"count": 16_000})  # + the marker: 16 001
    assert raised.value.code == "TooManyWrites"
    assert sim.query(s10_limits.count_rows) == 0
    assert markers(sim) == 0


def test_10_every_write_op_counts_even_on_the_same_document() -> None:
    sim = make_sim()
    with pytest.raises(LimitExceededError) as raised:
        # marker + insert + 15 999 patches of that one row = 16 001 write operations
        sim.mutation(s10_limits.patch_one_row_repeatedly, {"times": 15_999})
    assert raised.value.code == "TooManyWrites"
    assert markers(sim) == 0


# -- documents scanned ------------------------------------------------------------------------


def test_10_documents_scanned_limit_counts_filtered_out_rows() -> None:
    sim = make_sim()
    sim.mutation(s10_limits.insert_rows, {"count": 10})
    # 3 200 scans of 10 rows = 32 000 rows scanned, none returned: allowed.
    assert sim.query(s10_limits.scan_repeatedly, {"times": 3_200}) == 0
    with pytest.raises(LimitExceededError) as raised:
        sim.query(s10_limits.scan_repeatedly, {"times": 3_201})  # 32 010
    assert raised.value.code == "TooManyDocumentsRead"


# -- read intervals ---------------------------------------------------------------------------


def test_10_too_many_reads_past_4096_index_ranges() -> None:
    sim = make_sim()
    assert sim.query(s10_limits.distinct_ranges, {"count": 4_096}) == 0
    with pytest.raises(LimitExceededError) as raised:
        sim.query(s10_limits.distinct_ranges, {"count": 4_097})
    assert raised.value.code == "TooManyReads"


def test_10_read_intervals_are_counted_after_merging_overlaps() -> None:
    sim = make_sim()
    sim.mutation(s10_limits.insert_rows, {"count": 1})
    row_id = sim.mutation(s10_limits.first_row_id)
    # 5 000 reads of one document are one interval of the read set, not 5 000.
    assert sim.query(s10_limits.same_get_repeatedly, {"id": row_id, "times": 5_000}) == 5_000


# -- bytes read and written ---------------------------------------------------------------------


def test_10_too_many_bytes_read_past_16_mib() -> None:
    sim = make_sim()
    sim.mutation(s10_limits.insert_blobs, {"count": 16, "size": BLOB})
    assert sim.query(s10_limits.blob_bytes) == 16 * BLOB  # ~16.0 MB read: allowed
    sim.mutation(s10_limits.insert_blobs, {"count": 1, "size": BLOB})
    with pytest.raises(LimitExceededError) as raised:
        sim.query(s10_limits.blob_bytes)  # ~17.0 MB
    assert raised.value.code == "TooManyBytesRead"


def test_10_too_many_bytes_written_past_16_mib() -> None:
    sim = make_sim()
    assert sim.mutation(s10_limits.insert_blobs, {"count": 16, "size": BLOB}) == 16
    with pytest.raises(LimitExceededError) as raised:
        sim.mutation(s10_limits.insert_blobs, {"count": 17, "size": BLOB})
    assert raised.value.code == "TooManyBytesWritten"
    assert markers(sim) == 1  # only the first mutation's


# -- function arguments and return values ---------------------------------------------------------


def test_10_function_args_up_to_16_mib_are_accepted() -> None:
    sim = make_sim()
    assert sim.mutation(s10_limits.take_blobs, {"blobs": [b"a" * BLOB] * 16}) == 16 * BLOB
    assert markers(sim) == 1


def test_10_function_args_over_16_mib_are_rejected() -> None:
    sim = make_sim()
    with pytest.raises(ConvexSimError):
        sim.mutation(s10_limits.take_blobs, {"blobs": [b"a" * BLOB] * 17})
    assert markers(sim) == 0


def test_10_return_value_over_16_mib_is_rejected() -> None:
    sim = make_sim()
    assert len(sim.query(s10_limits.return_blobs, {"count": 16, "size": BLOB})) == 16
    with pytest.raises(ConvexSimError):
        sim.query(s10_limits.return_blobs, {"count": 17, "size": BLOB})


# -- nested call depth ----------------------------------------------------------------------------


def test_10_nested_calls_8_deep_work_and_9_deep_fail() -> None:
    sim = make_sim()
    assert sim.mutation(s10_limits.recurse, {"depth": 8}) == 8
    assert markers(sim) == 1
    with pytest.raises(LimitExceededError) as raised:
        sim.mutation(s10_limits.recurse, {"depth": 9})
    assert raised.value.code == "MaximumCallDepthExceeded"
    assert markers(sim) == 1


# -- document size and nesting ------------------------------------------------------------------


def test_10_document_over_1_mib_is_rejected() -> None:
    sim = make_sim()
    sim.mutation(s10_limits.insert_one_blob, {"size": BLOB})
    assert markers(sim) == 1
    with pytest.raises(InvalidValueError, match="1048576"):
        sim.mutation(s10_limits.insert_one_blob, {"size": MIB})
    assert markers(sim) == 1


def test_10_document_nested_too_deeply_is_rejected() -> None:
    sim = make_sim()
    sim.mutation(s10_limits.insert_nested, {"depth": 10})
    assert markers(sim) == 1
    with pytest.raises(InvalidValueError):
        sim.mutation(s10_limits.insert_nested, {"depth": 20})
    assert markers(sim) == 1
