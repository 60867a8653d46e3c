"""What a run's discriminator tells real colour from generated colour by: its output on real and altered pairs.

usage: python bench/discriminator_cues.py RUN [--photos DIR] [--count 64] [--size S] [--batch B] [--out JSON]

The adversarial term only helps the colour if the discriminator judges
whether a photo's colour fits the photo. This scores the discriminator of a
checkpoint (RUN: a run folder or one of its checkpoints) in training mode, as
the step runs it, on the L of `--count` photos paired with:

- the real ab, and the real ab altered: faded (x0.5, x0), blurred, hue
  turned by 90 or 180 degrees, or moved to another photo (wrong colour at
  full strength);
- the generator's ab, and the same made stronger (x1.5, x2) or blurred.

Each case is shown to it in batches of `--batch` pairs of that case alone
(as a step with `--d-batch separate` shows generated pairs), and again as
half of each batch beside real pairs of the other photos (as `--d-batch
joint` shows them). It prints the mean patch output (LSGAN: 1 says real,
0 generated) and the share of patches it calls real, and writes them to
`--out`.

A discriminator that judges photo by photo calls generated pairs
generated beside real ones too; one that calls faded real colour
generated but turned hues real judges how colourful the colour is, not
whether it is right.
"""

import argparse
import json

import numpy as np

from common import SHARED, machine

CASES = (
    "real", "real x0.5", "real x0 (gray)", "real blurred", "real, hue turned 90", "real, hue turned 180",
    "real, another photo's colour", "generated", "generated x1.5", "generated x2", "generated blurred",
)


def hue_turned(ab, degrees):
    """ab with every pixel's hue turned by `degrees` (chroma kept)."""
    t = np.deg2rad(degrees)
    a, b = ab[..., 0], ab[..., 1]
    return np.stack([np.cos(t) * a - np.sin(t) * b, np.sin(t) * a + np.cos(t) * b], axis=-1)


def blurred(ab, sigma=3.0):
    """ab smoothed by a Gaussian of `sigma` pixels, photo by photo."""
    from scipy import ndimage

    return ndimage.gaussian_filter(ab, (0, sigma, sigma, 0))


def altered(ab_real, ab_fake):
    """{case: ab} for every case in `CASES`, clipped to the network's range."""
    cases = {
        "real": ab_real, "real x0.5": 0.5 * ab_real, "real x0 (gray)": 0.0 * ab_real, "real blurred": blurred(ab_real),
        "real, hue turned 90": hue_turned(ab_real, 90), "real, hue turned 180": hue_turned(ab_real, 180),
        "real, another photo's colour": np.roll(ab_real, 1, axis=0),
        "generated": ab_fake, "generated x1.5": 1.5 * ab_fake, "generated x2": 2.0 * ab_fake, "generated blurred": blurred(ab_fake),
    }
    return {name: np.clip(ab, -1.0, 1.0).astype("float32") for name, ab in cases.items()}


def judged(discriminator, l_norm, ab, batch):
    """The discriminator's patch outputs, training mode, `batch` pairs at a time: (N, h, w, 1)."""
    from keras import ops

    outputs = [ops.convert_to_numpy(discriminator([l_norm[i : i + batch], ab[i : i + batch]], training=True))
               for i in range(0, len(ab), batch)]
    return np.concatenate(outputs)


def summary(patches):
    return {"mean": round(float(patches.mean()), 3), "called_real": round(float((patches > 0.5).mean()), 3)}


def cues(generator, discriminator, rgb, batch):
    """{"own batch": {case: summary}, "beside real": {case: summary}} for uint8 photos `rgb`.

    "own batch": the case's pairs in batches of their own. "beside real":
    in batches half of real pairs, half of the case's (the other photos'),
    the case's half scored. The discriminator's batch norm statistics are
    put back after each pass, so every case meets it as the checkpoint left it.
    """
    from keras import ops

    from keras_colorizer import color

    l_norm, ab_real = (ops.convert_to_numpy(t) for t in color.rgb_to_network(rgb.astype("float32") / 255.0))
    ab_fake = ops.convert_to_numpy(generator(l_norm, training=False)).astype("float32")
    saved = [v.numpy() for v in discriminator.non_trainable_variables]

    def fresh():
        for variable, value in zip(discriminator.non_trainable_variables, saved):
            variable.assign(value)

    half = np.arange(len(ab_real)) % batch >= batch // 2  # the second half of every batch
    own, beside = {}, {}
    for name, ab in altered(ab_real, ab_fake).items():
        fresh()
        own[name] = summary(judged(discriminator, l_norm, ab, batch))
        fresh()
        beside[name] = summary(judged(discriminator, l_norm, np.where(half[:, None, None, None], ab, ab_real), batch)[half])
    fresh()  # left as it was found
    return {"own batch": own, "beside real": beside}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", help="a run folder or one of its checkpoints")
    parser.add_argument("--photos", default=str(SHARED / "data" / "dev" / "imagenet500"), help="a folder of colour photos")
    parser.add_argument("--count", type=int, default=64, help="photos to use (every n-th, spread over the folder)")
    parser.add_argument("--size", type=int, help="side the photos are cropped to (default: the run's training side)")
    parser.add_argument("--batch", type=int, help="pairs per batch (default: the run's batch size)")
    parser.add_argument("--out", help="write the scores to this JSON file")
    args = parser.parse_args(argv)

    import keras

    import keras_colorizer  # noqa: F401 - registers the model classes
    from keras_colorizer.data import load_crops, open_source
    from keras_colorizer.run.checkpoint import DISCRIMINATOR_FILE, GENERATOR_FILE, find_checkpoint, read_options

    checkpoint = find_checkpoint(args.run)
    options = read_options(checkpoint)
    generator = keras.saving.load_model(f"{checkpoint}/{GENERATOR_FILE}")
    discriminator = keras.saving.load_model(f"{checkpoint}/{DISCRIMINATOR_FILE}")
    size = args.size or options.image_size
    batch = args.batch or options.batch_size
    if batch < 2 or args.count < batch:
        parser.error(f"--batch must be at least 2 and --count at least --batch. Received: {batch}, {args.count}")
    source = open_source(args.photos)
    picks = np.linspace(0, len(source) - 1, args.count).round().astype(int)
    result = cues(generator, discriminator, load_crops(source, picks, size), batch)

    print(f"{checkpoint}: {args.count} photos of {args.photos} at {size}, batches of {batch}")
    print("mean patch output (1: real, 0: generated) / share of patches called real")
    print(f"  {'pairs':32s} {'in their own batch':>20s} {'beside real pairs':>20s}")
    for name, own in result["own batch"].items():
        beside = result["beside real"][name]
        print(f"  {name:32s} {own['mean']:12.3f} / {own['called_real']:4.2f} {beside['mean']:12.3f} / {beside['called_real']:4.2f}")
    if args.out:
        from keras_colorizer.atomic import write_json

        write_json(args.out, {"machine": machine(), "checkpoint": checkpoint, "photos": args.photos, "count": args.count,
                              "size": size, "batch": batch, **result})


if __name__ == "__main__":
    main()
