// The colorization recipe of keras_colorizer.inference, in plain JavaScript.
//
// The network sees the photo's CIELAB lightness L resized to its own size S
// (an antialiased triangle filter, as tf.image.resize(antialias=True)); the a, b
// it predicts come back to the photo's size by bilinear interpolation with
// half-pixel centres (tf.image.resize without antialias) and join the photo's
// own full-resolution L. Colours outside sRGB are mixed with the gray of the
// same luminance until they fit, so lightness is kept (color.py,
// lightness_ab_to_rgb_in_gamut). Above 1, saturation spares skin-like hues
// (color.py, saturate). Constants are those of color.py: sRGB (D65).

const AB_SCALE = 110;
const L_SCALE = 50;
const DELTA = 6 / 29;
// color.py's SKIN_HUES (degrees), SKIN_HUE_RAMP and SKIN_CHROMA.
const SKIN_HUES = [25, 75];
const SKIN_HUE_RAMP = 10;
const SKIN_CHROMA = 25;
const RADIANS = Math.PI / 180;
const SKIN_MIDDLE = ((SKIN_HUES[0] + SKIN_HUES[1]) / 2) * RADIANS;
const [SKIN_COS, SKIN_SIN] = [Math.cos(SKIN_MIDDLE), Math.sin(SKIN_MIDDLE)];
const SKIN_EDGE = Math.cos(((SKIN_HUES[1] - SKIN_HUES[0]) / 2) * RADIANS);
const SKIN_OUTER = Math.cos(((SKIN_HUES[1] - SKIN_HUES[0]) / 2 + SKIN_HUE_RAMP) * RADIANS);
// Rows of linear RGB from XYZ with the D65 white folded in (color.py's _RGB_FROM_XYZ_WHITE).
const RGB_FROM_XYZ_WHITE = (() => {
  const m = [
    [0.412453, 0.35758, 0.180423],
    [0.212671, 0.71516, 0.072169],
    [0.019334, 0.119193, 0.950227],
  ];
  const white = [0.95047, 1.0, 1.08883];
  const inv = invert3(m);
  return inv.map((row) => row.map((v, j) => v * white[j]));
})();

function invert3(m) {
  const [a, b, c] = m[0];
  const [d, e, f] = m[1];
  const [g, h, i] = m[2];
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  return [
    [(e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det],
    [(f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det],
    [(d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det],
  ];
}

function srgbToLinear(v) {
  return v > 0.04045 ? Math.pow((v + 0.055) / 1.055, 2.4) : v / 12.92;
}

function linearToSrgb(v) {
  return v > 0.0031308 ? 1.055 * Math.pow(v, 1 / 2.4) - 0.055 : 12.92 * v;
}

function fInverse(f) {
  const cube = Math.max(f, DELTA);
  return cube * cube * cube - DELTA ** 3 + 3 * DELTA ** 2 * (Math.min(f, DELTA) - 4 / 29);
}

// Each 8-bit value's linear light, computed once.
const LINEAR_OF_BYTE = Float64Array.from({ length: 256 }, (_, v) => srgbToLinear(v / 255));

/** CIELAB L in [0, 100] of every pixel of RGBA bytes: Float32Array(width * height). */
export function lightnessOf(rgba, width, height) {
  const out = new Float32Array(width * height);
  for (let p = 0; p < out.length; p++) {
    const y =
      0.212671 * LINEAR_OF_BYTE[rgba[4 * p]] +
      0.71516 * LINEAR_OF_BYTE[rgba[4 * p + 1]] +
      0.072169 * LINEAR_OF_BYTE[rgba[4 * p + 2]];
    const f = y > 0.008856 ? Math.cbrt(y) : 7.787 * y + 16 / 116;
    out[p] = 116 * f - 16;
  }
  return out;
}

/** For each of `outSize` samples: [first input index, weights], tf.image.resize's triangle filter. */
function triangleWeights(inSize, outSize) {
  const invScale = inSize / outSize;
  const support = Math.max(invScale, 1); // antialiased when shrinking
  const spans = [];
  for (let x = 0; x < outSize; x++) {
    const centre = (x + 0.5) * invScale;
    const first = Math.min(Math.max(Math.ceil(centre - support - 0.5), 0), inSize - 1);
    const last = Math.min(Math.max(Math.floor(centre + support - 0.5), 0), inSize - 1);
    const weights = [];
    let total = 0;
    for (let j = first; j <= last; j++) {
      const w = Math.max(0, 1 - Math.abs((j + 0.5 - centre) / support));
      weights.push(w);
      total += w;
    }
    spans.push([first, weights.map((w) => w / total)]);
  }
  return spans;
}

/** A one-channel image (height x width) resized to size x size with the antialiased triangle filter. */
export function resizeAntialiased(values, width, height, size) {
  const columns = triangleWeights(width, size);
  const rows = triangleWeights(height, size);
  const across = new Float64Array(height * size);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < size; x++) {
      const [first, weights] = columns[x];
      let sum = 0;
      for (let k = 0; k < weights.length; k++) sum += weights[k] * values[y * width + first + k];
      across[y * size + x] = sum;
    }
  }
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    const [first, weights] = rows[y];
    for (let x = 0; x < size; x++) {
      let sum = 0;
      for (let k = 0; k < weights.length; k++) sum += weights[k] * across[(first + k) * size + x];
      out[y * size + x] = sum;
    }
  }
  return out;
}

/**
 * A one-channel square image (size x size) enlarged to outSize x outSize, bilinear with half-pixel
 * centres (tf.image.resize without antialias): the second half of a detail size's soften.
 */
