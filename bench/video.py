"""Video benchmarks: flicker and colour on test clips, pipeline speed per stage, memory against length.

    python bench/video.py quality --model RUN [--aged]        # flicker / CIEDE2000, temporal vs per-frame
    python bench/video.py quality --model RUN --keyframes 12  # the same, keyframe propagation as "temporal"
    python bench/video.py speed --model RUN [--frames 240]    # frames/s at 640x360 and each stage's share
    python bench/video.py speed --generator NAME              # the same for an architecture (untrained weights)
    python bench/video.py memory --model RUN --seconds 10     # peak RSS of one whole job (run once per length)

Clips are made from the Kodak24 photos in ../shared/data/dev (pans at 2 and 4
pixels a frame, a zoom, cuts between photos), 640x360, 24 fps, H.264 with a
sine tone as audio. With --aged the network is given the clips as old film
(gray, grain of 6 levels and a 4% brightness flicker per frame) and scored
against the clean colours. "per_frame" colorizes each frame alone; "temporal" is the
default (colour carried along the optical flow); "truth" is the true colour
video, whose own warping error is the floor; with --aged, "truth_on_input"
is the true a, b on the aged L (the outputs keep that L, grain and flicker
and all), the floor of an output there. With --keyframes K, "temporal"
is keyframe propagation instead (`KeyframePropagation`): the network's colour
on every K-th frame, carried along the flow in between. Prints one JSON line.
"""

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
from common import SHARED, machine, report

from keras_colorizer.video.temporal import TemporalSmoother

KODAK = SHARED / "data" / "dev" / "kodak24"
WIDTH, HEIGHT, FPS = 640, 360, 24
# (name, motion, photo indexes, pixels a frame)
CLIPS = [
    ("pan-slow-kodim03", "pan", (2,), 2.0),
    ("pan-fast-kodim05", "pan", (4,), 4.0),
    ("pan-kodim14", "pan", (13,), 3.0),
    ("zoom-kodim19", "zoom", (18,), 0.0),
    ("cut-kodim07-kodim23", "cut", (6, 22), 3.0),
    ("cut-kodim10-kodim21", "cut", (9, 20), 2.0),
]


def _photos():
    from keras_colorizer.data.images import read_image

    if not KODAK.is_dir():
        sys.exit(f"{KODAK}: the Kodak24 photos are needed (../shared/data, see its README)")
    return [read_image(p) for p in sorted(KODAK.glob("*.png"))]


def make_clips(folder, frames=72):
    """[(name, colour clip, aged gray clip)]."""
    from tools.clips import aged, frames_of, read_frames, write_video

    photos = _photos()
    made = []
    for seed, (name, motion, picks, step) in enumerate(CLIPS):
        path, old = os.path.join(folder, f"{name}.mp4"), os.path.join(folder, f"{name}-aged.mp4")
        if not os.path.exists(old):
            write_video(path, frames_of(motion, [photos[i] for i in picks], frames, WIDTH, HEIGHT, step=step), fps=FPS)
            write_video(old, list(aged(read_frames(path), seed=seed)), fps=FPS)
        made.append((name, path, old))
    return made


class KeyframePropagation(TemporalSmoother):
    """The alternative to the default blend that the video issue asks to measure: keyframes, propagated.

    Every `interval`-th frame (and the first after a cut) takes the
    network's colour alone; the frames between take the previous output
    carried along the flow wherever it is trusted (a carry of 1, weighted
    by the trust), and the network's colour only where it is not. Flicker
    falls to the warping's own between keyframes and comes back as a jump
    at each keyframe; errors of the flow add up until the next one.
    """

    def __init__(self, interval, **kwargs):
        super().__init__(carry=0.5, **kwargs)  # any carry > 0: `trust` is what is used
        self.interval = int(interval)
        self._since_keyframe = 0

    def __call__(self, gray, ab):
        ab = np.asarray(ab, np.float32)
        carried = self.trust(gray) if 0 < self._since_keyframe < self.interval else None
        if carried is None:
            out, self._since_keyframe = ab, 1
        else:
            warped, trust = carried
            out = trust[..., None] * warped + (1.0 - trust[..., None]) * ab
            self._since_keyframe += 1
        self._gray, self._ab = gray, out
        return out


