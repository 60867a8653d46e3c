// The page: load LiteRT.js and the model, colorize a chosen photo, redraw at another saturation.
// The model is the file named by ?model=URL (the demo server's model.tflite by default) or one chosen here.

import { loadAndCompile, loadLiteRt, Tensor } from "@litertjs/core";
import { lightnessOf, networkLightness, networkSizedLightness, renderColour } from "./recipe.js";

const SIGNATURE = "predict_ab"; // network-range L (1, S, S, 1) float32 -> ab (1, S, S, 2) float32
const $ = (id) => document.getElementById(id);
const status = (text, isError = false) => {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "";
};

let model = null;
let size = 0;
let detailSize = null; // the model's detail size (the JSON the export writes beside it), or null
let photo = null; // {width, height, rgba, lightness, networkInput, abSmall, hasAlpha, name, networkMs}
// The last photo's arrays, for the browser's console and the tests (they compare the network's input
// and output with Python's LiteRT).
window.colorizerPage = { photo: null };

// `settings`: the "generator" part of the JSON the export writes beside a file (its detail size and
// saturation), or null for a file chosen here: then none and 1, as Python's LiteRT loader without it.
async function useModel(source, label, settings = null) {
  model?.delete();
  model = null;
  document.body.dataset.ready = "";
  const compiled = await loadAndCompile(source, { accelerator: "wasm" });
  const runner = compiled.signatures[SIGNATURE];
  if (!runner) {
    compiled.delete();
    throw new Error(`${label}: no ${SIGNATURE} signature; expected a .tflite file written by keras-colorizer export`);
  }
  const [input] = runner.getInputDetails();
  if (input.dtype !== "float32") {
    compiled.delete();
    throw new Error(`${label}: its ${SIGNATURE} input is ${input.dtype}; this page needs float32 (write it with keras-colorizer export)`);
  }
  model = compiled;
  size = input.shape[1];
  const detail = settings?.detail_size ?? null;
  detailSize = detail && detail < size ? detail : null;
  $("saturation").value = settings?.saturation ?? 1;
  $("saturation-value").textContent = Number($("saturation").value).toFixed(2);
  document.body.dataset.ready = "1";
  const soften = detailSize ? `, the photo shrunk to ${detailSize} x ${detailSize} first` : "";
  status(`Model ready: ${label} (the network sees ${size} x ${size}${soften}). Choose a photo.`);
}

async function colorize(file) {
  const started = performance.now();
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
  } catch {
    throw new Error(`${file.name}: not an image this browser can decode`);
  }
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext("2d", { colorSpace: "srgb" });
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  const rgba = context.getImageData(0, 0, width, height).data;
  const lightness = lightnessOf(rgba, width, height);
  const networkInput = networkLightness(networkSizedLightness(lightness, width, height, size, detailSize));
  const input = new Tensor(networkInput, [1, size, size, 1]);
  const networkStarted = performance.now();
  const outputs = await model.run(SIGNATURE, { l: input });
  const networkMs = performance.now() - networkStarted;
  input.delete();
  const abTensor = Object.values(outputs)[0];
  const abSmall = Float32Array.from(abTensor.toTypedArray());
  Object.values(outputs).forEach((t) => t.delete());
  let hasAlpha = false;
  for (let p = 3; p < rgba.length && !hasAlpha; p += 4) hasAlpha = rgba[p] !== 255;
  photo = { width, height, rgba, lightness, networkInput, abSmall, hasAlpha, name: file.name, networkMs };
  window.colorizerPage.photo = photo;
  draw();
  const totalMs = performance.now() - started;
  document.body.dataset.networkMs = networkMs.toFixed(1);
  document.body.dataset.totalMs = totalMs.toFixed(1);
  status(`${file.name}: ${width} x ${height} in ${totalMs.toFixed(0)} ms (network ${networkMs.toFixed(0)} ms).`);
}

function draw() {
  const { width, height, rgba, lightness, abSmall, hasAlpha } = photo;
  const saturation = Number($("saturation").value);
  const colour = renderColour(lightness, width, height, abSmall, size, saturation, hasAlpha ? rgba : null);
  const gray = renderColour(lightness, width, height, abSmall, size, 0, hasAlpha ? rgba : null);
  for (const [id, pixels] of [["after", colour], ["before", gray]]) {
    const canvas = $(id);
    canvas.width = width;
    canvas.height = height;
    canvas.getContext("2d").putImageData(new ImageData(pixels, width, height), 0, 0);
  }
  $("after").toBlob((blob) => {
    const link = $("download");
    if (link.href) URL.revokeObjectURL(link.href);
    link.href = URL.createObjectURL(blob);
    link.download = photo.name.replace(/\.[^.]*$/, "") + "_colour.png";
    link.hidden = false;
  }, "image/png");
  document.body.dataset.done = String(Number(document.body.dataset.done || 0) + 1);
}

async function run(task) {
  try {
    await task();
  } catch (error) {
    status(String(error.message || error).split("\n")[0], true);
    document.body.dataset.error = String(Number(document.body.dataset.error || 0) + 1);
  }
}

$("photo").addEventListener("change", (event) => {
  const [file] = event.target.files;
  if (file && model) run(() => colorize(file));
});
$("model").addEventListener("change", (event) => {
  const [file] = event.target.files;
  if (file) run(async () => useModel(new Uint8Array(await file.arrayBuffer()), file.name));
});
$("saturation").addEventListener("input", () => {
  $("saturation-value").textContent = Number($("saturation").value).toFixed(2);
  if (photo) draw();
});

run(async () => {
  const started = performance.now();
  await loadLiteRt(new URL("./vendor/litertjs/wasm/", import.meta.url).href);
  const source = new URLSearchParams(location.search).get("model") || "model.tflite";
  const response = await fetch(source);
  if (!response.ok) {
    status(`No model at ${source} (${response.status}): choose a .tflite file written by keras-colorizer export.`);
    return;
  }
  // The export's JSON beside the file names the model's detail size and saturation.
  const beside = source.endsWith(".tflite") ? source.replace(/\.tflite$/, ".json") : null;
  const written = beside && (await fetch(beside).then((r) => (r.ok ? r.json() : null)).catch(() => null));
  await useModel(new Uint8Array(await response.arrayBuffer()), source.split("/").pop(), written?.generator ?? null);
  document.body.dataset.readyMs = (performance.now() - started).toFixed(0);
});
