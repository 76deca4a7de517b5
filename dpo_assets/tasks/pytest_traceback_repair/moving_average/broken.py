"""Moving average over a sequence of numbers."""


def moving_average(values, window: int) -> list[float]:
    """Mean of each contiguous full window of ``values``, in order."""
    if window < 1:
        raise ValueError("window must be at least 1")
    means = []
    for start in range(len(values) - window):
        chunk = values[start:start + window]
        means.append(sum(chunk) / window)
    return means
