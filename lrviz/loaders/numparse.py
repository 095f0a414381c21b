"""Vectorised parsing of decimal numbers inside a byte buffer (the CSV fast path).

Given the byte ranges of many fields, :meth:`FieldParser.parse` turns every field that looks
like a plain decimal number (``-12``, ``0.5``, ``2.2897543907165527``,
``1.0000018420699561e-07``) into a float64, correctly rounded (the same value Python's ``float``
gives), without creating a Python object per field. Fields it cannot decide (``nan``, padded
cells, quotes, 3-digit exponents, very long fields, the rare rounding-midpoint case) get status
``SLOW`` so that the caller parses them one by one.

How: the 24 bytes before the end of each field's mantissa are gathered as three little-endian
64-bit words; digits are converted eight at a time with SWAR arithmetic (the
``parse_eight_digits`` trick of simdjson / fast_float); the decimal point is found with bit
masks. Scaling by a power of ten is exact in float64 when the integer mantissa is at most 2**53
and the power at most 22 (Clinger's fast path); otherwise it is done once in x87 extended
precision and accepted only when the extended result is not a float64 rounding midpoint, so that
double rounding cannot happen. Work arrays are kept between calls: fresh multi-megabyte
temporaries cost more in page faults than the arithmetic itself.
"""

from __future__ import annotations

import sys

import numpy as np

OK = 0
EMPTY = 1
SLOW = 2

#: Bytes of readable padding callers must provide before the first field.
PAD = 32
#: Fields parsed per pass (work arrays of about 6 MB).
CHUNK = 32768

_U = np.uint64
_B30 = _U(0x3030303030303030)
_B7F = _U(0x7F7F7F7F7F7F7F7F)
_B62 = _U(0x6262626262626262)
_B76 = _U(0x7676767676767676)
_B80 = _U(0x8080808080808080)
_M1 = _U(0x000000FF000000FF)
_MUL1 = _U(100 + (1000000 << 32))
_MUL2 = _U(1 + (10000 << 32))
_DOTPOS = _U(0x0807060504030201)  # (1 << 8b) * this has 8 - b in its top byte
_TWO53 = _U(2**53)
_SAT = 2**64 - 1

ENABLED = sys.byteorder == "little"


def _masks() -> np.ndarray:
    """Row d: the three words that keep the last d bytes of a 24-byte window."""
    out = np.zeros((25, 3), dtype=np.uint64)
    for d in range(25):
        whole = ((1 << (8 * d)) - 1) << (8 * (24 - d))
        for j in range(3):
            out[d, j] = (whole >> (64 * j)) & _SAT
    return out


def _dot_table() -> np.ndarray:
    """Index tb0*81 + tb1*9 + tb2 -> 1 + digits after the point, 0 = no point, 255 = bad."""
    out = np.full(729, 255, dtype=np.uint8)
    out[0] = 0
    for j in range(3):
        for tb in range(1, 9):
            b = 8 - tb
            code = tb * 9 ** (2 - j)
            out[code] = 1 + (23 - (8 * j + b))
    return out


_MASKS = _masks()
_DOTS = _dot_table()
_P10U = np.array([min(10**i, _SAT) for i in range(26)], dtype=np.uint64)
_P10F = np.array([10.0**i for i in range(26)], dtype=np.float64)
_EOFF = 130  # _DIV[e10 + _EOFF] = 10.0 ** -e10 for -22 <= e10 <= 0
_DIV = np.ones(_EOFF + 101, dtype=np.float64)
_DIV[_EOFF - 22 : _EOFF + 1] = [10.0**i for i in range(22, -1, -1)]


def _longdouble_usable() -> bool:
    """True when np.longdouble is x87 80-bit extended precision in the layout relied on."""
    if sys.byteorder != "little" or np.finfo(np.longdouble).nmant != 63:
        return False
    probe = np.array([1.5], dtype=np.longdouble).view(np.uint64)
    return int(probe[0]) == 0xC000000000000000


_LD = _longdouble_usable()
_P10LD = np.array([10**i for i in range(28)], dtype=np.longdouble) if _LD else None


