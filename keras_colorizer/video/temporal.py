"""Colour that stays on its object from frame to frame.

Each frame's a, b come from the network alone, so a wall may be beige in one
frame and bluish in the next. `TemporalSmoother` carries the colour it gave
the previous frame along the optical flow onto the current one and blends
it with the network's new prediction: an exponential average along motion
trajectories. The previous colour counts for `carry` where the flow is
trusted (the forward-backward check passes and the warped gray matches the
current gray) and for nothing where it is not (occlusions, objects entering,
the picture's edges), so new content takes the network's colour at once.
A scene cut (the gray histogram jumps, or the flow finds too little of the
previous frame) resets it: no colour bleeds across a cut.

It works on small frames (the long side at most `work_side` pixels): a, b
are smooth, and the flow costs a few milliseconds there.
"""

import numpy as np

from keras_colorizer.video.flow import FlowEstimator, warp

HISTOGRAM_BINS = 32
# Gray levels under which a pixel says little about a frame's brightness gain.
DARK = 8.0


def _histogram(gray):
    counts = np.bincount((gray >> 3).ravel(), minlength=HISTOGRAM_BINS).astype(np.float32)
    return counts / counts.sum()


def _smooth(gray):
    import cv2

    return cv2.GaussianBlur(gray.astype(np.float32), (5, 5), 1.2)


def _structural_difference(current, warped, visible):
    """current - warped, with the brightness change of the whole frame taken out.

    The photometric check looks at structure, not at film grain or a frame's
    brightness flicker: both grays come blurred a little, and the warped one
    is scaled by the frames' median brightness ratio (old film's flicker is a
    gain: an offset alone left bright and dark areas untrusted, and one aged
    frame's mean trust at 0.75) before their median difference is taken out.
    """
    lit = visible & (warped > DARK)
    gain = float(np.median(current[lit] / warped[lit])) if lit.any() else 1.0
    difference = current - gain * warped
    if visible.any():
        difference -= np.median(difference[visible])
    return difference


class TemporalSmoother:
    """Blend each frame's predicted a, b with the previous result warped onto it.

    Args:
        carry: weight of the warped previous colour where the flow is fully
            trusted, in [0, 1); 0 is per-frame colorization.
        photometric_sigma: gray levels (0..255) of mismatch between the
            current frame and the warped previous one at which trust falls
            to exp(-1).
        cut_histogram: L1 distance (0..2) between consecutive 32-bin gray
            histograms that marks a scene cut.
        cut_visible: a cut too when less than this share of the frame is
            trusted to be seen in the previous one.
        flow_preset: OpenCV's DIS preset.

    Call `smoother(gray, ab)` per frame in order: gray uint8 (h, w), ab
    float32 (h, w, 2) in CIELAB units, both at the work size; returns the
    a, b to show. `state()` / `load_state()` carry it across the segments of
    a resumed job.
    """

    def __init__(self, carry=0.95, photometric_sigma=12.0, cut_histogram=0.5, cut_visible=0.3, flow_preset="fast"):
        if not 0.0 <= carry < 1.0:
            raise ValueError(f"Expected carry in [0, 1). Received: carry={carry}")
        self.carry = float(carry)
        self.photometric_sigma = float(photometric_sigma)
        self.cut_histogram = float(cut_histogram)
        self.cut_visible = float(cut_visible)
        self._flow = FlowEstimator(flow_preset)
        self.cuts = 0
        self.reset()

    def reset(self):
        self._gray = None
        self._ab = None

    def state(self):
        """The arrays the next frame depends on (empty before the first frame)."""
        if self._gray is None:
            return {}
        return {"gray": self._gray, "ab": self._ab}

    def load_state(self, state):
        self.reset()
        if state:
            self._gray = np.asarray(state["gray"], np.uint8)
            self._ab = np.asarray(state["ab"], np.float32)

    def trust(self, gray):
        """(previous colour warped onto `gray`, trust in [0, 1] (h, w)), or None after a cut or at the start."""
        previous_gray, previous_ab = self._gray, self._ab
        if previous_gray is None or previous_gray.shape != gray.shape:
            return None
        if np.abs(_histogram(gray) - _histogram(previous_gray)).sum() > self.cut_histogram:
            return None
        backward, visible = self._flow.motion(previous_gray, gray)
        current = _smooth(gray)
        warped = warp(_smooth(previous_gray), backward)
        trust = visible * np.exp(-np.square(_structural_difference(current, warped, visible) / self.photometric_sigma))
        if trust.mean() < self.cut_visible:
            return None
        return warp(previous_ab, backward), trust.astype(np.float32)

    def __call__(self, gray, ab):
        ab = np.asarray(ab, np.float32)
        carried = self.trust(gray) if self.carry > 0 else None
        if carried is None:
            if self._gray is not None and self.carry > 0:
                self.cuts += 1
            out = ab
        else:
            warped, trust = carried
            weight = (self.carry * trust)[..., None]
            out = weight * warped + (1.0 - weight) * ab
        self._gray, self._ab = gray, out
        return out
