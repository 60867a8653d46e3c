"""Export a trained generator for serving and for phones (SavedModel, TFLite): see issue "Export"."""
