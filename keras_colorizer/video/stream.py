"""Reading videos with PyAV (FFmpeg's libraries in the wheel): what a file holds and its frames, one at a time."""

import dataclasses
import fractions
import logging
import os

from keras_colorizer.errors import UserError, first_line

log = logging.getLogger(__name__)

VIDEO_EXTENSIONS = (".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts", ".wmv", ".flv", ".ogv")


def is_video_path(path):
    """True for a file name with a video extension (what `colorize` treats as a video)."""
    return os.fspath(path).lower().endswith(VIDEO_EXTENSIONS)


@dataclasses.dataclass(frozen=True)
class VideoInfo:
    """What the first video stream of a file holds."""

    path: str
    width: int
    height: int
    rate: fractions.Fraction  # frames per second (the stream's average, else its guess)
    time_base: fractions.Fraction
    frames: int  # from the container's index or its duration; an estimate for some formats
    other_streams: tuple  # (index, type, codec name) of every audio, subtitle and data stream

    @property
    def seconds(self):
        return self.frames / float(self.rate) if self.rate else 0.0


def open_input(path):
    """(container, video stream, VideoInfo) or UserError: not a file, not a video, no video stream."""
    import av

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise UserError(f"{path}: no such video file")
    try:
        container = av.open(path)
    except av.FFmpegError as error:
        raise UserError(f"{path}: not a video FFmpeg can read ({first_line(error)})") from None
    if not container.streams.video:
        kinds = ", ".join(s.type for s in container.streams) or "nothing"
        container.close()
        raise UserError(f"{path}: no video stream (it holds {kinds}); expected a video")
    stream = container.streams.video[0]
    context = stream.codec_context
    if not stream.codec_context.width or not stream.codec_context.height:
        container.close()
        raise UserError(f"{path}: its video stream has no frame size; expected a decodable video")
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    if not rate:
        container.close()
        raise UserError(f"{path}: its video stream has no frame rate")
    frames = stream.frames
    if not frames:
        if stream.duration is not None and stream.time_base:
            seconds = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            seconds = container.duration / 1e6
        else:
            seconds = 0.0
        frames = int(round(seconds * float(rate)))
    others = tuple((s.index, s.type, s.codec_context.name if s.codec_context else "?") for s in container.streams if s is not stream)
    info = VideoInfo(path, context.width, context.height, fractions.Fraction(rate), stream.time_base, int(frames), others)
    return container, stream, info


class FrameReader:
    """The frames of a video's first video stream, as (uint8 RGB (H, W, 3), pts), in presentation order.

    A packet the decoder rejects (a corrupt frame) is skipped with a warning
    naming its time; the frames after it keep their own timestamps, so the
    picture stays in step with the sound. `skipped` counts them. Frames
    without a timestamp get one from their position and the frame rate.

    Args:
        path: the video file.
        start: frames to pass over (decoded, not converted) before the
            first one returned: where a resumed job continues.
    """

    def __init__(self, path, start=0):
        self.container, self.stream, self.info = open_input(path)
        self.stream.thread_type = "AUTO"
        self.skipped = 0
        self.start = start

    def close(self):
        self.container.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _decoded(self):
        import av

        for packet in self.container.demux(self.stream):
            try:
                yield from packet.decode()
            except av.InvalidDataError as error:
                self.skipped += 1
                when = float(packet.pts * packet.time_base) if packet.pts is not None and packet.time_base else None
                where = f"at {when:.3f} s" if when is not None else "at an unknown time"
                log.warning("%s: a corrupt frame %s skipped (%s)", self.info.path, where, first_line(error))

    def __iter__(self):
        ticks_per_frame = 1 / (self.info.rate * self.info.time_base)
        index = 0
        last_pts = None
        for frame in self._decoded():
            pts = frame.pts
            if pts is None:
                pts = last_pts + max(1, round(ticks_per_frame)) if last_pts is not None else round(index * ticks_per_frame)
            last_pts = pts
            index += 1
            if index <= self.start:
                continue
            yield frame.to_ndarray(format="rgb24"), int(pts)
