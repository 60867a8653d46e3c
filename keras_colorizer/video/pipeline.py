"""Colorize a video: decode, network in batches, temporal smoothing, encode in segments, join.

The film streams through: frames are decoded one at a time, colorized in
batches, and encoded into segment files of `segment_frames` frames in a
parts folder beside the output (`OUT.parts/`). After each segment the
folder's `job.json` records it, with what the next frame's smoothing needs,
so an interrupted job resumes at the first unfinished segment and gives the
frames an uninterrupted one would. At the end the segments and the source's
audio and subtitle streams are joined, without re-encoding, into a
temporary file that is renamed to the output: the output is never half a
video.
"""

import dataclasses
import itertools
import json
import logging
import os
import shutil
import time

import numpy as np

from keras_colorizer import color
from keras_colorizer import crashpoints
from keras_colorizer.atomic import replacing, write_json
from keras_colorizer.errors import UserError
from keras_colorizer.video import encode
from keras_colorizer.video.flow import gray_uint8
from keras_colorizer.video.stream import FrameReader, is_video_path
from keras_colorizer.video.temporal import TemporalSmoother

log = logging.getLogger(__name__)

JOB_FILE = "job.json"
JOB_VERSION = 1


@dataclasses.dataclass(frozen=True)
class VideoSettings:
    """How a video is colorized and written.

    Args:
        codec: "h264" (default), "hevc" or "vp9".
        crf: the encoder's constant rate factor (None: the codec's default; lower is better and bigger).
        temporal: carry colour along the motion between frames (False: each frame alone).
        carry: weight of the previous frame's colour where the motion is trusted.
        batch_size: frames per network call.
        segment_frames: frames per segment (rounded up to a multiple of batch_size): how much an interrupted job redoes.
        work_side: long side, in pixels, at which a, b are smoothed.
    """

    codec: str = encode.DEFAULT_CODEC
    crf: int = None
    temporal: bool = True
    carry: float = 0.95
    batch_size: int = 8
    segment_frames: int = 240
    work_side: int = 320

    def __post_init__(self):
        encode.encoder_options(self.codec, self.crf)  # an unknown codec is a UserError here
        if self.batch_size < 1 or self.segment_frames < 1 or self.work_side < 16:
            raise UserError(f"expected batch_size, segment_frames >= 1 and work_side >= 16. Received: {self}")

    @property
    def frames_per_segment(self):
        return -(-self.segment_frames // self.batch_size) * self.batch_size


@dataclasses.dataclass
class VideoReport:
    frames: int = 0
    skipped: int = 0
    cuts: int = 0
    resumed_at: int = 0
    seconds: float = 0.0
    stage_seconds: dict = dataclasses.field(default_factory=dict)


def work_size(width, height, work_side):
    """(w, h) of the small frames a, b are smoothed at: the frame's shape, long side at most `work_side`."""
    scale = min(1.0, work_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


class _Stages:
    """Wall time per pipeline stage (decode, network, temporal, encode, ...)."""

    def __init__(self):
        self.seconds = {}

    def add(self, stage, started):
        self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - started


def colorize_frames(colorizer, frames, smoother, settings, stages=None):
    """uint8 RGB (N, H, W, 3) -> uint8 RGB: each frame's own L with the (smoothed) predicted a, b.

    The same recipe as `Colorizer.colorize` (the network sees L resized to its
    size; a, b come back to the frame's size), with the colour conversions
    of `color` (its NumPy part) and the smoothing at the work size in between.
    """
    import cv2

    stages = stages or _Stages()
    started = time.perf_counter()
    height, width = frames.shape[1:3]
    lightness = color.lightness_of_uint8(frames)
    stages.add("colour conversion", started)
    started = time.perf_counter()
    ab_small = colorizer.predict_lab_ab(lightness)
    stages.add("network", started)
    small = work_size(width, height, settings.work_side)
    out = np.empty_like(frames)
    for i in range(len(frames)):
        started = time.perf_counter()
        ab = cv2.resize(ab_small[i], small, interpolation=cv2.INTER_LINEAR)
        if smoother is not None:
            gray = gray_uint8(cv2.resize(lightness[i, ..., 0], small, interpolation=cv2.INTER_AREA))
            ab = smoother(gray, ab)
        ab = cv2.resize(ab, (width, height), interpolation=cv2.INTER_LINEAR)
        stages.add("temporal", started)
        started = time.perf_counter()
        out[i] = color.lab_to_uint8_in_gamut(np.concatenate([lightness[i], ab], axis=-1))
        stages.add("colour conversion", started)
    return out


def _fingerprint(source, model_id, settings):
    stat = os.stat(source)
    return {
        "source": os.path.abspath(source),
        "source_size": stat.st_size,
        "source_mtime_ns": stat.st_mtime_ns,
        "model": model_id,
        "settings": dataclasses.asdict(settings),
    }


def _save_state(path, state):
    with replacing(path, ".npz") as tmp:
        np.savez(tmp, **state)


def _load_state(path):
    if not os.path.exists(path):
        return {}
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


class _Parts:
    """The parts folder of one output: finished segments, the smoothing state after each, and job.json."""

    def __init__(self, out):
        self.folder = f"{out}.parts"

    def path(self, name):
        return os.path.join(self.folder, name)

    def start(self, fingerprint, resume):
        """The job record to continue from (fresh unless `resume` finds a matching one)."""
        job = None
        if resume and os.path.isfile(self.path(JOB_FILE)):
            try:
                with open(self.path(JOB_FILE)) as f:
                    job = json.load(f)
            except (OSError, ValueError) as error:
                raise UserError(f"{self.path(JOB_FILE)}: unreadable job record ({error}); run without --resume") from None
            if job.get("version") != JOB_VERSION or job.get("fingerprint") != fingerprint:
                raise UserError(
                    f"{self.folder}: these parts were made from another source, model or settings; "
                    "run with the same ones, or without --resume to start again"
                )
            self._remove_leftovers(job)
            return job
        if resume:
            log.warning("%s: nothing to resume; starting from the first frame", self.folder)
        shutil.rmtree(self.folder, ignore_errors=True)
        os.makedirs(self.folder)
        job = {"version": JOB_VERSION, "fingerprint": fingerprint, "segments": [], "next_frame": 0}
        write_json(self.path(JOB_FILE), job)
        return job

    def _remove_leftovers(self, job):
        """Temporary files of a killed process and segments written after the last recorded one."""
        keep = {JOB_FILE} | {s["file"] for s in job["segments"]} | {s["state"] for s in job["segments"]}
        for name in os.listdir(self.folder):
            if name not in keep:
                os.remove(self.path(name))

    def record(self, job, segment_file, state_file, frames, first_pts):
        job["segments"].append({"file": segment_file, "state": state_file, "frames": frames, "first_pts": first_pts})
        job["next_frame"] += frames
        write_json(self.path(JOB_FILE), job)

    def remove(self):
        shutil.rmtree(self.folder, ignore_errors=True)


def colorize_video(colorizer, source, out, settings=VideoSettings(), resume=False, model_id="", progress=True,
                   on_progress=None):
    """Colorize the video `source` into `out` (a video file name; its extension picks the container).

    Args:
        colorizer: a `keras_colorizer.inference.Colorizer`.
        source: any video FFmpeg reads.
        out: the output video; written only when complete.
        settings: `VideoSettings`.
        resume: continue an interrupted job from its last finished segment.
        model_id: names the model in the job record (a resumed job must use the same one).
        progress: show a Keras progress bar (frames, fps, time left).
        on_progress: optional `on_progress(done, total)` after each batch of
            frames (total None when the container does not say); the demo
            page shows it.

    Returns:
        a `VideoReport`. Raises `UserError` for a source that is not a video,
        an output that cannot be written, or an unknown codec; Ctrl-C leaves
        `out` untouched and the finished segments for `resume`.
    """
    import keras

    source, out = os.fspath(source), os.fspath(out)
    if not is_video_path(out):
        raise UserError(f"{out}: expected a video file name for the output (.mp4, .mkv, .mov, .webm, ...)")
    if os.path.exists(source) and os.path.exists(out) and os.path.samefile(source, out):
        raise UserError(f"{out}: writing it would overwrite the input video; choose another --out")
    started = time.perf_counter()
    stages = _Stages()
    report = VideoReport()
    with FrameReader(source) as probe:
        info = probe.info
        copy_streams = [s for s in probe.container.streams if s.type in ("audio", "subtitle")]
        copy_indexes = [s.index for s in encode.check_output(out, settings.codec, settings.crf, copy_streams)]
    parts = _Parts(out)
    job = parts.start(_fingerprint(source, model_id, settings), resume)
    report.resumed_at = job["next_frame"]
    smoother = TemporalSmoother(carry=settings.carry) if settings.temporal else None
    if smoother is not None and job["segments"]:
        smoother.load_state(_load_state(parts.path(job["segments"][-1]["state"])))
    per_segment = settings.frames_per_segment
    bar = keras.utils.Progbar(info.frames or None, unit_name="frame", stateful_metrics=["fps"], verbose=1 if progress else 0)
    bar.update(job["next_frame"])
    encoder = None
    reader = FrameReader(source, start=job["next_frame"])
    try:
        frames = iter(reader)
        done = job["next_frame"]
        while True:
            tic = time.perf_counter()
            # A batch never straddles a segment boundary: a resumed job sees the same batches.
            batch = list(itertools.islice(frames, min(settings.batch_size, per_segment - done % per_segment)))
            stages.add("decode", tic)
            if not batch:
                break
            colour = colorize_frames(colorizer, np.stack([rgb for rgb, _ in batch]), smoother, settings, stages)
            tic = time.perf_counter()
            for (_, pts), rgb in zip(batch, colour):
                if encoder is None:
                    name = f"segment-{len(job['segments']):05d}.mp4"
                    encoder = encode.SegmentEncoder(parts.path(name), info.width, info.height, info.rate,
                                                    info.time_base, settings.codec, settings.crf, first_pts=pts)
                encoder.write(rgb, pts)
                crashpoints.reached("video-frame")
            done += len(batch)
            if done % per_segment == 0:
                _finish_segment(parts, job, encoder, smoother)
                encoder = None
            stages.add("encode", tic)
            elapsed = time.perf_counter() - started
            bar.update(done, values=[("fps", (done - report.resumed_at) / max(elapsed, 1e-9))])
            if on_progress is not None:
                on_progress(done, info.frames or None)
        if encoder is not None:
            _finish_segment(parts, job, encoder, smoother)
            encoder = None
    except BaseException:
        if encoder is not None:
            encoder.abandon()
        raise
    finally:
        report.skipped = reader.skipped
        reader.close()
    if not job["segments"]:
        parts.remove()
        raise UserError(f"{source}: no frame could be decoded")
    tic = time.perf_counter()
    with replacing(out, os.path.splitext(out)[1]) as tmp:  # the extension names the container
        segments = [(parts.path(s["file"]), s["first_pts"]) for s in job["segments"]]
        encode.join(segments, info.time_base, source, copy_indexes, tmp)
        crashpoints.reached("video-joined")
    parts.remove()
    stages.add("join", tic)
    report.frames = job["next_frame"]
    report.cuts = smoother.cuts if smoother is not None else 0
    report.seconds = time.perf_counter() - started
    report.stage_seconds = stages.seconds
    return report


def _finish_segment(parts, job, encoder, smoother):
    encoder.close()
    crashpoints.reached("video-segment")
    base = os.path.splitext(os.path.basename(encoder.path))[0]
    state_file = f"{base}.npz"
    _save_state(parts.path(state_file), smoother.state() if smoother is not None else {})
    parts.record(job, os.path.basename(encoder.path), state_file, encoder.frames, encoder.first_pts)
