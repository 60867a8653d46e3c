"""Colorize videos: PyAV decoding and encoding, batched frames, colour carried along the optical flow."""

from keras_colorizer.video.pipeline import VideoReport, VideoSettings, colorize_frames, colorize_video
from keras_colorizer.video.stream import VIDEO_EXTENSIONS, is_video_path

__all__ = ["VIDEO_EXTENSIONS", "VideoReport", "VideoSettings", "colorize_frames", "colorize_video", "is_video_path"]
