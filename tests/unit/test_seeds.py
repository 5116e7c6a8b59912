"""The per-execution random stream: ids, child seeds and ctx.random share one sequence."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convex_sim.errors import ConvexSimError
from convex_sim.seeds import ExecutionSeed


def test_same_seed_same_stream_different_seed_different_stream() -> None:
    first, again, other = ExecutionSeed(42), ExecutionSeed(42), ExecutionSeed(43)
    drawn = [first.id_bytes() for _ in range(5)]
    assert drawn == [again.id_bytes() for _ in range(5)]
    assert len(set(drawn)) == 5
    assert all(len(chunk) == 16 for chunk in drawn)
    assert other.id_bytes() not in drawn


def test_drawing_from_ctx_random_first_changes_what_children_get() -> None:
    plain, drawing = ExecutionSeed(7), ExecutionSeed(7)
    drawing.random.random()
    assert plain.child().seed != drawing.child().seed


def test_ctx_random_offers_the_usual_methods_deterministically() -> None:
    def sample(seed: int) -> list[object]:
        rng = ExecutionSeed(seed).random
        items = list(range(10))
        rng.shuffle(items)
        return [rng.random(), rng.randrange(100), rng.choice("abc"), items, rng.randbytes(5)]

    assert sample(1) == sample(1)
    assert sample(1) != sample(2)


@given(st.integers(min_value=0, max_value=2**70), st.integers(min_value=0, max_value=300))
def test_getrandbits_stays_in_range(seed: int, bits: int) -> None:
    rng = ExecutionSeed(seed).random
    value = rng.getrandbits(bits)
    assert 0 <= value < 2**bits
    assert 0.0 <= rng.random() < 1.0


def test_ctx_random_cannot_be_reseeded_or_restored() -> None:
    rng = ExecutionSeed(3).random
    with pytest.raises(ConvexSimError, match="cannot be re-seeded"):
        rng.seed(5)
    with pytest.raises(ConvexSimError, match="cannot be saved"):
        rng.getstate()
