"""Serve the demo on this computer: the Gradio page at /, the in-browser LiteRT.js page at /litert/."""

import os
import threading
import time

from keras_colorizer.demo.app import MAX_FILE_SIZE

WEB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "web")
LITERT_PATH = "/litert/"


def web_app(gradio_app, tflite=None):
    """A FastAPI app: `gradio_app` at /, the static page of `web/` at /litert/ with `tflite` as its model.tflite
    (and the JSON beside it, if any, as model.json)."""
    import gradio as gr
    from fastapi import FastAPI
    from fastapi.responses import FileResponse, RedirectResponse
    from fastapi.staticfiles import StaticFiles

    app = FastAPI()

    @app.get(LITERT_PATH + "model.tflite", include_in_schema=False)
    def model_file():
        if tflite is None:
            from fastapi import HTTPException

            raise HTTPException(404, "this demo was started without a .tflite file (keras-colorizer demo --tflite FILE)")
        return FileResponse(tflite, media_type="application/octet-stream")

    @app.get(LITERT_PATH + "model.json", include_in_schema=False)
    def model_settings():  # the JSON the export writes beside the file: its detail size, its signatures
        beside = None if tflite is None else os.path.splitext(tflite)[0] + ".json"
        if beside is None or not os.path.isfile(beside):
            from fastapi import HTTPException

            raise HTTPException(404, "no JSON beside this demo's .tflite file")
        return FileResponse(beside, media_type="application/json")

    @app.get(LITERT_PATH.rstrip("/"), include_in_schema=False)
    def litert_index():
        return RedirectResponse(LITERT_PATH)

    app.mount(LITERT_PATH, StaticFiles(directory=WEB, html=True), name="litert")
    return gr.mount_gradio_app(app, gradio_app, path="/", max_file_size=MAX_FILE_SIZE)


def serve(app, host, port, on_ready=print):
    """Run `app` until Ctrl-C; `on_ready(url)` once it answers (port 0 picks a free one)."""
    import uvicorn

    # Open pages keep connections (event streams) alive: give them 5 s on Ctrl-C, then stop anyway.
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=5))

    def announce():
        while not server.started and not server.should_exit:
            time.sleep(0.05)
        if server.started:
            on_ready(f"http://{host}:{server.servers[0].sockets[0].getsockname()[1]}/")

    threading.Thread(target=announce, daemon=True).start()
    server.run()