@contextlib.contextmanager
def smoother_in_pipeline(factory):
    """Colorize with `factory(carry=...)` in place of the pipeline's TemporalSmoother (a benchmark-only swap)."""
    from keras_colorizer.video import pipeline

    original, pipeline.TemporalSmoother = pipeline.TemporalSmoother, factory
    try:
        yield
    finally:
        pipeline.TemporalSmoother = original


# What `quality` reports per clip: the true video, the two colorizations and (aged) the true a, b on the aged L.
KINDS = ("truth", "truth_on_input", "per_frame", "temporal")


def quality(args):
    from keras_colorizer.inference import Colorizer
    from keras_colorizer.video import VideoSettings
    from keras_colorizer.video.evaluate import evaluate_video

    colorizer = Colorizer.load(args.model)
    if args.keyframes:
        swap = smoother_in_pipeline(lambda carry: KeyframePropagation(args.keyframes))
    elif args.photometric_sigma:
        swap = smoother_in_pipeline(lambda carry: TemporalSmoother(carry=carry, photometric_sigma=args.photometric_sigma))
    else:
        swap = contextlib.nullcontext()
    tag = ("-aged" if args.aged else "") + (f"-keyframes{args.keyframes}" if args.keyframes else "")
    tag += f"-sigma{args.photometric_sigma:g}" if args.photometric_sigma else ""
    results = {}
    with swap:
        for name, path, old in make_clips(args.out):
            summary = evaluate_video(colorizer, path, os.path.join(args.out, name + tag),
                                     VideoSettings(carry=args.carry), progress=False, gray_path=old if args.aged else None)
            results[name] = {
                kind: {k: round(v, 4) for k, v in summary[kind].items() if k in ("flicker", "ciede2000", "psnr")}
                for kind in KINDS if kind in summary
            }
            print(name, json.dumps(results[name]), file=sys.stderr)
    first = results[next(iter(results))]
    mean = {
        kind: {k: float(np.mean([r[kind][k] for r in results.values()])) for k in ("flicker", "ciede2000", "psnr") if k in first[kind]}
        for kind in first
    }
    targets = {
        "flicker_vs_truth": mean["temporal"]["flicker"] / mean["truth"]["flicker"],  # target <= 1.5
        "per_frame_vs_temporal_flicker": mean["per_frame"]["flicker"] / mean["temporal"]["flicker"],  # target >= 5
        "ciede_change": mean["temporal"]["ciede2000"] - mean["per_frame"]["ciede2000"],  # target <= 0.3
    }
    if "truth_on_input" in mean:  # aged clips: the floor of an output that keeps the aged L
        targets["flicker_vs_truth_on_input"] = mean["temporal"]["flicker"] / mean["truth_on_input"]["flicker"]
    report({"benchmark": "video-quality", "model": args.model, "aged": args.aged, "carry": args.carry,
            "photometric_sigma": args.photometric_sigma,
            "keyframes": args.keyframes, "clips": results, "mean": mean, "targets": targets})


