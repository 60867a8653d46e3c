"""Motion between consecutive gray frames: DIS optical flow, warping, and where the flow can be trusted.

Conventions: a flow field is float32 (H, W, 2) in pixels (x, y).
`backward_flow(current, previous)` maps each pixel x of the current frame to
x + flow(x) in the previous one, so `warp(previous_image, flow)` lays the
previous frame's content onto the current frame. The visible mask keeps the
pixels whose backward and forward flows agree (Sundaram et al. 2010): the
rest were occluded, left the picture, or the flow is wrong there.
"""

import numpy as np

# The forward-backward check: |b + f(x + b)|^2 <= SLOPE (|b|^2 + |f(x + b)|^2) + OFFSET.
CONSISTENCY_SLOPE = 0.01
CONSISTENCY_OFFSET = 0.5


def _cv2():
    import cv2

    cv2.setNumThreads(1)  # the network and the codec use the other core
    return cv2


class FlowEstimator:
    """DIS optical flow (OpenCV, Kroeger et al. 2016) between uint8 gray frames of one size.

    Args:
        preset: "ultrafast", "fast" or "medium" (OpenCV's DIS presets; "fast"
            costs a few milliseconds at 320x180 on one CPU core).
    """

    PRESETS = ("ultrafast", "fast", "medium")

    def __init__(self, preset="fast"):
        if preset not in self.PRESETS:
            raise ValueError(f"Expected a DIS preset in {self.PRESETS}. Received: preset={preset!r}")
        cv2 = _cv2()
        code = {
            "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
            "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
            "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
        }[preset]
        self._dis = cv2.DISOpticalFlow_create(code)

    def flow(self, source, target):
        """Flow f with source(x) ~ target(x + f(x)); both uint8 (H, W)."""
        return self._dis.calc(source, target, None)

    def motion(self, previous, current):
        """(backward flow current -> previous, visible mask (H, W) bool) for two uint8 gray frames."""
        backward = self.flow(current, previous)
        forward = self.flow(previous, current)
        return backward, visible_mask(backward, forward)


_GRIDS = {}


def _grid(height, width):
    key = (height, width)
    if key not in _GRIDS:
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
        _GRIDS[key] = (xs, ys)
    return _GRIDS[key]


def warp(image, flow):
    """`image` sampled at x + flow(x) (bilinear, edges repeated); image (H, W) or (H, W, C) float32."""
    cv2 = _cv2()
    xs, ys = _grid(*flow.shape[:2])
    return cv2.remap(image, xs + flow[..., 0], ys + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def visible_mask(backward, forward):
    """Pixels of the current frame seen in the previous one: the flows agree and land inside the picture."""
    height, width = backward.shape[:2]
    xs, ys = _grid(height, width)
    forward_there = warp(forward, backward)
    mismatch = np.sum(np.square(backward + forward_there), axis=-1)
    bound = CONSISTENCY_SLOPE * (np.sum(np.square(backward), axis=-1) + np.sum(np.square(forward_there), axis=-1))
    x, y = xs + backward[..., 0], ys + backward[..., 1]
    inside = (x >= 0) & (x <= width - 1) & (y >= 0) & (y <= height - 1)
    return (mismatch <= bound + CONSISTENCY_OFFSET) & inside


def gray_uint8(lightness):
    """CIELAB L in [0, 100] (H, W) or (H, W, 1) -> uint8 gray for the flow."""
    lightness = np.asarray(lightness, np.float32)
    if lightness.ndim == 3:
        lightness = lightness[..., 0]
    return np.clip(lightness * 2.55 + 0.5, 0, 255).astype(np.uint8)
