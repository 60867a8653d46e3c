"""Writing videos with PyAV: encoded segments, checked up front, joined without re-encoding.

A long film is encoded as segments (MP4 files whose timestamps start at 0,
so the MP4 muxer's edit lists cannot shift them); `join` copies their
packets, moved back to the source's own timestamps, into one file together
with the source's audio and subtitle packets, interleaved by time, so
memory does not grow with the film's length.
"""

import fractions
import heapq
import logging
import os

import numpy as np

from keras_colorizer.errors import UserError, first_line

log = logging.getLogger(__name__)

# --codec name -> (FFmpeg encoder, options, default --crf, highest --crf)
CODECS = {
    "h264": ("libx264", {"preset": "fast"}, 18, 51),
    "hevc": ("libx265", {"preset": "fast", "x265-params": "log-level=error"}, 22, 51),
    "vp9": ("libvpx-vp9", {"b": "0", "deadline": "realtime", "cpu-used": "8", "row-mt": "1"}, 32, 63),
}
DEFAULT_CODEC = "h264"


def encoder_options(codec, crf=None):
    """(FFmpeg encoder name, its options) for a --codec name, or UserError naming the choices."""
    if codec not in CODECS:
        raise UserError(f"unknown codec {codec!r}; expected one of {', '.join(CODECS)}")
    encoder, options, default_crf, highest = CODECS[codec]
    crf = default_crf if crf is None else crf
    if not 0 <= crf <= highest:
        raise UserError(f"--crf {crf} is outside {codec}'s range; expected 0 (best) to {highest}")
    return encoder, {**options, "crf": str(crf)}


def _pixel_format(width, height):
    # 4:2:0 needs even sides; odd ones keep their size with 4:4:4.
    return "yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p"


class SegmentEncoder:
    """Encode frames given with the source's timestamps into one segment file.

    Timestamps are written relative to the segment's first frame
    (`first_pts`); `join` moves them back. The file appears at `path` only
    when `close` finishes; until then it is a temporary file beside it.
    """

    def __init__(self, path, width, height, rate, time_base, codec=DEFAULT_CODEC, crf=None, first_pts=0, threads=0):
        import av

        self.path = path
        self.first_pts = int(first_pts)
        self.frames = 0
        self._tmp = f"{path}.tmp-{os.getpid()}.mp4"
        encoder, options = encoder_options(codec, crf)
        self._container = av.open(self._tmp, "w")
        self._stream = self._container.add_stream(encoder, rate=rate, options=options)
        self._stream.width, self._stream.height = width, height
        self._stream.pix_fmt = _pixel_format(width, height)
        self._stream.time_base = time_base
        self._stream.codec_context.time_base = time_base
        if threads:
            self._stream.codec_context.thread_count = threads
        self._time_base = time_base

    def write(self, rgb, pts):
        import av

        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        frame.pts = int(pts) - self.first_pts
        frame.time_base = self._time_base
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.frames += 1

    def close(self):
        """Flush the encoder and move the finished file to `path`."""
        for packet in self._stream.encode():
            self._container.mux(packet)
        self._container.close()
        os.replace(self._tmp, self.path)

    def abandon(self):
        """Drop the unfinished file (Ctrl-C, an error)."""
        try:
            self._container.close()
        except Exception:  # noqa: BLE001 - the file is deleted anyway
            pass
        if os.path.exists(self._tmp):
            os.remove(self._tmp)


def check_output(path, codec=DEFAULT_CODEC, crf=None, copy_streams=()):
    """Before any work: `path`'s folder is writable, its container takes `codec`; the source streams it can hold.

    Writes (and deletes) a tiny probe file of the same kind beside `path`.
    Returns the `copy_streams` (PyAV streams of the source) the container
    can carry; each one it cannot is logged as a warning.
    """
    import av

    folder = os.path.dirname(os.path.abspath(path))
    extension = os.path.splitext(path)[1]
    probe = os.path.join(folder, f".colorize-probe-{os.getpid()}{extension}")
    encoder, options = encoder_options(codec, crf)
    try:
        os.makedirs(folder, exist_ok=True)
        with open(probe, "wb"):
            pass
    except OSError as error:
        raise UserError(f"{path}: cannot write there ({error.strerror or error}); choose another --out") from None
    try:
        try:
            container = av.open(probe, "w")
        except (av.FFmpegError, ValueError) as error:
            raise UserError(f"{path}: no video container for {extension!r} ({first_line(error)}); use .mp4, .mkv, .mov or .webm") from None
        try:
            stream = container.add_stream(encoder, rate=24, options=options)
            stream.width, stream.height, stream.pix_fmt = 16, 16, "yuv420p"
            frame = av.VideoFrame.from_ndarray(np.zeros((16, 16, 3), np.uint8), format="rgb24")
            for packet in [*stream.encode(frame), *stream.encode()]:
                container.mux(packet)
            container.close()
        except (av.FFmpegError, ValueError) as error:
            raise UserError(f"{path}: a {extension} file cannot hold {codec} video ({first_line(error)}); choose another --codec or extension") from None
        kept = []
        for source in copy_streams:
            try:
                with av.open(probe, "w") as container:
                    container.add_stream_from_template(source)
                    container.start_encoding()
                kept.append(source)
            except (av.FFmpegError, ValueError) as error:
                log.warning("%s: the %s stream #%d (%s) cannot go into a %s file; left out (%s)", path, source.type,
                            source.index, source.codec_context.name, extension, first_line(error))
        return kept
    finally:
        if os.path.exists(probe):
            os.remove(probe)


def _packets_of_segments(segments, time_base):
    """The video packets of (file, first_pts) segments, their timestamps moved back to the source's."""
    import av

    for path, first_pts in segments:
        with av.open(path) as container:
            stream = container.streams.video[0]
            offset = fractions.Fraction(first_pts) * time_base / stream.time_base
            offset = int(round(offset))
            for packet in container.demux(stream):
                if packet.dts is None:
                    continue
                packet.pts += offset
                packet.dts += offset
                yield packet


def _packets_of_source(container, streams):
    if not streams:  # demux() with no stream would read every stream
        return
    for packet in container.demux(*streams):
        if packet.dts is not None:
            yield packet


def join(segments, time_base, source_path, copy_indexes, out_path):
    """Join segment files and the source's streams `copy_indexes` into `out_path` (written in place).

    Args:
        segments: [(segment file, first pts in `time_base`)], in order.
        time_base: the source video stream's time base.
        source_path: the source video, for its audio / subtitle packets.
        copy_indexes: indexes of the source streams to copy untouched.
        out_path: the file to write (the caller writes a temporary name and renames it).
    """
    import av

    with av.open(source_path) as source, av.open(out_path, "w") as out:
        with av.open(segments[0][0]) as first:
            video_out = out.add_stream_from_template(first.streams.video[0])
        copied = [source.streams[i] for i in copy_indexes]
        targets = {s.index: out.add_stream_from_template(s) for s in copied}

        def seconds(packet):
            return packet.dts * packet.time_base

        video = ((seconds(p), 0, i, p) for i, p in enumerate(_packets_of_segments(segments, time_base)))
        others = ((seconds(p), 1, i, p) for i, p in enumerate(_packets_of_source(source, copied)))
        for _, kind, _, packet in heapq.merge(video, others, key=lambda item: item[:3]):
            packet.stream = video_out if kind == 0 else targets[packet.stream.index]
            out.mux(packet)