export function resizeBilinear(values, size, outSize) {
  const taps = bilinearTaps(size, outSize);
  const out = new Float32Array(outSize * outSize);
  for (let y = 0; y < outSize; y++) {
    const [y0, y1, fy] = taps[y];
    for (let x = 0; x < outSize; x++) {
      const [x0, x1, fx] = taps[x];
      const top = values[y0 * size + x0] * (1 - fx) + values[y0 * size + x1] * fx;
      const bottom = values[y1 * size + x0] * (1 - fx) + values[y1 * size + x1] * fx;
      out[y * outSize + x] = top * (1 - fy) + bottom * fy;
    }
  }
  return out;
}

/**
 * The photo's L as the network sees it (size x size): shrunk with the antialiased filter, through
 * detailSize x detailSize first where the model has a detail size (then enlarged bilinearly).
 */
export function networkSizedLightness(lightness, width, height, size, detailSize) {
  if (!detailSize || detailSize >= size) return resizeAntialiased(lightness, width, height, size);
  return resizeBilinear(resizeAntialiased(lightness, width, height, detailSize), detailSize, size);
}

/** The network's input: L clipped to [0, 100] and scaled to [-1, 1]. */
export function networkLightness(lightnessSmall) {
  return lightnessSmall.map((l) => Math.min(Math.max(l, 0), 100) / L_SCALE - 1);
}

/** Bilinear sample positions, half-pixel centres: for each output index [lower, upper, fraction]. */
function bilinearTaps(inSize, outSize) {
  const scale = inSize / outSize;
  const taps = [];
  for (let x = 0; x < outSize; x++) {
    const position = (x + 0.5) * scale - 0.5;
    const floor = Math.floor(position);
    taps.push([Math.max(floor, 0), Math.min(Math.ceil(position), inSize - 1), position - floor]);
  }
  return taps;
}

/**
 * What color.py's saturate multiplies a, b (CIELAB units) by: `saturation`, except that above 1
 * a hue in the skin band gains chroma only up to SKIN_CHROMA.
 */
export function saturationGain(a, b, saturation) {
  if (saturation <= 1) return saturation;
  const chroma = Math.sqrt(a * a + b * b + 1e-8);
  const towardMiddle = (a * SKIN_COS + b * SKIN_SIN) / chroma; // cos of the hue's distance from the band's middle
  const inBand = Math.min(Math.max((towardMiddle - SKIN_OUTER) / (SKIN_EDGE - SKIN_OUTER), 0), 1);
  const skinGain = Math.min(Math.max(SKIN_CHROMA / chroma, 1), saturation);
  return saturation + inBand * (skinGain - saturation);
}

/**
 * RGBA bytes of the photo in colour: its own L with the network's ab (size x size x 2,
 * network range) resized to width x height and scaled by `saturation` (`saturationGain`).
 */
export function renderColour(lightness, width, height, abSmall, size, saturation, alpha) {
  const out = new Uint8ClampedArray(width * height * 4);
  const xs = bilinearTaps(size, width);
  const ys = bilinearTaps(size, height);
  const sample = (i00, i01, i10, i11, fx, fy) =>
    ((abSmall[i00] * (1 - fx) + abSmall[i01] * fx) * (1 - fy) + (abSmall[i10] * (1 - fx) + abSmall[i11] * fx) * fy) * AB_SCALE;
  for (let y = 0; y < height; y++) {
    const [y0, y1, fy] = ys[y];
    for (let x = 0; x < width; x++) {
      const [x0, x1, fx] = xs[x];
      const i00 = (y0 * size + x0) * 2, i01 = (y0 * size + x1) * 2, i10 = (y1 * size + x0) * 2, i11 = (y1 * size + x1) * 2;
      const a = sample(i00, i01, i10, i11, fx, fy);
      const b = sample(i00 + 1, i01 + 1, i10 + 1, i11 + 1, fx, fy);
      const gain = saturationGain(a, b, saturation);
      const p = y * width + x;
      labToRgbInGamut(lightness[p], a * gain, b * gain, out, 4 * p);
      out[4 * p + 3] = alpha ? alpha[4 * p + 3] : 255;
    }
  }
  return out;
}

/** One CIELAB colour -> sRGB bytes at out[offset..offset+2], desaturated at its own luminance to fit sRGB. */
function labToRgbInGamut(l, a, b, out, offset) {
  const fy = (l + 16) / 116;
  const x = fInverse(a / 500 + fy);
  const luminanceRaw = fInverse(fy);
  const z = fInverse(Math.max(fy - b / 200, 0));
  const [r, g, b2] = RGB_FROM_XYZ_WHITE;
  const luminance = Math.min(Math.max(luminanceRaw, 0), 1);
  const red = r[0] * x + r[1] * luminanceRaw + r[2] * z - luminance;
  const green = g[0] * x + g[1] * luminanceRaw + g[2] * z - luminance;
  const blue = b2[0] * x + b2[1] * luminanceRaw + b2[2] * z - luminance;
  const above = Math.max(red, green, blue);
  const below = -Math.min(red, green, blue);
  const roomAbove = 1 - luminance;
  const roomBelow = luminance;
  const tiny = 1e-12;
  const weight = Math.min(
    roomAbove / Math.max(above, roomAbove, tiny),
    roomBelow / Math.max(below, roomBelow, tiny),
  );
  out[offset] = toByte(luminance + weight * red);
  out[offset + 1] = toByte(luminance + weight * green);
  out[offset + 2] = toByte(luminance + weight * blue);
}

function toByte(linear) {
  return Math.round(Math.min(Math.max(linearToSrgb(linear), 0), 1) * 255);
}
