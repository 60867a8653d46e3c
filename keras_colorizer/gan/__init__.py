"""The conditional GAN: `Pix2Pix` (a `keras.Model` with its own training step), its losses and optimizers.

`pix2pix` holds the model and what both backends' steps share; `steps/` the
step per backend; `losses` the GAN loss and L1; `optimizers` Adam with one
fused update; `schedules` the paper's learning-rate schedule; `rebalance`
the colour rebalancing weights.
"""
