"""A chunk's bytes read as 8-byte words, and the tokens of many lines read at once: JSON numbers
(checked and converted exactly as ``float(json.loads(token))``) and strings (told apart)."""

from __future__ import annotations

import numpy as np

__all__ = ["EXACT", "MAX_NUMBER", "MAX_STRING", "Chunk", "distinct_strings", "low_bytes", "read_numbers"]

MAX_STRING = 256  # a longer topic or payload string goes the usual way
EXACT = 2.0**53  # below this, a number's float64 compares with bounds as its JSON value does


PAD = 16  # zero bytes before and after a chunk, so that a word may be read at any of its bytes
_PADDING = bytes(PAD)


class Chunk:
    """A chunk's bytes, and every 8 of them that start at each byte as one little-endian uint64."""

    def __init__(self, data: bytes):
        padded = b"".join((_PADDING, data, _PADDING))
        self.data = data
        self.buf = np.frombuffer(padded, np.uint8)[PAD : PAD + len(data)]
        self._words = np.ndarray((len(padded) - 7,), "<u8", padded, 0, (1,))  # overlapping, unaligned

    def words(self, at: np.ndarray) -> np.ndarray:
        """The 8 bytes at each position. A position outside the chunk reads its padding's zeros
        or its last word: only a template's reading past a line's end goes there, and such a
        line has already failed (its end, or the padding, stands where the template has a byte
        that is neither)."""
        return self._words[np.clip(at + PAD, 0, len(self._words) - 1)]


_ONES = np.uint64(0xFFFF_FFFF_FFFF_FFFF)


def low_bytes(n: np.ndarray) -> np.ndarray:
    """Masks keeping the n (0..8) low bytes of a word."""
    n = np.clip(n, 0, 8).astype(np.uint64)
    return np.where(n == 8, _ONES, (np.uint64(1) << (np.uint64(8) * n)) - np.uint64(1))


# --- JSON numbers, a byte matrix at a time ---------------------------------------------------------
MAX_NUMBER = 16  # a longer number token goes the usual way
# Character classes: 0 the zero padding, 1 '0', 2 '1'-'9', 3 '-', 4 '+', 5 '.', 6 'e'/'E', 7 other.
_CLASS = np.full(256, 7, np.uint8)
_CLASS[0], _CLASS[ord("0")], _CLASS[ord("-")], _CLASS[ord("+")], _CLASS[ord(".")] = 0, 1, 3, 4, 5
_CLASS[ord("1") : ord("9") + 1] = 2
_CLASS[[ord("e"), ord("E")]] = 6
# States of -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? read right-aligned (padding first):
# 0 start, 1 '-', 2 a leading 0, 3 integer digits, 4 '.', 5 fraction digits, 6 'e', 7 exponent
# sign, 8 exponent digits, 9 done (after the end), 10 refused.
_DONE, _REFUSED = 9, 10
_NEXT = np.full((11, 8), _REFUSED, np.uint8)
_NEXT[0, [0, 1, 2, 3]] = [0, 2, 3, 1]
_NEXT[1, [1, 2]] = [2, 3]
_NEXT[2, [0, 5, 6]] = [_DONE, 4, 6]
_NEXT[3, [0, 1, 2, 5, 6]] = [_DONE, 3, 3, 4, 6]
_NEXT[4, [1, 2]] = 5
_NEXT[5, [0, 1, 2, 6]] = [_DONE, 5, 5, 6]
_NEXT[6, [1, 2, 3, 4]] = [8, 8, 7, 7]
_NEXT[7, [1, 2]] = 8
_NEXT[8, [0, 1, 2]] = [_DONE, 8, 8]
_NEXT8 = (8 * _NEXT).ravel()  # indexed by 8 × state + class, gives 8 × the next state
_POWERS = 10.0 ** np.arange(16)  # exact
_INT_POWERS = 10 ** np.arange(16, dtype=np.int64)
_ZEROS = np.uint64(0x3030303030303030)  # "00000000"


