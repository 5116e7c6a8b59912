"""The loop-free id encoding (``_base32``, ``_fletcher16``) gives exactly the
strings and checksums of the plain per-step definitions."""

from __future__ import annotations

from itertools import accumulate

from hypothesis import given
from hypothesis import strategies as st

from convex_sim import ids

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def _reference_base32(raw: bytes) -> str:
    bits = "".join(f"{byte:08b}" for byte in raw)
    bits += "0" * (-len(bits) % 5)
    return "".join(_ALPHABET[int(bits[i : i + 5], 2)] for i in range(0, len(bits), 5))


def _reference_fletcher16(data: bytes) -> bytes:
    return bytes((sum(accumulate(data)) % 255, sum(data) % 255))


@given(st.binary(max_size=40))
def test_base32_matches_the_bit_by_bit_definition(raw: bytes) -> None:
    assert ids._base32(raw) == _reference_base32(raw)
    assert ids._base32_pairs(raw) == _reference_base32(raw)


@given(st.binary(max_size=64))
def test_fletcher16_matches_the_running_sums(data: bytes) -> None:
    assert ids._fletcher16(data) == _reference_fletcher16(data)


def test_extremes() -> None:
    for raw in [b"", b"\x00" * 20, b"\xff" * 20, b"\xff" * 19, b"\xff" * 21, b"\x80"]:
        assert ids._base32(raw) == _reference_base32(raw)
        assert ids._fletcher16(raw) == _reference_fletcher16(raw)


@given(st.binary(min_size=16, max_size=16), st.integers(0, 2**40))
def test_made_ids_decode_to_their_table(internal: bytes, table_number: int) -> None:
    text = ids.make_id_string(table_number, internal)
    payload = internal + ids._varint(table_number)
    assert text == _reference_base32(payload + _reference_fletcher16(payload))
    ids._decoded.clear()
    assert ids.decode_id_string(text) == table_number
