"""Document ids: the :class:`Id` type and the id string encoding (convex-semantics.md §1.6).

An id string is Crockford-style base32 (lowercase, no ``i l o u``) of the 16
random internal bytes, the table number as a varint and a Fletcher-16
checksum of both. Split out of ``values.py``, which re-exports every name.

Every write encodes an id and every ``db.get``/``patch``/``delete`` and
``v.id`` check decodes one, so both directions are table-driven and decoding
goes through a bounded cache; the encoding itself must never change, since
seeded runs replay only if the same random bytes give the same id string.
"""

from __future__ import annotations

from typing import Any, Final

ID_RANDOM_BYTES: Final = 16

_ID_ALPHABET: Final = "0123456789abcdefghjkmnpqrstvwxyz"
_ID_DECODE: Final = {c: i for i, c in enumerate(_ID_ALPHABET)}

# Encoding: two characters per 10-bit group, so a 20-byte id is 16 lookups.
_ID_PAIRS: Final = [a + b for a in _ID_ALPHABET for b in _ID_ALPHABET]

# Decoding: ``bytes.translate`` maps the id alphabet onto the digits ``int(..., 32)``
# reads and deletes every other byte, so a string outside the alphabet comes out shorter.
_INT_DIGITS: Final = bytes.maketrans(_ID_ALPHABET.encode(), b"0123456789abcdefghijklmnopqrstuv")
_NOT_ID_CHARS: Final = bytes(set(range(256)) - set(_ID_ALPHABET.encode()))

_DECODE_CACHE_SIZE: Final = 1 << 15
_decoded: dict[str, int | None] = {}
"""id string -> table number (or ``None``): decoding is a pure function of the
string, so the cache never needs invalidating; it is emptied when full."""


class Id(str):
    """A document id: an opaque string that also records which table it names.

    Equal to (and hashes like) the plain string, so ids round-trip through
    JSON, function arguments and other components as strings, as in Convex.
    The table is also encoded inside the string (see :func:`make_id_string`),
    which is how a plain string is resolved back to its table.
    """

    table: str

    def __new__(cls, value: str, table: str) -> Id:
        # str.__new__ directly: ids are built on every insert and every v.id check.
        self = str.__new__(cls, value)
        self.table = table
        return self

    def __repr__(self) -> str:
        return f"Id({str.__repr__(self)}, table={self.table!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Id, (str(self), self.table))

    def __deepcopy__(self, memo: dict[int, Any]) -> Id:
        return self

    def __copy__(self) -> Id:
        return self


def _varint(n: int) -> bytes:
    if 0 <= n < 0x80:
        return bytes((n,))  # every table number in practice
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _fletcher16(data: bytes) -> bytes:
    """Fletcher-16 (sums mod 255): ``b`` is the sum of the running sums ``a``.

    That is ``sum(accumulate(data))``, computed without a step per byte: read
    as a base-256 number, ``data`` is ``sum(d_i * 256**m_i)`` (``m_i`` bytes
    follow ``d_i``), and ``256**m = (1 + 255)**m`` is ``1 + 255 * m`` modulo
    ``255**2``, so that number modulo ``255**2`` is ``total + 255 * T`` with
    ``T = sum(d_i * m_i)``; the sum of the running sums is ``T + total``.
    """
    total = sum(data)
    weighted = ((int.from_bytes(data, "big") - total) % 65025) // 255 + total
    return bytes((weighted % 255, total % 255))


