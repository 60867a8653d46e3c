"""Several photo sources trained on as one: Tiny ImageNet, BSDS500 and your own photos in one run."""

import numpy as np

from keras_colorizer.data.errors import DataError
from keras_colorizer.data.source import ImageSource, ScanReport


class MixedSource(ImageSource):
    """The images of several sources, one index space: source 0's images first, then source 1's, ...

    Args:
        sources: `ImageSource`s of one encoding (the Kaggle arrays, 8-bit
            Lab, cannot be mixed with photo folders, sRGB).
        labels: a name for each source (its path), for messages.
        weights: each source's share of the training stream, or None for
            their natural shares (every image equally often). `pass_counts`
            turns them into images per pass.
    """

    def __init__(self, sources, labels, weights=None):
        super().__init__()
        encodings = {source.encoding for source in sources}
        if len(encodings) > 1:
            raise DataError(
                f"--data: {', '.join(labels)} mix the Kaggle arrays (8-bit Lab) with photo folders (sRGB); "
                "train on one kind at a time"
            )
        if weights is not None and (len(weights) != len(sources) or min(weights) < 0 or sum(weights) <= 0):
            raise DataError(
                f"--data-weights: expected {len(sources)} weights >= 0, not all 0, one per --data source. "
                f"Received: {','.join(str(w) for w in weights)}"
            )
        self.sources, self.labels, self.weights = list(sources), list(labels), weights
        self.encoding = encodings.pop()
        sizes = {source.native_size for source in sources}
        self.native_size = sizes.pop() if len(sizes) == 1 else None
        self.starts = np.cumsum([0] + [len(source) for source in sources])
        self.report = ScanReport(used=int(self.starts[-1]))
        parts = [source.description for source in sources]
        if weights is not None:
            parts = [f"{part}, weight {weight:g}" for part, weight in zip(parts, weights)]
        self.description = "; ".join(parts)

    def __len__(self):
        return int(self.starts[-1])

    def _locate(self, index):
        part = int(np.searchsorted(self.starts, index, side="right") - 1)
        return self.sources[part], int(index - self.starts[part])

    def name(self, index):
        source, local = self._locate(int(index))
        return source.name(local)

    def load(self, index, short_side=None):
        source, local = self._locate(int(index))
        return source.load(local, short_side)  # each source keeps its own memory cache

    def usable(self, index):
        source, local = self._locate(int(index))
        return source.usable(local)

    def groups(self, indices):
        """`indices` split by source: a list of index arrays, one per source."""
        indices = np.asarray(indices, dtype=np.int64)
        return [indices[(indices >= lo) & (indices < hi)] for lo, hi in zip(self.starts[:-1], self.starts[1:])]

    def pass_counts(self, indices):
        """Images of each source in one pass over `indices` under the weights (None: their own counts).

        A pass has as many images as `indices`; a source whose weight asks
        for more than it has repeats its images within the pass, in a new
        order each time.
        """
        if self.weights is None:
            return None
        groups = self.groups(indices)
        total, weights = sum(len(group) for group in groups), np.asarray(self.weights, dtype=np.float64)
        counts = [int(round(total * w / weights.sum())) if len(group) else 0 for w, group in zip(weights, groups)]
        if sum(counts) == 0:
            raise DataError("--data-weights: every source with a weight above 0 has no training images")
        return counts
