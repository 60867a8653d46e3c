"""The demo in a real browser: `keras-colorizer demo` served here, driven by headless Chromium through Playwright.

Chromium comes from the system (`apt-get install chromium`, as `.ci/run`
does); Playwright never downloads a browser. The pages' pixels are compared
with the Python colorizer on the same photo and the same model.
"""

import io
import os
import re
import shutil
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest
from PIL import Image

from tests.conftest import REPO

PHOTO = "kodim03.png"  # 768 x 512, a real photo
SCREENSHOTS = os.environ.get("KERAS_COLORIZER_SCREENSHOTS")  # keep the screenshots there (the README's picture)


def chromium():
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("no chromium on PATH: apt-get install -y chromium (what .ci/run does)")
    return path


@pytest.fixture(scope="module")
def photo(dev_photos):
    return str(dev_photos / PHOTO)


@pytest.fixture(scope="module")
def dev_photos():
    folder = REPO.parent / "shared" / "data" / "dev" / "kodak24"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent (the shared dev photos; CI has them)")
    return folder


@pytest.fixture(scope="module")
def server():
    """`keras-colorizer demo` on a free port with the ready-made model: its URL."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "keras_colorizer.cli.main", "demo", "--port", "0"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines = []
    for line in process.stdout:
        lines.append(line)
        found = re.search(r"on (http://127\.0\.0\.1:\d+/)", line)
        if found:
            break
    else:
        pytest.fail("the demo stopped before serving:\n" + "".join(lines[-20:]))
    drain = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)  # a full pipe would block it
    drain.start()
    yield found.group(1)
    process.send_signal(signal.SIGINT)  # Ctrl-C
    try:
        assert process.wait(timeout=30) == 0, "".join(lines[-20:])
    finally:
        process.kill()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    yield page
    page.close()


@pytest.fixture(scope="module")
def colorizer():
    from keras_colorizer.inference import Colorizer
    from keras_colorizer.presets import DEFAULT_PRESET

    return Colorizer.from_preset(DEFAULT_PRESET)


def download(page, href):
    """The pixels of a file the page links to, as the user's browser would fetch it."""
    response = page.request.get(href)
    assert response.ok, href
    return np.array(Image.open(io.BytesIO(response.body())))


def links(page):
    return [a.get_attribute("href") for a in page.locator("#downloads a[download]").all()]


def open_page(page, server):
    page.goto(server)
    page.wait_for_selector("#messages textarea")


def upload(page, paths):
    """Drop files on the photo box; wait until the page has answered (its downloads or messages changed)."""
    before = page.evaluate(STATE)
    page.locator("#photos input[type=file]").set_input_files(paths)
    page.wait_for_function(f"before => ({STATE}) !== before", arg=before, timeout=120_000)


STATE = ("[...document.querySelectorAll('#downloads a[download]')].map(a => a.href).join()"
         " + '|' + document.querySelector('#messages textarea').value")


def messages(page):
    return page.locator("#messages textarea").input_value()


def test_page_colours_a_photo_exactly_as_the_colorizer_does(server, page, photo, colorizer, tmp_path):
    open_page(page, server)
    upload(page, [photo])
    [href] = links(page)
    shown = download(page, href)
    expected = colorizer.colorize_file(photo)
    assert shown.shape == expected.shape == (512, 768, 3)  # the photo's own full resolution
    assert np.abs(shown.astype(int) - expected).max() <= 1
    assert shown.std(axis=-1).mean() > 2  # in colour, not gray
    page.screenshot(path=str(tmp_path / "demo.png"))
    if SCREENSHOTS:
        shutil.copy(tmp_path / "demo.png", os.path.join(SCREENSHOTS, "demo_page.png"))

    # Saturation 0 (typed into the slider's box) redraws the photo gray, the network not run again.
    page.locator("#saturation input[type=number]").fill("0")
    page.locator("#saturation input[type=number]").press("Enter")
    page.wait_for_function("h => document.querySelector('#downloads a[download]')?.href !== h", arg=href)
    gray = download(page, links(page)[0])
    assert np.abs(gray.astype(int) - gray[..., :1]).max() <= 1
    assert np.abs(gray.astype(int) - colorizer.render(colorizer.predict(np.array(Image.open(photo))), 0.0)).max() <= 1


