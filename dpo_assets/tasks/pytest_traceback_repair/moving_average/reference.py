"""Reference implementation of pytest_traceback_repair/moving_average."""

import math


def moving_average(values, window: int) -> list[float]:
    """Mean of each contiguous full window of ``values``, in order."""
    if window < 1:
        raise ValueError("window must be at least 1")
    items = [float(v) for v in values]
    return [math.fsum(items[i:i + window]) / window for i in range(len(items) - window + 1)]