def speed(args):
    from keras_colorizer.video import VideoSettings, colorize_video
    from tools.clips import frames_of, write_video

    path = os.path.join(args.out, f"speed-{args.frames}.mp4")
    if not os.path.exists(path):
        write_video(path, frames_of("pan", _photos()[2:3], args.frames, WIDTH, HEIGHT, step=2.0), fps=FPS)
    colorizer = _colorizer(args)
    colorize_video(colorizer, path, os.path.join(args.out, "warm-up.mp4"), VideoSettings(), progress=False)
    rows = {}
    for temporal in (True, False):
        out = os.path.join(args.out, f"speed-out-{temporal}.mp4")
        tic = time.perf_counter()
        result = colorize_video(colorizer, path, out, VideoSettings(temporal=temporal), progress=False)
        seconds = time.perf_counter() - tic
        stages = result.stage_seconds
        rows["temporal" if temporal else "per_frame"] = {
            "fps": round(result.frames / seconds, 2),
            "seconds": round(seconds, 2),
            "stage_share": {k: round(v / seconds, 3) for k, v in stages.items()},
            "stage_ms_per_frame": {k: round(1000 * v / result.frames, 2) for k, v in stages.items()},
        }
    report({"benchmark": "video-speed", "model": args.model or f"{args.generator} (untrained)", "size": f"{WIDTH}x{HEIGHT}", "frames": args.frames, **rows})


def _colorizer(args):
    from keras_colorizer.inference import Colorizer

    if args.model:
        return Colorizer.load(args.model)
    from keras_colorizer.models import build_generator

    settings = {"weights": None} if args.generator not in ("unet_128", "unet_256") else {"ngf": 32}
    size = 256 if args.generator == "unet_256" else 128
    generator = build_generator(args.generator, image_size=size, **settings)
    return Colorizer(generator, size)


def memory(args):
    """Peak RSS of colorizing a clip of --seconds, measured in a child process (one per length)."""
    from tools.clips import frames_of

    path = os.path.join(args.out, f"memory-{args.seconds}s.mp4")
    if not os.path.exists(path):
        import av

        photo = _photos()[2]
        loop = frames_of("pan", [photo], 10 * FPS, WIDTH, HEIGHT, step=2.0)
        loop = loop + loop[::-1]
        # Write the long clip frame by frame: the benchmark itself must not hold the film.
        with av.open(path, "w") as container:
            stream = container.add_stream("libx264", rate=FPS, options={"crf": "23", "preset": "veryfast"})
            stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
            for i in range(args.seconds * FPS):
                frame = av.VideoFrame.from_ndarray(loop[i % len(loop)], format="rgb24")
                frame.pts = i
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
    out = os.path.join(args.out, f"memory-out-{args.seconds}s.mp4")
    tic = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "keras_colorizer.cli.colorize", path, "--model", args.model, "--out", out],
        capture_output=True, text=True,
    )
    if done.returncode:
        sys.exit(done.stderr)
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    report({"benchmark": "video-memory", "model": args.model, "seconds_of_video": args.seconds,
            "size": f"{WIDTH}x{HEIGHT}", "peak_rss_mib": round(peak_mib, 1), "wall_s": round(time.perf_counter() - tic, 1)})


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("quality", "speed", "memory"))
    parser.add_argument("--model", help="a run folder or an exported model")
    parser.add_argument("--generator", help="speed: time this architecture with untrained weights instead of --model")
    parser.add_argument("--aged", action="store_true", help="quality: colorize the clips aged as old film")
    parser.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "kc_video_bench"))
    parser.add_argument("--frames", type=int, default=240, help="speed: frames in the clip")
    parser.add_argument("--seconds", type=int, default=10, help="memory: length of the clip")
    parser.add_argument("--carry", type=float, default=0.95, help="quality: the smoother's carry (the library's default)")
    parser.add_argument("--photometric-sigma", type=float, default=None,
                        help="quality: the smoother's photometric_sigma, gray levels (default: the library's)")
    parser.add_argument("--keyframes", type=int, default=0,
                        help="quality: keyframe propagation with a keyframe every K frames as \"temporal\" (0: the default blend)")
    args = parser.parse_args()
    if not args.model and not (args.what == "speed" and args.generator):
        parser.error("--model is needed (or, for speed, --generator)")
    os.makedirs(args.out, exist_ok=True)
    print(machine(), file=sys.stderr)
    {"quality": quality, "speed": speed, "memory": memory}[args.what](args)


if __name__ == "__main__":
    main()