def read_numbers(chunk: Chunk, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """JSON number tokens [start, end) → (their values as float(json.loads(token)) gives them,
    usable, integer: json.loads gives an int, the token having neither a dot nor an exponent).

    The tokens right-aligned in one or two words, as a byte matrix (zeros before each token):
    checked by a finite automaton a column at a time, and read as integers (a matrix product by
    powers of ten) divided by a power of ten: exact operands, so one correctly rounded division,
    float()'s result. Exponents and 16-character tokens are left to numpy's parser."""
    n, length = len(start), end - start
    usable = (length >= 1) & (length <= MAX_NUMBER)
    wide = bool((length[usable] > 8).any())
    lo = chunk.words(end - 8) & ~low_bytes(8 - length)
    matrix = np.stack([chunk.words(end - 16) & ~low_bytes(16 - length), lo], axis=1) if wide else lo[:, None]
    matrix = matrix.view(np.uint8)  # little-endian words: the bytes in the trace's order
    width = matrix.shape[1]
    state = np.zeros(n, np.uint8)  # 8 × the automaton's state
    for column in np.ascontiguousarray(_CLASS[matrix].T):
        state = _NEXT8[state + column]
    usable &= _NEXT8[state] == 8 * _DONE  # the end, after the last column
    # The digits as one integer, the dot (and the padding, and a sign) read as a 0: 8 digits
    # a word at a time (SWAR, as simdjson does), the first digit in the lowest byte.
    digit = ((matrix >= ord("0")) & (matrix <= ord("9"))).view(np.uint64) * np.uint64(0xFF)
    eights = (matrix.view(np.uint64) & digit) | (_ZEROS & ~digit)
    eights = ((eights & np.uint64(0x0F0F0F0F0F0F0F0F)) * np.uint64(2561)) >> np.uint64(8)
    eights = ((eights & np.uint64(0x00FF00FF00FF00FF)) * np.uint64(6553601)) >> np.uint64(16)
    eights = (((eights & np.uint64(0x0000FFFF0000FFFF)) * np.uint64(42949672960001)) >> np.uint64(32)).astype(np.int64)
    digits = eights[:, 0] * 100_000_000 + eights[:, 1] if width == 16 else eights[:, 0]
    # The dot's column, from the words with a 1 in its byte (there is at most one dot).
    dots = (matrix == ord(".")).view(np.uint64)
    has_dot = (dots[:, 0] | dots[:, -1]) != 0
    with np.errstate(divide="ignore"):
        column = np.log2(dots[:, -1]) / 8 + (width - 8)
        if width == 16:
            column = np.where(dots[:, 0] != 0, np.log2(dots[:, 0]) / 8, column)
    fraction = np.where(has_dot, width - 1 - column, 0).astype(np.intp)  # digits after the dot
    scale = _INT_POWERS[fraction]
    after = digits % scale
    mantissa = np.where(has_dot, (digits - after) // 10 + after, digits)  # below 10**15: exact as floats
    values = mantissa / _POWERS[fraction]
    # "-0" is the integer 0 to json.loads, so +0.0 as a float ("-0.0" stays -0.0).
    negative = matrix[np.arange(n), np.clip(width - length, 0, width - 1)] == ord("-")
    values[negative & (has_dot | (mantissa != 0))] *= -1
    exponent = (((matrix | 0x20) == ord("e")).view(np.uint64) != 0).any(axis=1)
    other = usable & ((length > 15) | exponent)
    if other.any():
        rows = np.flatnonzero(other)
        text = np.array([chunk.data[a:b] for a, b in zip(start[rows].tolist(), end[rows].tolist(), strict=True)])
        with np.errstate(over="ignore"):
            values[rows] = text.astype(np.float64)  # correctly rounded, as float() is
    usable &= np.abs(values) < EXACT
    return values, usable, ~(has_dot | exponent)


def distinct_strings(chunk: Chunk, start: np.ndarray, end: np.ndarray) -> tuple[list[str], np.ndarray]:
    """The strings [start, end) of the rows (UTF-8, at most MAX_STRING bytes): (distinct values,
    each row's index). Rows are told apart by a hash of their words, then checked word by word."""
    length = end - start
    n_words = max(1, -(-int(length.max(initial=0)) // 8))
    words = np.empty((len(start), n_words), np.uint64)
    for j in range(n_words):
        words[:, j] = chunk.words(start + 8 * j) & low_bytes(length - 8 * j)
    h = length.astype(np.uint64)
    for j in range(n_words):
        h = (h ^ words[:, j]) * np.uint64(0x100000001B3)
        h ^= h >> np.uint64(29)
    _, first, index = np.unique(h, return_index=True, return_inverse=True)
    index = index.ravel()
    if not ((words == words[first[index]]).all() and (length == length[first[index]]).all()):
        first, index = np.unique(  # a collision (never seen): the strings themselves
            np.array([chunk.data[a:b] for a, b in zip(start.tolist(), end.tolist(), strict=True)]),
            return_index=True,
            return_inverse=True,
        )[1:]
        index = index.ravel()
    return [
        chunk.data[a:b].decode("utf-8") for a, b in zip(start[first].tolist(), end[first].tolist(), strict=True)
    ], index
