#!/usr/bin/env bash
# The GPU figures of issue 5, in one call of the `device` tool.
#
# The GPU machine has JAX and PyTorch but no TensorFlow and no network, so the
# Keras step runs on the JAX backend and Keras travels as wheels. Once, here:
#     bash bench/device_check.sh --fetch-wheels     # keras, namex, optree for its Python 3.12, into .whl/
# Then, from the session: device run with command "bash bench/device_check.sh",
# carry [".whl"], timeout_s 540. It measures, on the same GPU in one call:
#   - unet_256, 256x256, mixed_bfloat16 (JAX, XLA), batch 16 and batch 1, next to
#     the PyTorch reference under bfloat16 autocast (--amp);
#   - the GPU's bf16 matrix-product rate and the step's share of it (--peak);
#   - utilisation and memory from nvidia-smi over the timed steps.
# Every result is one JSON line, printed and written to $OUT.
#
#     PYTHON=.venv-jax/bin/python bash bench/device_check.sh --smoke
# runs the same sequence with a tiny model, to try the script on a CPU first
# (with an environment that has JAX and Keras).
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}  # the device's python3 holds JAX and PyTorch

if [[ "${1:-}" == "--fetch-wheels" ]]; then
    python3 -m pip download --only-binary=:all: --no-deps --python-version 3.12 \
        --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64 \
        -d .whl "keras==3.15.*" namex optree
    exit 0
fi

shape=(--generator unet_256 --size 256)
steps_large=(--steps 30 --warmup 3)
steps_small=(--steps 60 --warmup 3)
if [[ "${1:-}" == "--smoke" ]]; then
    shape=(--generator unet_128 --size 128 --ngf 8)
    steps_large=(--steps 3 --warmup 2)
    steps_small=(--steps 3 --warmup 2)
elif compgen -G ".whl/*.whl" > /dev/null; then
    "$python" -m pip install --quiet --no-index --no-deps .whl/*.whl
elif ! KERAS_BACKEND=jax "$python" -c "import keras" 2> /dev/null; then
    echo "error: $python has no Keras and .whl/ holds no wheels: run 'bash bench/device_check.sh --fetch-wheels' here and carry .whl" >&2
    exit 2
fi

out=${OUT:-/tmp/device_check}
mkdir -p "$out"
if command -v nvidia-smi > /dev/null; then
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv | tee "$out/gpu.csv"
fi
export KERAS_BACKEND=jax
export XLA_PYTHON_CLIENT_PREALLOCATE=false  # memory figures show what the step uses, not JAX's pool

measure() {
    local name=$1
    shift
    echo "== $name: $*"
    "$python" bench/train_throughput.py --backend jax "$@" | tail -n 1 | tee "$out/$name.json"
}

measure bf16_batch16 "${shape[@]}" --precision mixed_bfloat16 --batch 16 --peak "${steps_large[@]}"
measure bf16_batch1 "${shape[@]}" --precision mixed_bfloat16 --batch 1 "${steps_small[@]}"
measure fp32_batch16 "${shape[@]}" --precision float32 --batch 16 --peak "${steps_large[@]}"
