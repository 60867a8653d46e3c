"""Score colorized videos against the true colour video: per-frame scores and flicker.

Flicker is `warping_error` between consecutive frames, on the pixels
the optical flow of the true video's gray frames says both frames show (the
same flow and mask for every video scored, so the numbers compare). The true
colour video's own warping error is the floor: what interpolation and the
codec leave. When the colorized input is another copy of the video (old
film: grain, flickering brightness), the outputs keep that copy's L, and
its grain and flicker reach the a, b measured in the written frames (sRGB
rounding, the gamut, the codec's chroma). The true a, b shown on the input's
L (`truth_on_input`) is then the floor an output can reach.
"""

import csv
import math
import os

import numpy as np

from keras_colorizer import color, metrics
from keras_colorizer.atomic import write_json
from keras_colorizer.errors import UserError
from keras_colorizer.video.flow import FlowEstimator, gray_uint8, warp
from keras_colorizer.video.pipeline import VideoSettings, colorize_video, work_size
from keras_colorizer.video.stream import FrameReader, open_input

SCORES = ("psnr", "ssim", "ciede2000")




def warping_error(previous_ab, current_ab, backward_flow, visible):
    """Flicker between two frames: mean |a, b - the previous a, b carried along the motion|, CIELAB units.

    Args:
        previous_ab, current_ab: a, b of consecutive frames, float (H, W, 2).
        backward_flow: flow from the current frame to the previous one,
            (H, W, 2) pixels (`video.flow`).
        visible: bool (H, W), the pixels the flow says both frames show;
            only these count. NaN when there are none (a cut).

    A video whose colour stays on its objects scores near the true colour
    video's own error (interpolation, noise); colour that flickers scores high.
    """
    if not np.any(visible):
        return float("nan")
    warped = warp(np.asarray(previous_ab, np.float32), backward_flow)
    difference = np.abs(np.asarray(current_ab, np.float32) - warped)
    return float(difference[visible].mean())

def _gray(rgb):
    """A frame as the network sees it: its CIELAB L shown as gray, uint8 RGB."""
    lightness = color.lightness_of_uint8(rgb)
    return color.lab_to_uint8_in_gamut(np.concatenate([lightness, np.zeros(lightness.shape[:-1] + (2,), np.float32)], -1))

def _lab(rgb):
    from skimage import color as skcolor

    return skcolor.rgb2lab(rgb).astype(np.float32)


def _small(image, size):
    import cv2

    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def score_videos(truth_path, videos, work_side=320):
    """Per-frame scores and flicker of colorized `videos` {name: path} against the true colour video.

    Returns (rows, summary): rows, one per frame and video, hold the frame
    index, the video's name and its scores; summary maps each name (and
    "truth") to its mean scores and its mean warping error ("flicker").
    """
    readers = {name: iter(FrameReader(path)) for name, path in videos.items()}
    flow = FlowEstimator("medium")
    rows, flicker = [], {name: [] for name in ["truth", *videos]}
    previous = None
    with FrameReader(truth_path) as truth_reader:
        size = work_size(truth_reader.info.width, truth_reader.info.height, work_side)
        for index, (truth, _) in enumerate(truth_reader):
            outputs = {name: next(reader, (None, None))[0] for name, reader in readers.items()}
            missing = [name for name, frame in outputs.items() if frame is None or frame.shape != truth.shape]
            if missing:
                raise ValueError(f"{', '.join(missing)}: frame {index} missing or of another size than the true video's")
            labs = {"truth": _lab(_small(truth, size))} | {n: _lab(_small(f, size)) for n, f in outputs.items()}
            gray = gray_uint8(labs["truth"][..., 0])
            if previous is not None:
                backward, visible = flow.motion(previous[0], gray)
                for name, lab in labs.items():
                    flicker[name].append(warping_error(previous[1][name][..., 1:], lab[..., 1:], backward, visible))
            previous = (gray, labs)
            for name, frame in outputs.items():
                scores = metrics.score(truth, frame)
                rows.append({"frame": index, "video": name, **{k: scores[k] for k in SCORES}})
    summary = {}
    for name in ["truth", *videos]:
        values = [v for v in flicker[name] if not math.isnan(v)]
        entry = {"flicker": float(np.mean(values)) if values else float("nan")}
        if name != "truth":
            mine = [row for row in rows if row["video"] == name]
            entry.update({k: float(np.mean([row[k] for row in mine])) for k in SCORES})
            entry["frames"] = len(mine)
        summary[name] = entry
    return rows, summary


