"""The demo: a local web page to try a colorizer (`keras-colorizer demo`), and a static page that runs the phone model in the browser.

`photos` colorizes uploaded files (the network once per photo, redrawn at any
saturation); `app` lays out the Gradio page; `server` serves it on
127.0.0.1 beside the LiteRT.js page of `web/`. Gradio is an optional extra:
`pip install "keras-colorizer[demo]"`.
"""
