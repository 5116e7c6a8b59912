"""Where one execution's randomness comes from (convex-semantics.md §5.4, §8.1).

Every execution has one seeded stream of random bytes. Its document ids,
``ctx.random`` and the seeds of the functions it calls are all drawn from
that stream, in the order the handler asks for them — so, as in Convex, a
nested call's seed is drawn from its caller's generator, and everything
replays exactly. The stream hashes the seed with a counter (BLAKE2b): a
draw costs far less than seeding a Mersenne Twister per execution would,
which matters because most executions never touch ``ctx.random`` at all.
"""

from __future__ import annotations

import random
from hashlib import blake2b
from typing import Any, NoReturn

from convex_sim.errors import ConvexSimError

_SEED_MASK = (1 << 64) - 1
_DRAW_BYTES = 16


class ExecutionSeed:
    """One execution's deterministic stream: ids, child seeds and ``ctx.random``.

    A child's seed is the parent's next draw, but it is hashed only when the
    child first needs it: the parent's counter moves on at once (so the order
    of draws is unchanged), and a draw depends on nothing but the seed and
    its position, so drawing it later gives the same bytes. Most nested calls
    never make an id nor touch ``ctx.random``, so most never pay for it.
    """

    __slots__ = ("_drawn", "_parent", "_position", "_random", "_seed")

    def __init__(
        self, seed: int | None, *, parent: ExecutionSeed | None = None, position: int = 0
    ) -> None:
        """A stream from ``seed``; or, with ``seed=None``, the one ``parent`` will draw
        at ``position`` (see :meth:`child`)."""
        self._seed = None if seed is None else seed & _SEED_MASK
        self._parent = parent
        self._position = position
        self._drawn = 0
        self._random: StreamRandom | None = None

    @property
    def seed(self) -> int:
        seed = self._seed
        if seed is None:
            seed = self._derive()
        return seed

    def _derive(self) -> int:
        parent = self._parent
        assert parent is not None
        seed = self._seed = int.from_bytes(parent._draw_at(self._position)[:8], "big")
        self._parent = None
        return seed

    def _draw_at(self, position: int) -> bytes:
        seed = self._seed
        if seed is None:
            seed = self._derive()
        material = seed.to_bytes(8, "big") + position.to_bytes(8, "big")
        return blake2b(material, digest_size=_DRAW_BYTES).digest()

    def draw(self) -> bytes:
        """The next 16 bytes of the stream."""
        self._drawn += 1
        return self._draw_at(self._drawn)

    def id_bytes(self) -> bytes:
        """16 fresh bytes for a document id."""
        return self.draw()

    def child(self) -> ExecutionSeed:
        """The seed of the next execution this one calls (see the class docstring)."""
        self._drawn += 1
        return ExecutionSeed(None, parent=self, position=self._drawn)

    @property
    def random(self) -> random.Random:
        """``ctx.random``: a ``random.Random`` whose bits come from this stream."""
        if self._random is None:
            self._random = StreamRandom(self)
        return self._random


class StreamRandom(random.Random):
    """``random.Random``'s methods over an execution's stream (like ``Math.random``).

    It cannot be re-seeded, nor its state saved: Convex seeds ``Math.random``
    per execution, and handlers have no way to change that.
    """

    def __init__(self, stream: ExecutionSeed) -> None:  # no super().__init__: it would seed
        self._stream = stream
        self.gauss_next = None

    def random(self) -> float:
        return (int.from_bytes(self._stream.draw()[:7], "big") >> 3) * 2.0**-53

    def getrandbits(self, k: int) -> int:
        if k < 0:
            raise ValueError("number of bits must be non-negative")
        needed = (k + 7) // 8
        chunks = b"".join(self._stream.draw() for _ in range(-(-needed // _DRAW_BYTES)))
        return int.from_bytes(chunks[:needed], "big") >> (needed * 8 - k)

    def seed(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise ConvexSimError("ctx.random is seeded per execution and cannot be re-seeded")

    def getstate(self) -> NoReturn:
        raise ConvexSimError("ctx.random's state cannot be saved or restored")

    def setstate(self, state: Any) -> NoReturn:
        raise ConvexSimError("ctx.random's state cannot be saved or restored")