def write_strip(path, videos, frames=4, gray=("input",)):
    """A picture: `frames` evenly spaced frames (columns) of each video (rows: {name: path}), labelled.

    The rows named in `gray` are shown as the network sees them (L only).
    """
    from matplotlib.figure import Figure

    from keras_colorizer.plots import save_figure

    with FrameReader(next(iter(videos.values()))) as first:
        count = sum(1 for _ in first.container.demux(first.stream) if _.size)  # packets: no decoding
    picks = np.linspace(0, count - 1, frames).round().astype(int)
    clips = {}
    for name, video in videos.items():  # only the picked frames are kept: a film is never held
        with FrameReader(video) as reader:
            kept = {i: rgb for i, (rgb, _) in enumerate(reader) if i in set(picks)}
        clips[name] = [kept.get(i, kept[max(kept)]) for i in picks]
    figure = Figure(figsize=(2.6 * frames, 1.75 * len(clips)))
    for row, (name, clip) in enumerate(clips.items()):
        for col, index in enumerate(picks):
            axis = figure.add_subplot(len(clips), frames, row * frames + col + 1)
            axis.imshow(_gray(clip[col]) if name in gray else clip[col])
            axis.set_xticks([])
            axis.set_yticks([])
            if col == 0:
                axis.set_ylabel(name)
            if row == 0:
                axis.set_title(f"frame {index}")
    figure.tight_layout()
    save_figure(figure, path)


def check_same_frames(truth_path, gray_path):
    """UserError unless `gray_path` is another copy of `truth_path`: the same frame size and frame count."""
    infos = []
    for path in (truth_path, gray_path):
        container, _, info = open_input(path)
        container.close()
        infos.append(info)
    truth, gray = infos
    if (gray.width, gray.height, gray.frames) != (truth.width, truth.height, truth.frames):
        raise UserError(
            f"{gray_path}: {gray.width}x{gray.height}, {gray.frames} frames; expected a copy of {truth_path} "
            f"({truth.width}x{truth.height}, {truth.frames} frames)"
        )


def write_truth_on_input(truth_path, gray_path, out_path, settings=VideoSettings()):
    """The true colour video's a, b on the input's own L, encoded as the outputs are: their flicker floor."""
    from keras_colorizer import color
    from keras_colorizer.video.encode import SegmentEncoder

    with FrameReader(truth_path) as truth_reader, FrameReader(gray_path) as gray_reader:
        info = gray_reader.info
        encoder = SegmentEncoder(out_path, info.width, info.height, info.rate, info.time_base, settings.codec, settings.crf)
        try:
            for (truth, _), (gray, pts) in zip(truth_reader, gray_reader):
                lab = np.concatenate([color.lightness_of_uint8(gray), _lab(truth)[..., 1:]], axis=-1)
                encoder.write(color.lab_to_uint8_in_gamut(lab), pts)
        except BaseException:
            encoder.abandon()
            raise
        encoder.close()


def evaluate_video(colorizer, truth_path, out, settings=VideoSettings(), progress=True, gray_path=None):
    """Colorize a colour video's gray frames with and without temporal smoothing; score both against it.

    Args:
        gray_path: the video to colorize, frame for frame the true one
            (an archive-like copy with grain, say); by default the true
            video itself, of which the network sees only L. With one, the
            true a, b on its L (`write_truth_on_input`) are scored too, as
            "truth_on_input".

    Writes into `out`: temporal.mp4, per_frame.mp4 (truth_on_input.mp4),
    scores.csv (per frame), summary.json and strip.png (input, per-frame,
    temporal, true colour). Returns the summary: {"temporal" | "per_frame" |
    "truth" (| "truth_on_input"): scores}.
    """
    import dataclasses

    if gray_path is not None:
        check_same_frames(truth_path, gray_path)
    os.makedirs(out, exist_ok=True)
    videos = {
        "temporal": os.path.join(out, "temporal.mp4"),
        "per_frame": os.path.join(out, "per_frame.mp4"),
    }
    reports = {}
    for name, path in videos.items():
        options = dataclasses.replace(settings, temporal=name == "temporal")
        reports[name] = colorize_video(colorizer, gray_path or truth_path, path, options, progress=progress)
    scored = dict(videos)
    if gray_path is not None:
        scored["truth_on_input"] = os.path.join(out, "truth_on_input.mp4")
        write_truth_on_input(truth_path, gray_path, scored["truth_on_input"], settings)
    rows, summary = score_videos(truth_path, scored, settings.work_side)
    for name, report in reports.items():
        summary[name]["seconds"] = report.seconds
        summary[name]["stage_seconds"] = report.stage_seconds
    with open(os.path.join(out, "scores.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["frame", "video", *SCORES])
        writer.writeheader()
        writer.writerows(rows)
    write_json(os.path.join(out, "summary.json"), summary)
    write_strip(os.path.join(out, "strip.png"), {"input": gray_path or truth_path, "per-frame": videos["per_frame"],
                                                  "temporal": videos["temporal"], "true colour": truth_path})
    return summary