def test_bad_files_get_one_line_each_and_the_page_keeps_working(server, page, photo, tmp_path):
    not_an_image = tmp_path / "notes.jpg"
    not_an_image.write_text("these are not pixels")
    truncated = tmp_path / "truncated.jpg"
    Image.open(photo).convert("RGB").save(truncated, quality=90)
    truncated.write_bytes(truncated.read_bytes()[:2000])
    open_page(page, server)
    upload(page, [str(not_an_image), str(truncated)])
    lines = messages(page).splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("notes.jpg: not a photo this page can read")
    assert lines[1].startswith("truncated.jpg: not a photo this page can read")

    huge = tmp_path / "huge.png"  # a 40,000 x 40,000 header over a few bytes of data
    huge.write_bytes(png_header(40_000, 40_000))
    upload(page, [str(huge), photo])  # added to the box beside the two before
    *_, last = messages(page).splitlines()
    assert re.fullmatch(r"huge\.png: not a photo this page can read \(too large to decode: 1,600,000,000 pixels.*\)", last)
    assert len(links(page)) == 1  # the good photo next to it was colorized


def png_header(width, height):
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_api_colours_photos_and_a_video(server, photo, colorizer, tmp_path):
    from gradio_client import Client, handle_file

    client = Client(server, verbose=False, download_files=str(tmp_path))
    gallery, _, files, message = client.predict([handle_file(photo)], colorizer.saturation, False, api_name="/colorize")
    assert message == ""
    [path] = files
    assert np.abs(np.array(Image.open(path)).astype(int) - colorizer.colorize_file(photo)).max() <= 1

    from tools.clips import gray_frame, read_frames, write_video

    clip = tmp_path / "clip.mp4"
    gray = gray_frame(np.array(Image.open(photo).convert("RGB").resize((96, 64))))
    write_video(str(clip), [gray] * 12, fps=12)
    video, report = client.predict(handle_file(str(clip)), 1.0, api_name="/colorize_video")
    assert report.startswith("12 frames")
    frames = read_frames(video["video"] if isinstance(video, dict) else video)
    assert len(frames) == 12 and frames[0].shape == (64, 96, 3)
    assert frames[0].std(axis=-1).mean() > 2  # in colour


def litert_result(page):
    """The in-browser page's colour photo (its canvas) and the network's input and output it used."""
    page.wait_for_selector("body[data-done='1'], body[data-error]", timeout=120_000)
    assert page.get_attribute("body", "data-error") is None, page.inner_text("#status")
    data_url = page.evaluate("document.getElementById('after').toDataURL('image/png')")
    import base64

    shown = np.array(Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1]))).convert("RGB"))
    network_input = np.array(page.evaluate("Array.from(window.colorizerPage.photo.networkInput)"), np.float32)
    ab = np.array(page.evaluate("Array.from(window.colorizerPage.photo.abSmall)"), np.float32)
    return shown, network_input, ab


