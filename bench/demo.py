"""The demo page, timed: start-up, a 1-megapixel photo in the app, the phone model in the browser, memory over 50 photos.

usage: python bench/demo.py [--photos DIR] [--count 50]

Measures, on this machine, with the ready-made model:
- the time from `keras-colorizer demo` to its page answering, and to the
  page shown in headless Chromium;
- the time per 1-megapixel photo through the app's API (gradio_client:
  upload, network, PNG written, answer), each photo a different one;
- the app's resident memory after 5 photos and after --count, one visitor
  dropping them one after another, and its peak;
- the in-browser page (LiteRT.js, WebAssembly, int8 file) on the same
  1-megapixel photos against Python's LiteRT on the same file and CPU.
Photos are --photos' (default: the shared Kodak24 dev set), resized to
1224 x 816 (1.0 MP). Prints one JSON line.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import numpy as np
from PIL import Image

from common import REPO, SHARED, report

SIDE = (1224, 816)  # 0.999 megapixels, Kodak's 3:2


def one_megapixel_photos(folder, count, out):
    sources = sorted(p for p in os.listdir(folder) if p.lower().endswith((".png", ".jpg", ".jpeg")))
    paths = []
    for i in range(count):  # each file once per name: the app remembers what it has seen by path
        path = os.path.join(out, f"photo_{i:03d}.png")
        Image.open(os.path.join(folder, sources[i % len(sources)])).convert("RGB").resize(SIDE).save(path)
        paths.append(path)
    return paths


def start_demo():
    started = time.perf_counter()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "keras_colorizer.cli.main", "demo", "--port", "0"], cwd=REPO,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in process.stdout:
        found = re.search(r"on (http://127\.0\.0\.1:\d+/)", line)
        if found:
            break
    else:
        raise SystemExit("the demo did not start")
    threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()
    url = found.group(1)
    while True:
        try:
            urllib.request.urlopen(url, timeout=5).read()
            break
        except OSError:
            time.sleep(0.05)
    return process, url, time.perf_counter() - started


class PeakMemory:
    """Resident memory of a process, polled every 50 ms."""

    def __init__(self, pid):
        import psutil

        self.process, self.peak, self.stop = psutil.Process(pid), 0, False
        threading.Thread(target=self._poll, daemon=True).start()

    def now(self):
        return self.process.memory_info().rss

    def _poll(self):
        while not self.stop:
            self.peak = max(self.peak, self.now())
            time.sleep(0.05)


def litert_in_browser(url, photos):
    """Per-photo times (total, network) of the in-browser page, ms, after one warm-up photo; and its ready time."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(url + "litert/")
        page.wait_for_selector("body[data-ready='1']", timeout=120_000)
        ready_ms = float(page.evaluate("document.body.dataset.readyMs"))
        times = []
        for i, path in enumerate(photos):
            page.set_input_files("#photo", path)
            page.wait_for_selector(f"body[data-done='{i + 1}']", timeout=120_000)
            times.append((float(page.evaluate("document.body.dataset.totalMs")),
                          float(page.evaluate("document.body.dataset.networkMs"))))
        browser.close()
    return ready_ms, times[1:]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", default=str(SHARED / "data" / "dev" / "kodak24"))
    parser.add_argument("--count", type=int, default=50)
    args = parser.parse_args()
    from gradio_client import Client, handle_file

    with tempfile.TemporaryDirectory() as tmp:
        photos = one_megapixel_photos(args.photos, args.count, tmp)
        process, url, ready_s = start_demo()
        try:
            from playwright.sync_api import sync_playwright

            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
                page = browser.new_page()
                tic = time.perf_counter()
                page.goto(url)
                page.wait_for_selector("#messages textarea")
                shown_s = time.perf_counter() - tic
                browser.close()
            memory = PeakMemory(process.pid)
            client = Client(url, verbose=False, download_files=False)
            seconds, after_5 = [], None
            for i, path in enumerate(photos):
                tic = time.perf_counter()
                client.predict([handle_file(path)], 1.0, False, api_name="/colorize")
                seconds.append(time.perf_counter() - tic)
                if i == 4:
                    after_5 = memory.now()
            after_all = memory.now()
            memory.stop = True
            ready_ms, browser_times = litert_in_browser(url, photos[:6])
        finally:
            process.terminate()
            process.wait(timeout=60)

        from keras_colorizer.inference import Colorizer
        from keras_colorizer.presets import DEFAULT_PRESET, preset_path

        python = Colorizer.from_tflite(os.path.join(preset_path(DEFAULT_PRESET), "colorizer_int8.tflite"))
        python.colorize_file(photos[0])
        python_ms, network_ms = [], []
        for path in photos[1:6]:
            image = np.array(Image.open(path))
            tic = time.perf_counter()
            prediction = python.predict(image)
            network_ms.append(1000 * (time.perf_counter() - tic))  # L, its resize and the network
            python.render(prediction)
            python_ms.append(1000 * (time.perf_counter() - tic))

    mb = 1024 * 1024
    report({
        "benchmark": "demo",
        "command_to_page_answering_s": round(ready_s, 1),
        "page_shown_in_chromium_s": round(shown_s, 2),
        "app_1mp_photo_s_median": round(float(np.median(seconds[1:])), 3),
        "app_1mp_photo_s_first": round(seconds[0], 3),
        "app_rss_mb_after_5": round(after_5 / mb),
        f"app_rss_mb_after_{len(photos)}": round(after_all / mb),
        "app_rss_growth_after_5_percent": round(100 * (after_all / after_5 - 1), 1),
        "app_rss_peak_mb": round(memory.peak / mb),
        "litertjs_page_ready_ms": ready_ms,
        "litertjs_1mp_ms_median": round(float(np.median([t for t, _ in browser_times])), 1),
        "litertjs_network_ms_median": round(float(np.median([n for _, n in browser_times])), 1),
        "python_litert_1mp_ms_median": round(float(np.median(python_ms)), 1),
        "python_litert_to_network_output_ms_median": round(float(np.median(network_ms)), 1),
    })


if __name__ == "__main__":
    main()
