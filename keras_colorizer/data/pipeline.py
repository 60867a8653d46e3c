"""The tf.data pipeline: indices -> decoded photos -> jittered crops -> uint8 batches.

Batches stay uint8 (sRGB, or 8-bit Lab for the Kaggle arrays): the Lab
conversion runs inside the training step, on the accelerator, where it is
cheap; on the host it was the pipeline's bottleneck (docs/benchmarks.md).

Sources whose images all share one size (the Kaggle arrays, 224x224) are not
resized on the host either: the host crops the window that the jitter would
take (e.g. 200x200 of 224x224 for 256 crops: resize by 286/224, crop 256) and
flips it, and the training step resizes the batch to the training size
(to the generator's `image_size`, in `Pix2Pix`), for the same reason.

Training data is an endless stream defined by the seed alone: pass p visits
the training photos in the order `stateless_shuffle(seed, p)` and each crop
and flip is drawn from a seed folded from (seed, p, photo). So the stream can
be restarted at any step (`start_step`) and give exactly what an unbroken run
would have seen, which is what makes `--resume` exact.
"""

import numpy as np
import tensorflow as tf

JITTER_SCALE = 286 / 256  # pix2pix: resize 256 -> 286, random crop back to 256


def load_size(image_size, jitter):
    """Short side a photo is resized to before cropping `image_size`."""
    return int(round(image_size * JITTER_SCALE)) if jitter else int(image_size)


def host_crop_size(source, image_size, jitter):
    """(short side the host resizes photos to or None, side of the square crop it hands over).

    Photos of varied sizes are resized on the host (or were, once, into the
    scan cache) to the jitter's load size and cropped to `image_size`.
    Sources of one fixed size are cropped at their own resolution, to the
    window that maps onto `image_size` after the resize to the load size;
    the training step resizes it.
    """
    native = getattr(source, "native_size", None)
    target = load_size(image_size, jitter)
    if native is None:
        return target, int(image_size)
    short = min(native)
    return None, min(short, int(round(image_size * short / target)))


def _loader(source, short_side):
    def load(index):
        return source.load(int(index), short_side)

    def load_tf(index):
        image = tf.numpy_function(load, [index], tf.uint8, stateful=False)
        image.set_shape([None, None, 3])
        return image

    return load_tf


def _center_crop(image, size):
    height, width = tf.shape(image)[0], tf.shape(image)[1]
    top, left = (height - size) // 2, (width - size) // 2
    crop = image[top : top + size, left : left + size, :]
    crop.set_shape([size, size, 3])  # static, so layers that need a known size can trace
    return crop


def _weighted_pass(groups, counts, pass_seed):
    """One pass of a `MixedSource` under its weights: `counts[k]` images of source k, shuffled together.

    A source that gives fewer images than its count repeats them, each
    repeat in a new order; one that gives more is subsampled, differently
    each pass.
    """
    draws = []
    for k, (group, count) in enumerate(zip(groups, counts)):
        if count == 0:
            continue
        table, source_seed = tf.constant(group), tf.random.experimental.stateless_fold_in(pass_seed, k + 1)
        repeats = -(-count // len(group))
        orders = [
            tf.random.experimental.stateless_shuffle(table, seed=tf.random.experimental.stateless_fold_in(source_seed, r))
            for r in range(repeats)
        ]
        draws.append(tf.concat(orders, axis=0)[:count])
    return tf.random.experimental.stateless_shuffle(tf.concat(draws, axis=0), seed=pass_seed)


def training_dataset(source, indices, image_size, batch_size, seed=0, jitter=True, start_step=0, pass_counts=None):
    """Endless uint8 batches (N, C, C, 3) for `model.fit`, deterministic given `seed`.

    C is `image_size`, or for sources of one fixed size the window that
    `host_crop_size` gives (the training step resizes it to `image_size`).

    Args:
        source: an `ImageSource`.
        indices: the source indices to train on.
        image_size: side of the square training crops.
        batch_size: images per batch (the last partial batch of a pass is
            not dropped: the stream is endless, batches span passes).
        seed: fixes the photo order, crops and flips.
        jitter: pix2pix jitter (resize up by 286/256, random crop, random
            horizontal flip); off gives centre crops in a shuffled order.
        start_step: the number of batches already consumed (for resuming).
        pass_counts: for a `MixedSource` with weights, images of each
            source per pass (`MixedSource.pass_counts`); None: each of
            `indices` once a pass.
    """
    indices = np.asarray(indices, dtype=np.int64)
    count = len(indices) if pass_counts is None else int(sum(pass_counts))
    groups = None if pass_counts is None else source.groups(indices)
    if count == 0:
        raise ValueError("No training images: the training split is empty.")
    first_pass, offset = divmod(int(start_step) * int(batch_size), count)
    base_seed = tf.constant([int(seed), 0], dtype=tf.int64)
    index_table = tf.constant(indices)
    short_side, crop = host_crop_size(source, image_size, jitter)
    load = _loader(source, short_side)

    def one_pass(pass_number):
        pass_seed = tf.random.experimental.stateless_fold_in(base_seed, pass_number)
        if groups is None:
            order = tf.random.experimental.stateless_shuffle(index_table, seed=pass_seed)
        else:
            order = _weighted_pass(groups, pass_counts, pass_seed)
        passes = tf.fill([count], pass_number)
        return tf.data.Dataset.from_tensor_slices((passes, order))

    def load_and_jitter(pass_number, index):
        image = load(index)
        if not jitter:
            return _center_crop(image, crop)
        item_seed = tf.random.experimental.stateless_fold_in(
            tf.random.experimental.stateless_fold_in(base_seed, pass_number), index
        )
        image = tf.image.stateless_random_crop(image, [crop, crop, 3], seed=item_seed)
        flip_seed = tf.random.experimental.stateless_fold_in(item_seed, 1)
        return tf.image.stateless_random_flip_left_right(image, seed=flip_seed)

    dataset = tf.data.Dataset.counter(first_pass).flat_map(one_pass).skip(offset)
    dataset = dataset.map(load_and_jitter, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    dataset = dataset.batch(batch_size, drop_remainder=True)
    return dataset.prefetch(tf.data.AUTOTUNE)


def validation_dataset(source, indices, image_size, batch_size, whole_batches=False):
    """Centre crops of the validation photos, in order, as uint8 batches.

    `whole_batches` drops a last partial batch (several replicas must each
    get a share of every batch).
    """
    indices = np.asarray(indices, dtype=np.int64)
    load = _loader(source, image_size)
    dataset = tf.data.Dataset.from_tensor_slices(indices)
    dataset = dataset.map(lambda i: _center_crop(load(i), image_size), num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.batch(batch_size, drop_remainder=whole_batches).prefetch(tf.data.AUTOTUNE)


def load_crops(source, indices, image_size):
    """Centre crops of the given photos as one uint8 array (N, S, S, 3)."""
    crops = []
    for i in indices:
        image = source.load(i, image_size)
        top, left = (image.shape[0] - image_size) // 2, (image.shape[1] - image_size) // 2
        crops.append(image[top : top + image_size, left : left + image_size])
    return np.stack(crops)