def test_litert_page_matches_python_litert(server, page, photo, tmp_path, trained_run):
    """The phone model in the page (LiteRT.js, WebAssembly) against Python's LiteRT on the same file and photo.

    A float32 file, and an int8 file with no float layer (`int8_web`), agree within one 8-bit level
    everywhere, the latter's network to the bit. The phone's int8 file
    (the shipped one) runs the same recipe around the network (within one
    level, given the same a, b), but its network does not always give the
    same a, b for the same input: its first layers compute in float, in
    another order in WebAssembly than in x86 XNNPACK, and the quantizer
    rounds some of those last-bit differences to the neighbouring 8-bit
    step. Measured on Kodak photos at saturation 1: kodim05 bit-identical,
    kodim01 0.75% of pixels more than one level apart (at most 4), this one
    14% (mean 0.67 of a level, 99th percentile 4, at most 7); drawn at the
    preset's 1.75, whose gain scales those differences too, this one's mean
    is 0.94 and its 99th percentile 8.
    """
    from keras import ops

    from keras_colorizer.data.images import read_image
    from keras_colorizer.inference import Colorizer, Prediction, predict_small_ab
    from keras_colorizer.presets import DEFAULT_PRESET, preset_path

    page.on("pageerror", lambda error: print("page error:", error))
    page.goto(server + "litert/")
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)
    page.set_input_files("#photo", photo)
    shown, network_input, ab = litert_result(page)
    python = Colorizer.from_tflite(os.path.join(preset_path(DEFAULT_PRESET), "colorizer_int8.tflite"))
    expected = python.colorize_file(photo)
    difference = np.abs(shown.astype(int) - expected)
    assert shown.shape == expected.shape
    assert python.saturation == 1.75  # from the JSON beside the file, as the page's slider (below)
    assert difference.mean() < 1.0 * python.saturation and np.percentile(difference, 99) <= 5 * python.saturation
    # The recipe around the network (L, its antialiased resize, a, b back at full size, the gamut) is Python's:
    size = python.image_size
    assert python.detail_size == Colorizer.from_preset(DEFAULT_PRESET).detail_size  # from the JSON beside the file
    assert size == Colorizer.from_preset(DEFAULT_PRESET).image_size  # the phone file's network runs at the preset's side
    lightness = python.predict(read_image(photo)).lightness
    python_input = predict_small_ab(lightness, lambda l_norm: l_norm, size, detail_size=python.detail_size)
    assert np.abs(network_input.reshape(1, size, size, 1) - ops.convert_to_numpy(python_input)).max() < 1e-5
    drawn = python.render(Prediction(lightness, ab.reshape(1, size, size, 2)))
    assert np.abs(shown.astype(int) - drawn).max() <= 1
    assert float(page.evaluate("document.body.dataset.totalMs")) > 0
    assert re.search(r"768 x 512 in \d+ ms \(network \d+ ms\)", page.inner_text("#status"))

    # A model with a detail size (read from the export's JSON beside its file): the page's L goes through it
    # as Python's does, an antialiased shrink to it and a bilinear enlargement to the network's side.
    values = np.random.default_rng(0).uniform(0.0, 100.0, (90, 120)).astype(np.float32)
    softened = page.evaluate("""async ([values, width, height]) => {
        const recipe = await import(new URL("recipe.js", location.href).href);
        return Array.from(recipe.networkSizedLightness(Float32Array.from(values), width, height, 64, 40));
    }""", [values.ravel().tolist(), 120, 90])
    expected = ops.image.resize(ops.image.resize(values[None, ..., None], (40, 40), antialias=True), (64, 64))
    assert np.abs(np.reshape(softened, (1, 64, 64, 1)) - ops.convert_to_numpy(expected)).max() < 1e-3

    # The page's saturation is color.saturate's (skin spared above 1), and its slider starts at the model's own
    # (the preset's, from the JSON beside its file).
    from keras_colorizer import color

    ab = np.random.default_rng(1).uniform(-60.0, 60.0, (400, 2)).astype(np.float32)
    for saturation in (0.5, 1.75, 2.0):
        gains = page.evaluate("""async ([ab, saturation]) => {
            const recipe = await import(new URL("recipe.js", location.href).href);
            return ab.map(([a, b]) => recipe.saturationGain(a, b, saturation));
        }""", [ab.tolist(), saturation])
        np.testing.assert_allclose(np.array(gains)[:, None] * ab, ops.convert_to_numpy(color.saturate(ab, saturation)),
                                   atol=1e-3)
    assert float(page.locator("#saturation").input_value()) == python.saturation > 1

    # Files chosen on the page, of a tiny trained model exported here: float32, and int8 with no float layer
    # (`--variants int8_web`), whose network gives Python's output to the bit.
    from keras_colorizer.cli.export import main as export

    assert export([trained_run.run_dir, "--out", str(tmp_path / "export"), "--formats", "tflite",
                   "--variants", "float32,int8_web", "--size", "64"]) == 0
    for variant in ("float32", "int8_web"):
        tflite = tmp_path / "export" / "tflite" / f"colorizer_{variant}.tflite"
        page.set_input_files("#model", str(tflite))
        page.wait_for_selector("body[data-ready='1']", timeout=60_000)
        page.evaluate("document.body.dataset.done = '0'")
        again = tmp_path / f"{variant}.png"  # another file: choosing the same one again is no change to the page
        shutil.copy(photo, again)
        page.set_input_files("#photo", str(again))
        shown, network_input, ab = litert_result(page)
        python = Colorizer.from_tflite(str(tflite))
        assert np.abs(shown.astype(int) - python.colorize_file(photo)).max() <= 1, variant
        if variant == "int8_web":
            size = python.image_size
            same_input = python.predict_ab(network_input.reshape(1, size, size, 1))
            np.testing.assert_array_equal(ab.reshape(1, size, size, 2), ops.convert_to_numpy(same_input))


def test_demo_refuses_a_model_that_is_not_there_in_one_line(tmp_path):
    from tests.conftest import error_lines, run_cli

    result = run_cli("-m", "keras_colorizer.cli.main", "demo", "--model", str(tmp_path / "no_such_run"), timeout=120)
    assert result.returncode == 2
    assert error_lines(result.stderr) == [f"error: {tmp_path / 'no_such_run'}: no such run or checkpoint"]