# Encoding up to 20 bytes without a loop: the 160 bits are spread so that each 5-bit
# group lands in a byte of its own (halving the groups' width five times over, 80
# bits per 128-bit lane down to 5 bits per byte), and ``bytes.translate`` maps the
# byte values 0..31 onto the alphabet.
_SPREAD_BITS: Final = 160
_SPREAD_LOW: Final = (1 << 80) - 1
_SPREAD_MASKS: Final = tuple(
    (
        width,
        sum(((1 << width) - 1) << (lane * width * 2 * 8 // 5) for lane in range(160 // width // 2)),
    )
    for width in (40, 20, 10, 5)
)
_GROUP_CHARS: Final = bytes.maketrans(bytes(range(32)), _ID_ALPHABET.encode())


def _base32(raw: bytes) -> str:
    """``raw`` in the id alphabet, most significant bits first, zero-padded to 5 bits."""
    nbits = len(raw) * 8
    if nbits <= _SPREAD_BITS:
        number = int.from_bytes(raw, "big") << (_SPREAD_BITS - nbits)
        number = (number & _SPREAD_LOW) | (number >> 80) << 128
        for width, mask in _SPREAD_MASKS:
            number = (number & mask) | ((number >> width) & mask) << (width * 8 // 5)
        spread = number.to_bytes(32, "big").translate(_GROUP_CHARS)
        return spread[: (nbits + 4) // 5].decode("ascii")
    return _base32_pairs(raw)


def _base32_pairs(raw: bytes) -> str:
    """``_base32`` for any length: ten bits (two characters) per step."""
    nbits = len(raw) * 8
    nchars = (nbits + 4) // 5
    npairs = (nchars + 1) // 2
    number = int.from_bytes(raw, "big") << (npairs * 10 - nbits)
    pairs = _ID_PAIRS
    text = "".join([pairs[(number >> shift) & 1023] for shift in range(npairs * 10 - 10, -1, -10)])
    return text[:nchars]


def make_id_string(table_number: int, internal: bytes) -> str:
    """Encode a table number and random internal bytes as an id string.

    Random bytes first, so ids sort in effectively random order (§1.6), then
    the table number, then a checksum so a mistyped id is rejected.
    """
    if len(internal) != ID_RANDOM_BYTES:
        raise ValueError(f"internal id must be {ID_RANDOM_BYTES} bytes")
    payload = internal + _varint(table_number)
    text = _base32(payload + _fletcher16(payload))
    # The new document is read, patched or deleted by this id soon after.
    if len(_decoded) >= _DECODE_CACHE_SIZE:
        _decoded.clear()
    _decoded[text] = table_number
    return text


def decode_id_string(text: str) -> int | None:
    """The table number encoded in ``text``, or ``None`` if it is not an id."""
    kind = type(text)
    if kind is str or kind is Id:
        try:
            return _decoded[text]
        except KeyError:
            pass
        number = _decode(text)
        _remember(text, number)
        return number
    return _decode(text)  # other types: no cache, so errors are the uncached ones


def _remember(text: str, number: int | None) -> None:
    if len(_decoded) >= _DECODE_CACHE_SIZE:
        _decoded.clear()
    _decoded[text] = number


def _decode(text: Any) -> int | None:
    """:func:`decode_id_string` without the cache."""
    length = len(text)
    if not 30 <= length <= 40:
        return None
    if isinstance(text, str):
        if not text.isascii():
            return None
        digits = text.encode("ascii").translate(_INT_DIGITS, _NOT_ID_CHARS)
        if len(digits) != length:
            return None
        number = int(digits, 32)
    else:  # not what the signature allows, but decoded as it always was: item by item
        number = 0
        for char in text:
            digit = _ID_DECODE.get(char)
            if digit is None:
                return None
            number = (number << 5) | digit
    nbytes = length * 5 // 8
    number >>= length * 5 - nbytes * 8
    raw = number.to_bytes(nbytes, "big")
    payload, checksum = raw[:-2], raw[-2:]
    if len(payload) <= ID_RANDOM_BYTES or _fletcher16(payload) != checksum:
        return None
    table_number = 0
    shift = 0
    for index, byte in enumerate(payload[ID_RANDOM_BYTES:]):
        table_number |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            if ID_RANDOM_BYTES + index + 1 != len(payload):
                return None
            return table_number
    return None
