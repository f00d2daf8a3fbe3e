// RoboTrace replay timeline: the drawing the episode player (replay.js) and compare (replay-compare.js) share —
// canvas sizing, the time axis, one track window's series, their y range. Loaded (deferred) before both, so each
// draws its axis and lanes with the same code; exposes window.RoboTraceTimeline and touches no page element.
// Times are ns on a timeline; `view` is {from, to} in ns; x is CSS px from the canvas's left edge.
(() => {
  const NS = 1e9;
  const width = (canvas) => canvas.clientWidth || 600;
  const xOf = (ns, view, w) => ((ns - view.from) / (view.to - view.from)) * w;
  const nsAt = (px, view, w) => view.from + (px / w) * (view.to - view.from);

  /** Sizes the canvas's backing store to its CSS box at the device's pixel ratio; the context draws in CSS px. */
  function fit(canvas) {
    const dpr = window.devicePixelRatio || 1;
    const w = width(canvas);
    const h = canvas.clientHeight || 80;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    return { ctx, w, h };
  }

  // Tick spacings from 1 ms to an hour: the first at least ~90 px apart is used.
  const STEPS = [
    1e6, 2e6, 5e6, 1e7, 2e7, 5e7, 1e8, 2e8, 5e8, 1e9, 2e9, 5e9, 1e10, 3e10, 6e10, 1.2e11, 3e11, 6e11, 1.8e12,
    3.6e12,
  ];
  /** Clears the canvas and draws the ticks and second labels of `view` in `colour`; returns {ctx, w, h}. */
  function drawAxis(canvas, view, colour) {
    const fitted = fit(canvas);
    const { ctx, w, h } = fitted;
    ctx.clearRect(0, 0, w, h);
    const raw = (view.to - view.from) / Math.max(2, w / 90);
    const step = STEPS.find((s) => s >= raw) ?? STEPS[STEPS.length - 1];
    ctx.fillStyle = colour;
    ctx.strokeStyle = colour;
    ctx.font = '11px system-ui, sans-serif';
    ctx.beginPath();
    for (let ns = Math.ceil(view.from / step) * step; ns <= view.to; ns += step) {
      const x = xOf(ns, view, w);
      ctx.moveTo(x, h - 6);
      ctx.lineTo(x, h);
      const digits = step < 1e7 ? 3 : step < 1e8 ? 2 : 1;
      ctx.fillText(step < NS ? `${(ns / NS).toFixed(digits)}s` : `${Math.round(ns / NS)}s`, x + 2, h - 9);
    }
    ctx.stroke();
    return fitted;
  }

  /** [lo, hi] over every series of the given track windows (null entries skipped), padded; [-1, 1] when empty. */
  function yRange(windows) {
    let lo = Infinity;
    let hi = -Infinity;
    for (const win of windows)
      for (const s of win?.series ?? []) {
        for (const v of s.min) if (v !== null && v < lo) lo = v;
        for (const v of s.max) if (v !== null && v > hi) hi = v;
      }
    if (!Number.isFinite(lo)) return [-1, 1];
    if (lo === hi) return [lo - 1, hi + 1];
    const pad = (hi - lo) * 0.08;
    return [lo - pad, hi + pad];
  }

  /**
   * Strokes one column of a track window (min/max per bucket, a null = NaN/Inf is a gap) with the context's
   * current style; `x(tNs)` and `y(value)` map to CSS px.
   */
  function strokeSeries(ctx, tNs, s, x, y) {
    ctx.beginPath();
    let pen = false;
    for (let i = 0; i < tNs.length; i++) {
      const a = s.min[i];
      const b = s.max[i];
      if (a === null || b === null) {
        pen = false;
        continue;
      }
      const px = x(tNs[i]);
      if (pen) ctx.lineTo(px, y(a));
      else ctx.moveTo(px, y(a));
      if (b !== a) ctx.lineTo(px, y(b));
      pen = true;
    }
    if (tNs.length === 1 && s.min[0] !== null) ctx.arc(x(tNs[0]), y(s.min[0]), 2, 0, Math.PI * 2);
    ctx.stroke();
  }

  window.RoboTraceTimeline = { NS, width, xOf, nsAt, fit, drawAxis, yRange, strokeSeries };
})();
