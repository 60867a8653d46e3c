"""Where the CPU training step's time goes, primitive by primitive, in Keras/TensorFlow and in the PyTorch reference.

usage: python bench/onednn_primitives.py [--generator unet_256] [--size 256] [--batch 1]
                                         [--steps 3] [--top 6] [--plot PNG]

On a CPU both frameworks hand their convolutions to the same library,
oneDNN, and oneDNN can time every primitive it runs (ONEDNN_VERBOSE=1). This
runs bench/train_throughput.py (the Keras step through `model.fit`) and
../shared/bench/ref_pix2pix_torch.py, each in its own process with that
switch on; TensorFlow gets one inter-op thread so that no two primitives
overlap and their times add up. A step starts at the generator's first
convolution (1 input channel, forward_training); the warm-up steps are
dropped and the rest summed per kind of primitive (forward, backward data,
backward weights, reorder), median over the steps. Verbose timing slows
both a little, so the steps' wall times here are not the benchmark's.

Prints one JSON line: per framework, oneDNN's milliseconds per step by kind,
their total, and the primitives that took longest (kind, oneDNN's name for
the implementation, problem shape, the weights' memory layout or a
reorder's source -> destination, calls per step, ms per step).
"""

import argparse
import collections
import json
import os
import statistics
import subprocess
import sys

from common import REFERENCE_LEVELS, REPO, report, torch_reference_command, torch_unavailable


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--generator", choices=sorted(REFERENCE_LEVELS), default="unet_256")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--ngf", type=int, default=64)
    parser.add_argument("--steps", type=int, default=3, help="steps summed after the warm-up")
    parser.add_argument("--top", type=int, default=6, help="longest primitives listed per framework")
    parser.add_argument("--plot", metavar="PNG", help="also draw where each framework's step goes, as stacked bars")
    return parser.parse_args()


def verbose_run(command, **env):
    """stdout of a command run with oneDNN's primitive timing on."""
    environment = {**os.environ, "ONEDNN_VERBOSE": "1", "TF_CPP_MIN_LOG_LEVEL": "2", **env}
    return subprocess.run(command, capture_output=True, text=True, check=True, env=environment).stdout


def layouts(descriptors):
    """The memory layouts in oneDNN's descriptor field: "wei:cdba" for a convolution's weights, "abcd->Acdb16a" for a reorder."""
    found = {}
    for descriptor in descriptors.split():
        parts = descriptor.split(":")  # e.g. wei:f32:a:blocked:Acdb32a::f0
        if len(parts) > 4 and parts[3] == "blocked":
            found[parts[0]] = parts[4]
    if "wei" in found:
        return f"wei:{found['wei']}"
    return "->".join(found[name] for name in ("src", "dst") if name in found)


def executions(text):
    """(primitive, implementation, propagation, problem, layouts, ms) of each primitive oneDNN ran."""
    rows = []
    for line in text.splitlines():
        fields = line.split(",")
        if len(fields) > 8 and fields[:4] == ["onednn_verbose", "v1", "primitive", "exec"]:
            rows.append((fields[5], fields[6].split(":")[0], fields[7], fields[-2], layouts(fields[8]), float(fields[-1])))
    return rows


def training_steps(rows, batch, ngf):
    """The rows split into training steps, each starting at the generator's first forward convolution.

    A stretch with no backward primitive (the reference times inference
    first) is not a training step and is left out.
    """
    first_conv = f"mb{batch}_ic1oc{ngf}_"
    steps = []
    for row in rows:
        primitive, _, propagation, problem, _, _ = row
        if primitive == "convolution" and propagation == "forward_training" and problem.startswith(first_conv):
            steps.append([])
        if steps:
            steps[-1].append(row)
    return [step for step in steps if any(row[2].startswith("backward") for row in step)]


def kind(primitive, propagation):
    if primitive in ("convolution", "deconvolution"):
        return f"{primitive} {propagation}"
    return primitive


def summary(steps, warmup, top):
    """oneDNN's ms per step by kind (median over the timed steps) and its longest primitives."""
    timed = steps[warmup:]
    if not timed:
        raise SystemExit(f"error: expected more than {warmup} training steps in oneDNN's log, found {len(steps)}")
    per_step = []
    for step in timed:
        totals = collections.Counter()
        for primitive, _, propagation, _, _, ms in step:
            totals[kind(primitive, propagation)] += ms
        per_step.append(totals)
    kinds = set().union(*per_step)
    longest = collections.defaultdict(lambda: [0, 0.0])
    for primitive, implementation, propagation, problem, layout, ms in timed[-1]:
        entry = longest[(kind(primitive, propagation), implementation, problem, layout)]
        entry[0] += 1
        entry[1] += ms
    ms_by_kind = {name: round(statistics.median(totals[name] for totals in per_step), 1) for name in kinds}
    return {
        "onednn_ms_per_step": round(sum(ms_by_kind.values()), 1),
        "by_kind_ms": dict(sorted(ms_by_kind.items(), key=lambda item: -item[1])),
        "longest": [
            {"kind": key[0], "implementation": key[1], "problem": key[2], "layout": key[3],
             "calls": calls, "ms": round(ms, 1)}
            for key, (calls, ms) in sorted(longest.items(), key=lambda item: -item[1][1])[:top]
        ],
        "timed_steps": len(timed),
    }


