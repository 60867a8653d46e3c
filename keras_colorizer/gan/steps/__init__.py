"""The training and validation steps of `Pix2Pix`, one module per Keras backend."""

SUPPORTED_BACKENDS = ("tensorflow", "jax")


def for_backend(backend):
    """(train_step, test_step) functions of `(model, ...)` for a Keras backend."""
    if backend == "tensorflow":
        from keras_colorizer.gan.steps import tensorflow as module
    elif backend == "jax":
        from keras_colorizer.gan.steps import jax as module
    else:
        raise ValueError(
            f"keras-colorizer trains with the {' or '.join(SUPPORTED_BACKENDS)} backend of Keras. "
            f"Received: KERAS_BACKEND={backend!r}"
        )
    return module.train_step, module.test_step
