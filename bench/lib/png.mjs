// A tiny rasterizer and PNG writer (zlib from Node, no native or downloaded parts) with the two charts the report
// needs: grouped bars and percentile curves. Text uses a built-in 5x7 bitmap font (upper-case ASCII).
import { deflateSync } from 'node:zlib';

// ---- 5x7 font: 7 rows of 5 bits per glyph (bit 4 = leftmost column) -----------------------------------------
const F = {
  ' ': [0, 0, 0, 0, 0, 0, 0],
  0: [0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e], 1: [0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e],
  2: [0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f], 3: [0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e],
  4: [0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02], 5: [0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e],
  6: [0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e], 7: [0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
  8: [0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e], 9: [0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c],
  A: [0x0e, 0x11, 0x11, 0x11, 0x1f, 0x11, 0x11], B: [0x1e, 0x11, 0x11, 0x1e, 0x11, 0x11, 0x1e],
  C: [0x0e, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0e], D: [0x1c, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1c],
  E: [0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x1f], F: [0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x10],
  G: [0x0e, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0f], H: [0x11, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11],
  I: [0x0e, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e], J: [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0c],
  K: [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11], L: [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1f],
  M: [0x11, 0x1b, 0x15, 0x15, 0x11, 0x11, 0x11], N: [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
  O: [0x0e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e], P: [0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10, 0x10],
  Q: [0x0e, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0d], R: [0x1e, 0x11, 0x11, 0x1e, 0x14, 0x12, 0x11],
  S: [0x0f, 0x10, 0x10, 0x0e, 0x01, 0x01, 0x1e], T: [0x1f, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
  U: [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e], V: [0x11, 0x11, 0x11, 0x11, 0x11, 0x0a, 0x04],
  W: [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0a], X: [0x11, 0x11, 0x0a, 0x04, 0x0a, 0x11, 0x11],
  Y: [0x11, 0x11, 0x11, 0x0a, 0x04, 0x04, 0x04], Z: [0x1f, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1f],
  '.': [0, 0, 0, 0, 0, 0x0c, 0x0c], ',': [0, 0, 0, 0, 0x0c, 0x04, 0x08], ':': [0, 0x0c, 0x0c, 0, 0x0c, 0x0c, 0],
  ';': [0, 0x0c, 0x0c, 0, 0x0c, 0x04, 0x08], '-': [0, 0, 0, 0x1f, 0, 0, 0], '+': [0, 0x04, 0x04, 0x1f, 0x04, 0x04, 0],
  '/': [0, 0x01, 0x02, 0x04, 0x08, 0x10, 0], '%': [0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03],
  '(': [0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02], ')': [0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08],
  '=': [0, 0, 0x1f, 0, 0x1f, 0, 0], _: [0, 0, 0, 0, 0, 0, 0x1f], '<': [0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02],
  '>': [0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08], '×': [0, 0x11, 0x0a, 0x04, 0x0a, 0x11, 0],
  'µ': [0, 0x11, 0x11, 0x11, 0x13, 0x1d, 0x10], '÷': [0, 0x04, 0, 0x1f, 0, 0x04, 0],
  '#': [0x0a, 0x0a, 0x1f, 0x0a, 0x1f, 0x0a, 0x0a], '?': [0x0e, 0x11, 0x01, 0x02, 0x04, 0, 0x04],
  '[': [0x0e, 0x08, 0x08, 0x08, 0x08, 0x08, 0x0e], ']': [0x0e, 0x02, 0x02, 0x02, 0x02, 0x02, 0x0e],
  '*': [0, 0x04, 0x15, 0x0e, 0x15, 0x04, 0], "'": [0x04, 0x04, 0x08, 0, 0, 0, 0], '"': [0x0a, 0x0a, 0, 0, 0, 0, 0],
  '|': [0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04], '!': [0x04, 0x04, 0x04, 0x04, 0x04, 0, 0x04],
  '&': [0x0c, 0x12, 0x14, 0x08, 0x15, 0x12, 0x0d], '~': [0, 0, 0x08, 0x15, 0x02, 0, 0],
};

export class Canvas {
  constructor(w, h, bg = [255, 255, 255]) {
    this.w = w;
    this.h = h;
    this.px = Buffer.alloc(w * h * 3);
    this.fillRect(0, 0, w, h, bg);
  }

  set(x, y, c) {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.w || y >= this.h) return;
    const i = (y * this.w + x) * 3;
    this.px[i] = c[0];
    this.px[i + 1] = c[1];
    this.px[i + 2] = c[2];
  }

  fillRect(x, y, w, h, c) {
    const x0 = Math.max(0, Math.round(x));
    const y0 = Math.max(0, Math.round(y));
    const x1 = Math.min(this.w, Math.round(x + w));
    const y1 = Math.min(this.h, Math.round(y + h));
    for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) this.set(xx, yy, c);
  }

  /** A line `width` pixels thick (square brush), optionally dashed. */
  line(x0, y0, x1, y1, c, width = 1, dash = 0) {
    const len = Math.hypot(x1 - x0, y1 - y0);
    const steps = Math.max(1, Math.ceil(len * 2));
    const r = (width - 1) / 2;
    for (let i = 0; i <= steps; i++) {
      const t = i / steps;
      if (dash && Math.floor((t * len) / dash) % 2 === 1) continue;
      const x = x0 + (x1 - x0) * t;
      const y = y0 + (y1 - y0) * t;
      for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) this.set(x + dx, y + dy, c);
    }
  }

  textWidth(s, scale = 2) {
    return String(s).length * 6 * scale - scale;
  }

  /** Draws text; align 'left' | 'center' | 'right'; vertical: y is the top. rotate: true = bottom-to-top. */
  text(s, x, y, c = [0, 0, 0], { scale = 2, align = 'left', rotate = false } = {}) {
    s = [...String(s)].map((ch) => (ch === 'µ' ? ch : ch.toUpperCase())).join('');
    const w = this.textWidth(s, scale);
    if (rotate) {
      let yy = align === 'center' ? y + w / 2 : align === 'right' ? y + w : y;
      for (const ch of s) {
        const g = F[ch] ?? F['?'];
        for (let row = 0; row < 7; row++) {
          for (let col = 0; col < 5; col++) {
            if (g[row] & (0x10 >> col)) this.fillRect(x + row * scale, yy - (col + 1) * scale, scale, scale, c);
          }
        }
        yy -= 6 * scale;
      }
      return;
    }
    let xx = align === 'center' ? x - w / 2 : align === 'right' ? x - w : x;
    for (const ch of s) {
      const g = F[ch] ?? F['?'];
      for (let row = 0; row < 7; row++) {
        for (let col = 0; col < 5; col++) {
          if (g[row] & (0x10 >> col)) this.fillRect(xx + col * scale, y + row * scale, scale, scale, c);
        }
      }
      xx += 6 * scale;
    }
  }

  png() {
    const raw = Buffer.alloc((this.w * 3 + 1) * this.h);
    for (let y = 0; y < this.h; y++) {
      raw[y * (this.w * 3 + 1)] = 0; // filter: none
      this.px.copy(raw, y * (this.w * 3 + 1) + 1, y * this.w * 3, (y + 1) * this.w * 3);
    }
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(this.w, 0);
    ihdr.writeUInt32BE(this.h, 4);
    ihdr[8] = 8; // bit depth
    ihdr[9] = 2; // RGB
    return Buffer.concat([
      Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
      chunk('IHDR', ihdr),
      chunk('IDAT', deflateSync(raw, { level: 9 })),
      chunk('IEND', Buffer.alloc(0)),
    ]);
  }
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

// ---- charts ----------------------------------------------------------------------------------------------------
export const PALETTE = [[31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189], [140, 86, 75], [227, 119, 194]];
const GREY = [200, 200, 200];
const DARK = [40, 40, 40];

function niceStep(range, ticks) {
  const raw = range / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const n = raw / mag;
  return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * mag;
}

export function fmt(v) {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toFixed(0)}K`;
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1).replace(/\.0$/, '');
  if (a >= 1) return v.toFixed(2).replace(/\.?0+$/, '');
  return v.toPrecision(2);
}

function legend(cv, items, x, y, maxW) {
  let xx = x;
  let yy = y;
  for (const [label, color] of items) {
    const w = 22 + cv.textWidth(label) + 22;
    if (xx + w > x + maxW) { xx = x; yy += 22; }
    cv.fillRect(xx, yy + 1, 14, 14, color);
    cv.text(label, xx + 20, yy + 1, DARK);
    xx += w;
  }
  return yy + 22;
}

/**
 * Grouped bar chart. groups: [{ label, values: [number|null per series] }], series: [label].
 */
export function barChart({ title, subtitle, yLabel, groups, series, width = 1100, height = 560, colors = PALETTE }) {
  const cv = new Canvas(width, height);
  cv.text(title, width / 2, 14, DARK, { align: 'center', scale: 3 });
  if (subtitle) cv.text(subtitle, width / 2, 44, [90, 90, 90], { align: 'center' });
  const legendBottom = legend(cv, series.map((s, i) => [s, colors[i % colors.length]]), 90, 70, width - 120);
  const left = 90;
  const right = width - 30;
  const top = legendBottom + 20;
  const bottom = height - 60;
  const max = Math.max(...groups.flatMap((g) => g.values.filter((v) => v != null && isFinite(v))), 0) || 1;
  const step = niceStep(max * 1.1, 6);
  const yMax = Math.ceil((max * 1.12) / step) * step;
  const Y = (v) => bottom - (v / yMax) * (bottom - top);
  for (let v = 0; v <= yMax + 1e-9; v += step) {
    cv.line(left, Y(v), right, Y(v), v === 0 ? DARK : GREY);
    cv.text(fmt(v), left - 8, Y(v) - 7, DARK, { align: 'right' });
  }
  cv.text(yLabel, 14, (top + bottom) / 2, DARK, { rotate: true, align: 'center' });
  const gw = (right - left) / groups.length;
  const bw = Math.min(60, (gw * 0.8) / series.length);
  groups.forEach((g, gi) => {
    const gx = left + gi * gw + (gw - bw * series.length) / 2;
    g.values.forEach((v, si) => {
      const x = gx + si * bw;
      if (v == null || !isFinite(v)) {
        cv.text('N/A', x + bw / 2, bottom - 18, [150, 150, 150], { align: 'center', scale: 1 });
        return;
      }
      cv.fillRect(x + 2, Y(v), bw - 4, bottom - Y(v), colors[si % colors.length]);
      cv.text(fmt(v), x + bw / 2, Y(v) - 12, DARK, { align: 'center', scale: 1 });
    });
    cv.text(g.label, left + gi * gw + gw / 2, bottom + 12, DARK, { align: 'center' });
  });
  return cv.png();
}

/**
 * Latency percentile curves (HdrHistogram style): x = percentile on a 1/(1-p) log scale, y = latency (log scale).
 * series: [{ label, curve: [[percentile, ms], ...] }]
 */
export function percentileChart({ title, subtitle, series, width = 1100, height = 600, colors = PALETTE }) {
  const cv = new Canvas(width, height);
  cv.text(title, width / 2, 14, DARK, { align: 'center', scale: 3 });
  if (subtitle) cv.text(subtitle, width / 2, 44, [90, 90, 90], { align: 'center' });
  const legendBottom = legend(cv, series.map((s, i) => [s.label, colors[i % colors.length]]), 90, 70, width - 120);
  const left = 90;
  const right = width - 40;
  const top = legendBottom + 20;
  const bottom = height - 70;
  const xOf = (p) => Math.log10(1 / (1 - Math.min(p, 99.99) / 100)); // 0 .. 4
  const X = (p) => left + (xOf(p) / 4) * (right - left);
  const all = series.flatMap((s) => s.curve.map(([, v]) => v)).filter((v) => v > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.max(0.01, Math.min(...all))));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...all)));
  const Y = (v) => bottom - ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (bottom - top);
  for (let d = lo; d <= hi * 1.0001; d *= 10) {
    cv.line(left, Y(d), right, Y(d), GREY);
    cv.text(fmt(d), left - 8, Y(d) - 7, DARK, { align: 'right' });
    for (const m of [2, 5]) if (d * m < hi) cv.line(left, Y(d * m), right, Y(d * m), [235, 235, 235]);
  }
  for (const p of [0, 90, 99, 99.9, 99.99]) {
    cv.line(X(p), top, X(p), bottom, GREY);
    cv.text(p === 0 ? '0%' : `${p}%`, X(p), bottom + 10, DARK, { align: 'center' });
  }
  cv.line(left, top, left, bottom, DARK);
  cv.line(left, bottom, right, bottom, DARK);
  cv.text('LATENCY MS (LOG)', 14, (top + bottom) / 2, DARK, { rotate: true, align: 'center' });
  cv.text('PERCENTILE', (left + right) / 2, bottom + 34, DARK, { align: 'center' });
  series.forEach((s, i) => {
    const pts = s.curve.filter(([p]) => p <= 99.99);
    for (let k = 1; k < pts.length; k++) {
      cv.line(X(pts[k - 1][0]), Y(pts[k - 1][1]), X(pts[k][0]), Y(pts[k][1]), colors[i % colors.length], 3);
    }
  });
  return cv.png();
}