def last_json(text):
    return json.loads([line for line in text.splitlines() if line.startswith("{")][-1])


def torch_summary(args):
    """The reference's oneDNN summary; its own two warm-up steps are dropped."""
    command = torch_reference_command(args.generator, args.size, args.batch, args.steps, 1, args.ngf)
    torch_out = verbose_run(command)
    torch_steps = training_steps(executions(torch_out), args.batch, args.ngf)
    return {"verbose_step_ms": last_json(torch_out)["train_step_ms"], **summary(torch_steps, 2, args.top)}


# oneDNN kind -> bar segment. PyTorch runs a transposed convolution as oneDNN's
# deconvolution; TensorFlow runs it as a convolution's backward-data primitive
# (and its input gradient as a forward one), so between the first two
# segments the frameworks' split of the same work differs; their sum does not.
PLOT_GROUPS = {
    "convolution forward_training": "forward convolutions",
    "deconvolution forward_training": "forward convolutions",
    "convolution backward_data": "input gradients",
    "deconvolution backward_data": "input gradients",
    "convolution backward_weights": "weight gradients",
    "deconvolution backward_weights": "weight gradients",
    "reorder": "layout reorders",
}


def plot(result, path):
    """Stacked horizontal bars, one per framework: oneDNN's kinds of work, then the rest of the step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sides = [(name, result[name]) for name in ("keras", "torch") if "by_kind_ms" in result.get(name, {})]
    segments = list(dict.fromkeys(PLOT_GROUPS.values())) + ["other oneDNN", "outside oneDNN"]
    fig, ax = plt.subplots(figsize=(9, 1.2 + 0.8 * len(sides)))
    for row, (name, side) in enumerate(sides):
        ms = dict.fromkeys(segments, 0.0)
        for kind_name, value in side["by_kind_ms"].items():
            ms[PLOT_GROUPS.get(kind_name, "other oneDNN")] += value
        ms["outside oneDNN"] = max(0.0, side["verbose_step_ms"] - side["onednn_ms_per_step"])
        left = 0.0
        for index, segment in enumerate(segments):
            ax.barh(row, ms[segment], left=left, color=plt.cm.tab10(index), label=segment if row == 0 else None)
            if ms[segment] >= 40:
                ax.text(left + ms[segment] / 2, row, f"{ms[segment]:.0f}", ha="center", va="center", fontsize=8)
            left += ms[segment]
    ax.set_yticks(range(len(sides)), [{"keras": "Keras / TensorFlow", "torch": "PyTorch reference"}[n] for n, _ in sides])
    ax.invert_yaxis()
    ax.set_xlabel("ms per training step (oneDNN's own timing; TensorFlow on one inter-op thread)")
    ax.set_title(f"{result['generator']}, batch {result['batch']}, {result['size']}x{result['size']}, float32: where a step goes")
    ax.legend(ncol=4, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.45 if len(sides) > 1 else -0.8))
    fig.tight_layout()
    tmp = f"{path}.tmp-{os.getpid()}.png"
    fig.savefig(tmp, dpi=100, bbox_inches="tight")
    plt.close(fig)
    os.replace(tmp, path)


def main():
    args = parse_args()
    keras_warmup = 2
    shape = ["--generator", args.generator, "--size", str(args.size), "--batch", str(args.batch), "--ngf", str(args.ngf)]
    keras_out = verbose_run(
        [sys.executable, str(REPO / "bench" / "train_throughput.py"), *shape, "--no-reference",
         "--warmup", str(keras_warmup), "--steps", str(args.steps)],
        TF_NUM_INTEROP_THREADS="1",
    )
    result = {"generator": args.generator, "size": args.size, "batch": args.batch}
    keras_steps = training_steps(executions(keras_out), args.batch, args.ngf)
    result["keras"] = {
        "verbose_step_ms": last_json(keras_out)["keras"]["train_step_ms"],
        **summary(keras_steps, keras_warmup, args.top),
    }
    reason = torch_unavailable()
    result["torch"] = {"skipped": reason} if reason else torch_summary(args)
    if args.plot:
        plot(result, args.plot)
    report(result)


if __name__ == "__main__":
    main()
