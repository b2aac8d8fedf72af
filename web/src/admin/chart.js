// A small line chart of total connections over time on a <canvas>, drawn for the device pixel
// ratio; no chart library.
export class ConnectionsChart {
  constructor(canvas, { windowMs }) {
    this.canvas = canvas;
    this.windowMs = windowMs;
  }

  draw(samples) {
    const canvas = this.canvas;
    const cssWidth = canvas.clientWidth || 600;
    const cssHeight = canvas.clientHeight || 140;
    const dpr = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(cssWidth * dpr) || canvas.height !== Math.round(cssHeight * dpr)) {
      canvas.width = Math.round(cssWidth * dpr);
      canvas.height = Math.round(cssHeight * dpr);
    }
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, cssWidth, cssHeight);

    const pad = { left: 34, right: 12, top: 12, bottom: 22 };
    const w = cssWidth - pad.left - pad.right;
    const hgt = cssHeight - pad.top - pad.bottom;
    const now = samples.length ? samples[samples.length - 1].t : Date.now();
    // the x axis grows with the page's history, from 2 minutes up to the whole window
    const span = Math.min(this.windowMs, Math.max(120_000, samples.length ? now - samples[0].t : 0));
    const t0 = now - span;
    const maxVal = Math.max(4, ...samples.map((s) => s.connections));
    const step = niceStep(maxVal);
    const top = Math.ceil(maxVal / step) * step;
    const x = (t) => pad.left + ((t - t0) / span) * w;
    const y = (v) => pad.top + hgt - (v / top) * hgt;

    ctx.font = '11px ui-sans-serif, system-ui, "DejaVu Sans", sans-serif';
    ctx.textBaseline = 'middle';
    // grid + y labels
    for (let v = 0; v <= top; v += step) {
      ctx.strokeStyle = v === 0 ? '#d0d5dd' : '#eef0f3';
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(pad.left, Math.round(y(v)) + 0.5);
      ctx.lineTo(pad.left + w, Math.round(y(v)) + 0.5);
      ctx.stroke();
      ctx.fillStyle = '#98a2b3';
      ctx.textAlign = 'right';
      ctx.fillText(String(v), pad.left - 8, y(v));
    }
    // x labels: minutes ago
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    const tick = [15, 30, 60, 120, 300].map((s) => s * 1000).find((t) => span / t <= 6) ?? 600_000;
    ctx.fillStyle = '#98a2b3';
    for (let ago = 0; ago <= span + 1; ago += tick) {
      const label = ago === 0 ? 'now' : ago % 60_000 === 0 ? `-${ago / 60_000}m` : `-${ago / 1000}s`;
      const px = x(now - ago);
      ctx.textAlign = px < pad.left + 14 ? 'left' : px > pad.left + w - 14 ? 'right' : 'center';
      ctx.fillText(label, px, pad.top + hgt + 6);
    }
    if (!samples.length) return;

    const pts = samples.filter((s) => s.t >= t0).map((s) => [x(s.t), y(s.connections)]);
    if (pts.length === 1) pts.unshift([Math.max(pad.left, pts[0][0] - 6), pts[0][1]]);
    // area
    const grad = ctx.createLinearGradient(0, pad.top, 0, pad.top + hgt);
    grad.addColorStop(0, 'rgba(37, 99, 235, .22)');
    grad.addColorStop(1, 'rgba(37, 99, 235, 0)');
    ctx.beginPath();
    ctx.moveTo(pts[0][0], y(0));
    for (const [px, py] of pts) ctx.lineTo(px, py);
    ctx.lineTo(pts[pts.length - 1][0], y(0));
    ctx.closePath();
    ctx.fillStyle = grad;
    ctx.fill();
    // line (steps: a connection count holds until the next sample)
    ctx.beginPath();
    pts.forEach(([px, py], i) => {
      if (i === 0) ctx.moveTo(px, py);
      else { ctx.lineTo(px, pts[i - 1][1]); ctx.lineTo(px, py); }
    });
    ctx.strokeStyle = '#2563eb';
    ctx.lineWidth = 2;
    ctx.lineJoin = 'round';
    ctx.stroke();
    // last point
    const [lx, ly] = pts[pts.length - 1];
    ctx.beginPath();
    ctx.arc(lx, ly, 3.5, 0, Math.PI * 2);
    ctx.fillStyle = '#2563eb';
    ctx.fill();
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = 1.5;
    ctx.stroke();
  }
}

function niceStep(max) {
  const raw = max / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (raw <= m * mag) return Math.max(1, m * mag);
  return Math.max(1, 10 * mag);
}
