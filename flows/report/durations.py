"""Median and 90th percentile of many durations in bounded memory.

Up to `EXACT_UP_TO` durations the quantiles are exact, interpolated between the two nearest ranks as
spreadsheets and numpy do (the median of 1 h and 3 h is 2 h): a help desk checking a week's figures by
hand finds the same ones. Past that, the durations go into a DDSketch (DataDog's, the paper's own
implementation), logarithmic buckets in which each quantile is within 1 % of the duration at rank
⌊q·(n−1)⌋ of them all, in a few hundred buckets for durations from a second to a year: memory stays
flat however many there are, and at that count the two definitions differ by less than the 1 %.
"""

import math

from ddsketch import DDSketch

RELATIVE_ACCURACY = 0.01
EXACT_UP_TO = 10_000


class Durations:
    def __init__(self) -> None:
        self._exact: list[float] | None = []  # None once the sketch holds them
        self._sketch = DDSketch(RELATIVE_ACCURACY)
        self.count = 0

    def add(self, seconds: float) -> None:
        seconds = max(0.0, seconds)  # a clock stepped back is no negative wait
        self.count += 1
        if self._exact is None:
            self._sketch.add(seconds)
            return
        self._exact.append(seconds)
        if len(self._exact) > EXACT_UP_TO:
            for value in self._exact:
                self._sketch.add(value)
            self._exact = None

    def to_dict(self) -> dict[str, float | int | None]:
        return {"count": self.count, "median_s": self._quantile(0.5), "p90_s": self._quantile(0.9)}

    def _quantile(self, q: float) -> float | None:
        if not self.count:
            return None
        value = self._sketch.get_quantile_value(q) if self._exact is None else _interpolated(sorted(self._exact), q)
        return None if value is None else round(float(value), 1)


def _interpolated(ordered: list[float], q: float) -> float:
    position = q * (len(ordered) - 1)
    below, above = ordered[math.floor(position)], ordered[math.ceil(position)]
    return below + (above - below) * (position - math.floor(position))
