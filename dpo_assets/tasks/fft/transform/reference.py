"""Reference implementation of fft/transform.

Iterative radix-2 Cooley-Tukey for powers of two, Bluestein's chirp-z algorithm (on top of
the radix-2 transform) for every other length. Pure Python; results are plain ``complex``.
"""

import cmath
import math


def _complex_values(x) -> list[complex]:
    values = [complex(v) for v in x]
    if not values:
        raise ValueError("the transform of an empty sequence is undefined")
    return values


def _radix2(a: list[complex]) -> list[complex]:
    """Forward DFT of ``a`` (length a power of two), as a new list."""
    n = len(a)
    out = list(a)
    j = 0
    for i in range(1, n):
        bit = n >> 1
        while j & bit:
            j ^= bit
            bit >>= 1
        j |= bit
        if i < j:
            out[i], out[j] = out[j], out[i]
    twiddles = [complex(math.cos(2 * math.pi * k / n), -math.sin(2 * math.pi * k / n)) for k in range(n // 2)]
    size = 2
    while size <= n:
        half = size // 2
        step = n // size
        for start in range(0, n, size):
            for k in range(half):
                t = twiddles[k * step] * out[start + k + half]
                u = out[start + k]
                out[start + k] = u + t
                out[start + k + half] = u - t
        size *= 2
    return out


def _bluestein(a: list[complex]) -> list[complex]:
    """Forward DFT of ``a`` of any length through a power-of-two circular convolution."""
    n = len(a)
    m = 1 << (2 * n - 2).bit_length()  # smallest power of two >= 2n - 1
    chirp = [cmath.exp(-1j * math.pi * ((k * k) % (2 * n)) / n) for k in range(n)]
    u = [a[k] * chirp[k] for k in range(n)] + [0j] * (m - n)
    v = [0j] * m
    v[0] = chirp[0].conjugate()
    for k in range(1, n):
        v[k] = v[m - k] = chirp[k].conjugate()
    spectrum = [p * q for p, q in zip(_radix2(u), _radix2(v))]
    conv = [c.conjugate() / m for c in _radix2([s.conjugate() for s in spectrum])]
    return [conv[k] * chirp[k] for k in range(n)]


def _forward(a: list[complex]) -> list[complex]:
    n = len(a)
    if n & (n - 1) == 0:
        return _radix2(a)
    return _bluestein(a)


def fft(x) -> list[complex]:
    """Unnormalised forward DFT: ``X[k] = sum_n x[n] * exp(-2j*pi*k*n/N)``."""
    return _forward(_complex_values(x))


def ifft(X) -> list[complex]:
    """Inverse DFT with the ``1/N`` factor, so that ``ifft(fft(x))`` recovers ``x``."""
    values = _complex_values(X)
    n = len(values)
    return [c.conjugate() / n for c in _forward([v.conjugate() for v in values])]
