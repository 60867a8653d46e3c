"""Short clips with known camera motion made from colour photos: what the video tests and benchmarks run on.

`make_clip` moves a window over a photo (a pan or a zoom) or cuts from one
photo to another, encodes the colour frames with H.264 (and a sine tone as
AAC audio), and writes the same clip grayed (each frame's CIELAB L, a = b =
0), so a colorized gray clip can be scored against the colour one.
"""

import os

import numpy as np

MOTIONS = ("pan", "zoom", "cut", "still")


def _cover(photo, width, height):
    """The photo scaled (aspect kept) to cover width x height, then centre-cropped to it."""
    import cv2

    scale = max(height / photo.shape[0], width / photo.shape[1])
    size = (max(width, round(photo.shape[1] * scale)), max(height, round(photo.shape[0] * scale)))
    scaled = cv2.resize(photo, size, interpolation=cv2.INTER_AREA)
    top, left = (size[1] - height) // 2, (size[0] - width) // 2
    return scaled[top : top + height, left : left + width]


def _pan(photo, frames, width, height, step):
    """Windows moving `step` pixels per frame left to right over the photo (scaled so the pan fits)."""
    travel = int(np.ceil(step * max(0, frames - 1)))
    strip = _cover(photo, width + travel, height)
    for i in range(frames):
        x = int(round(i * step))
        yield strip[:, x : x + width]


def _zoom(photo, frames, width, height, end_scale=1.3):
    import cv2

    photo = _cover(photo, width, height)
    centre_x, centre_y = photo.shape[1] / 2, photo.shape[0] / 2
    for i in range(frames):
        scale = 1.0 + (end_scale - 1.0) * i / max(1, frames - 1)
        half_w, half_h = width / 2 / scale, height / 2 / scale
        crop = photo[int(centre_y - half_h) : int(centre_y + half_h), int(centre_x - half_w) : int(centre_x + half_w)]
        yield cv2.resize(crop, (width, height), interpolation=cv2.INTER_AREA)


def frames_of(motion, photos, frames, width, height, step=2.0):
    """uint8 RGB frames (height, width, 3) of a `motion` over `photos` (a cut uses the first two)."""
    if motion == "pan":
        return list(_pan(photos[0], frames, width, height, step))
    if motion == "zoom":
        return list(_zoom(photos[0], frames, width, height))
    if motion == "cut":
        first = frames // 2
        return list(_pan(photos[0], first, width, height, step)) + list(_pan(photos[1], frames - first, width, height, step))
    if motion == "still":
        return list(_pan(photos[0], frames, width, height, 0.0))
    raise ValueError(f"Expected a motion in {MOTIONS}. Received: motion={motion!r}")


def gray_frame(rgb):
    """The frame's CIELAB L shown as gray (a = b = 0), uint8 RGB."""
    from skimage import color as skcolor

    lab = skcolor.rgb2lab(rgb)
    lab[..., 1:] = 0.0
    return np.round(np.clip(skcolor.lab2rgb(lab), 0, 1) * 255).astype(np.uint8)


def aged(frames, grain=6.0, flicker=0.04, seed=0):
    """Frames made to look like old film: gray, with per-frame grain and brightness flicker.

    Args:
        grain: standard deviation of the per-pixel noise, in 8-bit levels.
        flicker: standard deviation of each frame's brightness gain.
    """
    rng = np.random.default_rng(seed)
    for rgb in frames:
        gray = gray_frame(rgb).astype(np.float32) * rng.normal(1.0, flicker)
        gray += rng.normal(0.0, grain, gray.shape[:2])[..., None]
        yield np.clip(np.round(gray), 0, 255).astype(np.uint8)


def _srt(cues):
    """SubRip text of (start seconds, end seconds, text) cues."""

    def stamp(seconds):
        ms = int(round(seconds * 1000))
        return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"

    return "".join(f"{i}\n{stamp(start)} --> {stamp(end)}\n{text}\n\n" for i, (start, end, text) in enumerate(cues, 1))


def write_video(path, frames, fps=24, audio=True, crf=18, subtitles=()):
    """Encode uint8 RGB frames with H.264 (yuv420p) into `path`, with a 440 Hz AAC tone as long as the video.

    `subtitles`: (start seconds, end seconds, text) cues, added as a SubRip
    stream (a container that holds one: .mkv).
    """
    import tempfile

    import av

    height, width = frames[0].shape[:2]
    with tempfile.TemporaryDirectory() as scratch, av.open(path, "w") as container:
        video = container.add_stream("libx264", rate=fps, options={"crf": str(crf), "preset": "fast"})
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        sound = None
        if audio:
            sound = container.add_stream("aac", rate=44100)
            sound.layout = "mono"
        if subtitles:
            srt_path = os.path.join(scratch, "cues.srt")
            with open(srt_path, "w", encoding="utf-8") as f:
                f.write(_srt(subtitles))
            with av.open(srt_path) as srt:
                cues = srt.streams.subtitles[0]
                text = container.add_stream_from_template(cues)
                for packet in srt.demux(cues):
                    if packet.dts is not None:
                        packet.stream = text
                        container.mux(packet)
        for i, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            frame.pts = i
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        if sound is not None:
            samples = int(44100 * len(frames) / fps)
            tone = (0.2 * np.sin(2 * np.pi * 440 * np.arange(samples) / 44100)).astype(np.float32)[None]
            for start in range(0, samples, 1024):
                chunk = av.AudioFrame.from_ndarray(np.ascontiguousarray(tone[:, start : start + 1024]), format="fltp", layout="mono")
                chunk.sample_rate = 44100
                chunk.pts = start
                for packet in sound.encode(chunk):
                    container.mux(packet)
            for packet in sound.encode():
                container.mux(packet)


def read_frames(path):
    """Every frame of a video's first video stream as uint8 RGB (a short clip; films stream through `FrameReader`)."""
    from keras_colorizer.video.stream import FrameReader

    with FrameReader(path) as reader:
        return [rgb for rgb, _ in reader]


def make_clip(photos, colour_path, gray_path, motion="pan", frames=24, width=128, height=96, fps=24, audio=True):
    """Write a colour clip and its gray twin; returns the colour frames as decoded (the truth to score against)."""
    write_video(colour_path, frames_of(motion, photos, frames, width, height), fps=fps, audio=audio)
    truth = read_frames(colour_path)
    write_video(gray_path, [gray_frame(rgb) for rgb in truth], fps=fps, audio=audio)
    return truth
