"""The demo page's layout (Gradio): photos in, colour and gray side by side, saturation, downloads; videos."""

import copy
import os
import tempfile

from keras_colorizer.demo.photos import Drawings, load_photos
from keras_colorizer.errors import UserError, first_line

HOLD_SECONDS = 3600
MAX_FILE_SIZE = "500mb"  # per upload; a photo's pixel count is capped again when it is decoded


def build_app(colorizer, model_label, litert_path="/litert/"):
    """A `gr.Blocks` page that colorizes with `colorizer`; `litert_path` links to the in-browser page (None: no link).

    The network runs once per uploaded photo; the saturation slider and the
    gray toggle redraw from what it said (`Colorizer.render`).
    """
    import gradio as gr

    def upload(paths, saturation, gray, drawings, seen):
        photos, messages, seen = load_photos(colorizer, paths, seen)
        return (photos, *redraw(photos, saturation, gray, drawings, 0), "\n".join(messages), 0, seen)

    def redraw(photos, saturation, gray, drawings, selected):
        drawn = drawings.draw(colorizer, photos, saturation, gray)
        pair = drawings.pair(min(selected, len(photos) - 1)) if photos else None
        return drawn, pair, [path for path, _ in drawn] or None, drawings

    def select(drawings, event: gr.SelectData):
        return drawings.pair(event.index), event.index

    def colorize_video(path, saturation, progress=gr.Progress()):
        from keras_colorizer.video import colorize_video as run

        if not path:
            raise gr.Error("Choose a video first.")
        out = os.path.join(tempfile.mkdtemp(prefix="keras-colorizer-demo-"), os.path.splitext(os.path.basename(path))[0] + "_colour.mp4")
        video_colorizer = copy.copy(colorizer)
        video_colorizer.saturation = saturation
        progress(0, desc="Colorizing frames")
        try:
            report = run(video_colorizer, path, out, progress=False,
                         on_progress=lambda done, total: progress((done, total), desc="Colorizing frames", unit="frames"))
        except UserError as error:
            raise gr.Error(first_line(error)) from None
        return out, f"{report.frames} frames in {report.seconds:.1f} s"

    with gr.Blocks(title="keras-colorizer", delete_cache=(600, 3600)) as app:
        gr.Markdown(
            f"# Colorize your photos\nModel: `{model_label}`. Photos go only to the computer that serves this page, which deletes its copies after about an hour."
            + (f" The phone model also runs [inside the browser]({litert_path})." if litert_path else "")
        )
        with gr.Tab("Photos"):
            files = gr.File(label="Photos (one or many)", file_count="multiple", elem_id="photos")
            with gr.Row():
                saturation = gr.Slider(0, 2, value=colorizer.saturation, step=0.05, label="Saturation",
                                       info="0 gray, 1 the network's own colour, above 1 stronger with skin spared",
                                       elem_id="saturation")
                gray = gr.Checkbox(label="Show the gray photo", value=False, elem_id="gray")
            messages = gr.Textbox(label="Messages", interactive=False, elem_id="messages")
            before_after = gr.ImageSlider(label="Gray | colour (drag the line)", type="filepath", format="png",
                                          interactive=False, elem_id="before-after")
            gallery = gr.Gallery(label="Results (select one to compare it above)", format="png", columns=4, height=320,
                                 object_fit="contain", interactive=False, elem_id="results")
            downloads = gr.File(label="PNG files, full resolution", file_count="multiple", interactive=False,
                                elem_id="downloads")
        with gr.Tab("Video"):
            video_in = gr.Video(label="A short video", sources=["upload"], elem_id="video-in")
            video_button = gr.Button("Colorize the video", variant="primary", elem_id="video-go")
            video_out = gr.Video(label="In colour", interactive=False, elem_id="video-out")
            video_report = gr.Textbox(label="Done", interactive=False, elem_id="video-report")

        # What a visitor's photos hold (their L at full size) is let go an hour after they leave.
        photos, seen = gr.State([], time_to_live=HOLD_SECONDS), gr.State({}, time_to_live=HOLD_SECONDS)
        drawings = gr.State(Drawings(), time_to_live=HOLD_SECONDS, delete_callback=Drawings.clear)
        selected = gr.State(0)
        drawn = [gallery, before_after, downloads, drawings]
        inputs, outputs = [files, saturation, gray, drawings, seen], [photos, *drawn, messages, selected, seen]
        files.upload(upload, inputs, outputs, api_name="colorize")
        files.change(upload, inputs, outputs, api_visibility="private")  # a file taken out of the box
        for control in (saturation, gray):
            control.change(redraw, [photos, saturation, gray, drawings, selected], drawn,
                           trigger_mode="always_last", api_visibility="private")
        gallery.select(select, [drawings], [before_after, selected], api_visibility="private")
        video_button.click(colorize_video, [video_in, saturation], [video_out, video_report], api_name="colorize_video",
                           concurrency_limit=1)
    return app