class FieldParser:
    """Parses many numeric fields at once; keeps its work arrays between calls.

    One instance per thread: :meth:`parse` returns views into the instance's own buffers,
    valid until the next call.
    """

    def __init__(self) -> None:
        self._cap = 0

    def _ensure(self, n: int) -> None:
        if n <= self._cap:
            return
        cap = max(n, 4096)
        self._cap = cap
        self._w3 = [np.empty((cap, 3), dtype=np.uint64) for _ in range(4)]
        self._u64 = [np.empty(cap, dtype=np.uint64) for _ in range(5)]
        self._i64 = [np.empty(cap, dtype=np.int64) for _ in range(3)]
        self._f64 = [np.empty(cap, dtype=np.float64) for _ in range(2)]
        self._bool = [np.empty(cap, dtype=bool) for _ in range(6)]
        self._u8 = [np.empty(cap, dtype=np.uint8) for _ in range(6)]

    def parse(
        self, buf: np.ndarray, start: np.ndarray, end: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Parse the fields ``buf[start[i]:end[i]]`` as decimal numbers.

        Parameters
        ----------
        buf : ndarray of uint8, shape (n_bytes,)
            The text; fields start at index ``PAD`` or later.
        start, end : ndarray of int64, shape (n_fields,)
            Byte range of each field, end exclusive.

        Returns
        -------
        values : ndarray of float64, shape (n_fields,)
            The value where ``status == OK``; unspecified elsewhere.
        status : ndarray of uint8, shape (n_fields,)
            ``OK``, ``EMPTY`` (zero-length field) or ``SLOW`` (parse it another way).
        Both are views into buffers reused by the next call.
        """
        n = int(start.size)
        if n >= 1024:
            filled = np.flatnonzero(end != start)
            if filled.size < 0.8 * n:
                # Sparse rows (Lightning): parse only the cells that hold something.
                values, status = self._chunked(buf, start[filled], end[filled])
                out_v = np.full(n, np.nan)
                out_s = np.full(n, EMPTY, dtype=np.uint8)
                out_v[filled] = values
                out_s[filled] = status
                return out_v, out_s
        return self._chunked(buf, start, end)

    def _chunked(self, buf, start, end):
        """Parse in pieces of at most CHUNK fields: bounded work arrays that stay in cache."""
        n = int(start.size)
        if n <= CHUNK:
            return self._parse(buf, start, end)
        out_v = np.empty(n, dtype=np.float64)
        out_s = np.empty(n, dtype=np.uint8)
        for i in range(0, n, CHUNK):
            v, st = self._parse(buf, start[i : i + CHUNK], end[i : i + CHUNK])
            out_v[i : i + v.size] = v
            out_s[i : i + v.size] = st
        return out_v, out_s

    def _parse(self, buf, start, end):
        n = int(start.size)
        self._ensure(n)
        values = self._f64[0][:n]
        status = self._u8[5][:n]
        if n == 0:
            return values, status
        if not ENABLED:
            status.fill(SLOW)
            values.fill(0.0)
            status[start == end] = EMPTY
            return values, status
        b0, b1, b2, b3, b4 = (b[:n] for b in self._bool[:5])
        i0, i1, i2 = (x[:n] for x in self._i64)
        u0, u1, u2, u3, u4 = (x[:n] for x in self._u64)
        w, t, d, x = (a[:n] for a in self._w3)
        c0, c1, c2, c3, c4 = (c[:n] for c in self._u8[:5])
        f1 = self._f64[1][:n]

        length = np.subtract(end, start, out=i0)
        empty = np.equal(length, 0, out=self._bool[5][:n])
        bad = np.less(length, 1, out=b0)

        # Sign.
        np.take(buf, start, out=c0, mode="clip")
        neg = np.equal(c0, 0x2D, out=b1)
        np.equal(c0, 0x2B, out=b2)
        signed = np.logical_or(neg, b2, out=b2)

        # Exponent "e+dd" / "E-dd" at the end (Python repr and printf %e style).
        np.subtract(end, 4, out=i1)
        np.take(buf, i1, out=c1, mode="clip")
        np.bitwise_or(c1, 0x20, out=c1)
        has_exp = np.equal(c1, 0x65, out=b3)
        np.greater_equal(length, 5, out=b4)
        np.logical_and(has_exp, b4, out=has_exp)
        exp10 = i2
        any_exp = bool(has_exp.any())
        if any_exp:
            np.subtract(end, 3, out=i1)
            np.take(buf, i1, out=c1, mode="clip")  # sign
            np.subtract(end, 2, out=i1)
            np.take(buf, i1, out=c2, mode="clip")
            np.subtract(end, 1, out=i1)
            np.take(buf, i1, out=c3, mode="clip")
            np.subtract(c2, 48, out=c2)
            np.subtract(c3, 48, out=c3)
            ok = np.less_equal(c2, 9, out=b4)
            np.logical_and(ok, c3 <= 9, out=ok)
            np.logical_and(ok, (c1 == 0x2B) | (c1 == 0x2D), out=ok)
            np.logical_not(ok, out=ok)
            np.logical_and(ok, has_exp, out=ok)
            np.logical_or(bad, ok, out=bad)
            np.multiply(c2, 10, out=c2)
            np.add(c2, c3, out=c2)
            np.copyto(exp10, c2, casting="unsafe")
            np.multiply(exp10, has_exp, out=exp10)
            np.copyto(i1, c1, casting="unsafe")
            np.subtract(44, i1, out=i1)  # '+' (43) -> 1, '-' (45) -> -1
            np.multiply(exp10, i1, out=exp10)
        else:
            exp10.fill(0)

        # Mantissa end and length (digits and point).
        mend = np.multiply(has_exp, 4, out=i1)
        np.subtract(end, mend, out=mend)
        dl = np.subtract(mend, start, out=i0)
        np.subtract(dl, signed, out=dl)
        np.logical_or(bad, dl < 1, out=bad)
        np.logical_or(bad, dl > 24, out=bad)
        np.maximum(dl, 0, out=dl)
        np.minimum(dl, 24, out=dl)

        np.subtract(mend, 24, out=mend)
        view24 = np.ndarray((buf.size - 23,), dtype="V24", buffer=buf, strides=(1,))
        w[...] = view24[mend].view(np.uint64).reshape(n, 3)
        np.take(_MASKS, dl, axis=0, out=x, mode="clip")
        np.bitwise_xor(w, _B30, out=t)
        np.bitwise_and(t, x, out=t)  # digit values 0..9, point 0x1E, zero outside

        # Point candidates: bytes with (t & 0x7f) >= 0x1e; real points are exactly 0x1e.
        np.bitwise_and(t, _B7F, out=d)
        np.add(d, _B62, out=d)
        np.bitwise_and(d, _B80, out=d)
        np.right_shift(d, _U(7), out=d)
        np.multiply(d, _U(0x1E), out=w)
        u = np.bitwise_xor(t, w, out=w)
        # Flaws: any byte > 9 after removing points, or '/' (0x1f) taken for a point.
        np.bitwise_and(u, _B7F, out=x)
        np.add(x, _B76, out=x)
        np.bitwise_or(x, u, out=x)
        np.bitwise_and(x, _B80, out=x)
        np.bitwise_and(d, t, out=t)
        np.bitwise_or(x, t, out=x)
        np.bitwise_or(x[:, 0], x[:, 1], out=u0)
        np.bitwise_or(u0, x[:, 2], out=u0)
        np.logical_or(bad, u0 != 0, out=bad)

        # Where the point is: top byte of d * _DOTPOS is 8 - its byte index (0: no point).
        np.multiply(d, _DOTPOS, out=x)
        np.right_shift(x, _U(56), out=x)
        np.multiply(x[:, 0], _U(81), out=u0)
        np.multiply(x[:, 1], _U(9), out=u1)
        np.add(u0, u1, out=u0)
        np.add(u0, x[:, 2], out=u0)
        dot = np.take(_DOTS, u0, out=c4, mode="clip")
        np.logical_or(bad, dot == 255, out=bad)
        has_dot = np.not_equal(dot, 0, out=b4)
        ndots = int(np.bitwise_count(d).sum())
        if ndots != int(np.count_nonzero(has_dot)):  # some field has two points in a word
            many = np.bitwise_count(d).sum(axis=1) > 1
            np.logical_or(bad, many, out=bad)
        np.logical_and(has_dot, dot != 255, out=has_dot)
        np.logical_or(bad, dl - has_dot < 1, out=bad)
        frac = np.subtract(dot, has_dot, out=c3)  # digits after the point
        np.multiply(frac, has_dot, out=frac)

        # Eight digits per word (first digit in the lowest byte).
        u = w
        np.right_shift(u, _U(8), out=x)
        np.multiply(u, _U(10), out=u)
        np.add(u, x, out=u)
        np.right_shift(u, _U(16), out=x)
        np.bitwise_and(x, _M1, out=x)
        np.multiply(x, _MUL2, out=x)
        np.bitwise_and(u, _M1, out=u)
        np.multiply(u, _MUL1, out=u)
        np.add(u, x, out=u)
        np.right_shift(u, _U(32), out=u)
        np.logical_or(bad, u[:, 0] > _U(1843), out=bad)  # 24 digits would overflow 64 bits
        s = np.multiply(u[:, 0], _U(10**16), out=u1)
        np.multiply(u[:, 1], _U(10**8), out=u2)
        np.add(s, u2, out=s)
        np.add(s, u[:, 2], out=s)

        # The point was read as a 0 digit: s = I * 10**(k+1) + F, mantissa = s - 9 * I * 10**k.
        if ndots:
            kk = np.add(frac, 1, out=c1)
            p = np.take(_P10U, kk, out=u2, mode="clip")
            np.copyto(f1, s, casting="unsafe")
            np.divide(f1, np.take(_P10F, kk, mode="clip"), out=f1)
            np.floor(f1, out=f1)
            np.multiply(f1, has_dot, out=f1)
            np.logical_or(bad, f1 >= 2.0**52, out=bad)
            np.minimum(f1, 2.0**52, out=f1)
            ip = u3
            np.copyto(ip, f1, casting="unsafe")
            # s = I * p + F with F < p / 10 (the point is a 0 digit), so s / p <= I + 0.1 and
            # the float estimate is never too high; it is one too low when float(s) rounded
            # below I * p (F = 0, s > 2**53). Fix that with exact integer arithmetic
            # (p <= 10**18 here, so ip * p cannot overflow).
            prod = np.multiply(ip, p, out=u4)
            np.subtract(s, prod, out=prod)
            np.add(ip, prod >= p, out=ip, casting="unsafe")
            # 10**(k+1) >= 10**19: the integer part is 0 or 1 (s < 1.85e19).
            big = kk >= 19
            if big.any():
                ip[big] = s[big] >= p[big]
            np.multiply(ip, np.take(_P10U, frac, mode="clip"), out=ip)
            np.multiply(ip, has_dot, out=ip, casting="unsafe")
            np.multiply(ip, _U(9), out=ip)
            np.subtract(s, ip, out=s)

        e10 = np.subtract(exp10, frac, out=exp10)
        mant = s
        np.copyto(values, mant, casting="unsafe")
        np.add(e10, _EOFF, out=i0)
        np.maximum(i0, 0, out=i0)
        np.minimum(i0, _DIV.size - 1, out=i0)
        np.divide(values, np.take(_DIV, i0), out=values)
        fast = np.less_equal(mant, _TWO53, out=b2)
        np.logical_and(fast, e10 <= 0, out=fast)
        np.logical_and(fast, e10 >= -22, out=fast)
        np.logical_or(fast, bad, out=b3)
        rest = np.flatnonzero(~b3)
        if rest.size:
            self._slow_scale(values, bad, mant[rest], e10[rest], rest)
        np.negative(values, out=values, where=neg)
        status.fill(OK)
        status[bad] = SLOW
        status[empty] = EMPTY
        return values, status

    @staticmethod
    def _slow_scale(values, bad, m, e, rest) -> None:
        """Exact scaling for mantissas above 2**53 or powers outside [-22, 0]."""
        up = e > 0
        if up.any():
            # Rare: positive powers (integers written with an exponent, huge values).
            iu = rest[up]
            mu, eu = m[up], e[up]
            exact = (mu <= _TWO53) & (eu <= 22)
            values[iu[exact]] = mu[exact].astype(np.float64) * _P10F[eu[exact]]
            bad[iu[~exact]] = True  # left to the slow path
            down = ~up
            rest, m, e = rest[down], m[down], e[down]
        if not rest.size:
            return
        if not _LD:
            bad[rest] = True
            return
        far = e < -27
        if far.any():
            bad[rest[far]] = True
            near = ~far
            rest, m, e = rest[near], m[near], e[near]
        # One division in 64-bit-mantissa extended precision, then rounding to float64: exact
        # unless the extended result is a float64 midpoint (low 11 bits 0b10000000000).
        q = m.astype(np.longdouble)
        np.negative(e, out=e)
        np.divide(q, _P10LD[e], out=q)
        values[rest] = q.astype(np.float64)
        low = q.view(np.uint64)[::2] & _U(0x7FF)
        bad[rest[low == _U(0x400)]] = True
