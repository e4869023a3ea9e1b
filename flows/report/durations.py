"""Median and 90th percentile of many durations in bounded memory.

A DDSketch (DataDog's, the paper's own implementation) keeps logarithmic buckets: whatever the count,
each quantile it gives is within 1 % of the true value (the duration at rank ⌊q·(n−1)⌋ of them all,
sorted), in a few hundred buckets for durations from a second to a year.
"""

from ddsketch import DDSketch

RELATIVE_ACCURACY = 0.01


class Durations:
    def __init__(self) -> None:
        self._sketch = DDSketch(RELATIVE_ACCURACY)
        self.count = 0

    def add(self, seconds: float) -> None:
        self._sketch.add(max(0.0, seconds))  # a clock stepped back is no negative wait
        self.count += 1

    def to_dict(self) -> dict[str, float | int | None]:
        return {"count": self.count, "median_s": self._quantile(0.5), "p90_s": self._quantile(0.9)}

    def _quantile(self, q: float) -> float | None:
        value = self._sketch.get_quantile_value(q) if self.count else None
        return None if value is None else round(float(value), 1)
