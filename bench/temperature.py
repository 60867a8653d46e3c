"""Score one trained `--ab-head classes` run at several annealed-mean temperatures; print the scores as JSON.

usage: python bench/temperature.py RUN [--temperature 0.38 ...] [--eval DIR ...]

The temperature decides how a predicted colour distribution becomes one
colour: 1 is its mean (safe, dull), towards 0 its most likely bin (vivid,
patchy); Zhang et al. chose 0.38. It needs no retraining: the generator is
rebuilt with another temperature and the run's weights. Defaults: the run's
own temperature, 0.2, 0.5 and 0.8, on ../shared/data/dev/kodak24 and
../shared/data/dev/imagenet500. Each evaluation's figures go to
RUN/eval-<set>-t<T>.
"""

import argparse
import os

from common import SHARED, report


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", help="a run folder (or checkpoint) trained with --ab-head classes")
    parser.add_argument("--temperature", action="append", type=float, default=None)
    parser.add_argument("--eval", action="append", default=None, help="evaluation folder (repeat for several)")
    args = parser.parse_args()
    args.eval = args.eval or [str(SHARED / "data" / "dev" / name) for name in ("kodak24", "imagenet500")]

    from quality import brief

    from keras_colorizer.models import ab_classes
    from keras_colorizer.run.checkpoint import find_checkpoint, load_generator
    from keras_colorizer.evaluate import evaluate
    from keras_colorizer.inference import Colorizer

    trained = load_generator(find_checkpoint(args.run))
    temperatures = args.temperature or [trained.get_config().get("temperature"), 0.2, 0.5, 0.8]
    try:
        generators = {temperature: ab_classes.at_temperature(trained, temperature) for temperature in temperatures}
    except ValueError as error:
        raise SystemExit(f"error: {args.run}: {error}") from None
    rows = {}
    for temperature, generator in generators.items():
        colorizer = Colorizer(generator, generator.image_size)
        for folder in args.eval:
            name = os.path.basename(os.path.normpath(folder))
            out = os.path.join(args.run, f"eval-{name}-t{temperature:g}")
            title = f"{os.path.basename(os.path.normpath(args.run))}, T={temperature:g}"
            rows[f"{name} T={temperature:g}"] = brief(evaluate(colorizer, folder, out, verbose=False, name=title))
            print(name, temperature, rows[f"{name} T={temperature:g}"], flush=True)
    report({"run": args.run, "eval": rows})


if __name__ == "__main__":
    main()
