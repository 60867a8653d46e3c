"""A training run: its options, the model built from them, the callbacks, checkpoints and devices.

`options` (`TrainOptions`, what `train.py` fills and every checkpoint
stores), `assemble` (options -> a compiled `Pix2Pix`), `training`
(`train`: data, model, callbacks, `fit`), `callbacks`, `checkpoint`
(checkpoints that survive interruption), `distribute` (strategies and
precision).
"""
