// RoboTrace replay player: the episode's video and every sensor/action track on one timeline.
// Mounted on <div data-replay data-episode-id data-fps data-duration-s data-failure-time-s data-video-url
// [data-trace-lane]>. With data-trace-lane, the episode's trace (fetched once by span-lane.js for the Tracing card,
// handed over in the `robotrace:episode-trace` event) is one more lane: the span waterfall on this same axis.
// CSP: loaded with the page's nonce; no inline script or style attribute is written (CSSOM only), and every
// text from the server (track names, columns, warnings) goes through textContent, never innerHTML.
(() => {
  const NS = 1e9;
  const COLOURS = ['#3b82f6', '#ef4444', '#10b981', '#f59e0b', '#8b5cf6', '#ec4899', '#14b8a6', '#84cc16'];
  const MAX_POINTS = 4000;
  const REFETCH_MS = 120;
  const OPEN_LANES = 32;
  // The span lane's key in the saved lane layout (a track name cannot start with "trace:" and collide: it may,
  // but then the two share a place in the order, which is harmless).
  const SPANS_KEY = 'trace:spans';

  // The compare page's player lives in its own file; loaded from here so it needs no script tag of its own
  // (strict-dynamic lets this nonced script add it). Only our own /assets/ path is accepted.
  const compare = document.querySelector('[data-replay-compare]');
  if (compare && /^\/assets\/replay-compare\.js(\?v=[0-9a-f]+)?$/.test(compare.dataset.script || '')) {
    injectStyles();
    const s = document.createElement('script');
    s.src = compare.dataset.script;
    document.head.append(s);
  }
  const root = document.querySelector('[data-replay]');
  // The drawing shared with compare (replay-timeline.js, loaded before this script).
  const TL = window.RoboTraceTimeline;
  // The typed metadata widgets (server-rendered) share this stylesheet.
  if (root || document.querySelector('.typed-value')) injectStyles();
  if (!root || !TL) return;

  const cfg = {
    episodeId: root.dataset.episodeId || '',
    fps: Number(root.dataset.fps) || 0,
    durationNs: (Number(root.dataset.durationS) || 0) * NS,
    failureNs: root.dataset.failureTimeS ? Number(root.dataset.failureTimeS) * NS : null,
    videoUrl: root.dataset.videoUrl || '',
  };
  const api = `/api/episodes/${encodeURIComponent(cfg.episodeId)}/tracks`;
  const storeKey = `robotrace:replay:lanes:${cfg.episodeId}`;

  const state = {
    tracks: [],
    lanes: [], // { track, el, canvas, overlay, readout, data, hidden, abort }
    view: { from: 0, to: Math.max(cfg.durationNs, NS) },
    extent: Math.max(cfg.durationNs, NS),
    cursor: 0,
    hover: null,
    playing: false,
    clockStart: 0,
    // The spans' extent on this timeline ({from, to} ns), once the trace arrived: the view may widen to it.
    traceRange: null,
  };

  // ---------- DOM ----------
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const button = (label, title, onClick, attrs = {}) => {
    const b = el('button', 'replay-btn', label);
    b.type = 'button';
    b.title = title;
    b.setAttribute('aria-label', title);
    for (const [k, v] of Object.entries(attrs)) b.setAttribute(k, v);
    b.addEventListener('click', onClick);
    return b;
  };

  root.classList.add('replay');
  root.dataset.state = 'loading';
  const toolbar = el('div', 'replay-toolbar');
  toolbar.setAttribute('role', 'toolbar');
  toolbar.setAttribute('aria-label', 'Replay controls');
  const playBtn = button('▶', 'Play (space)', () => togglePlay(), { 'data-replay-play': '' });
  const timeOut = el('output', 'replay-time', '0.000 s');
  timeOut.setAttribute('aria-live', 'off');
  timeOut.setAttribute('data-replay-time', '');
  toolbar.append(playBtn, timeOut);
  if (cfg.failureNs !== null)
    toolbar.append(
      button('⚑ Jump to failure', 'Jump to failure (f)', () => seek(cfg.failureNs, true), {
        'data-replay-failure': '',
      }),
    );
  toolbar.append(
    button('−', 'Zoom out', () => zoom(2, centre())),
    button('+', 'Zoom in', () => zoom(0.5, centre())),
    button('Fit', 'Show the whole episode', () => setView(0, state.extent)),
  );
  const copyBtn = button('Copy link at this moment', 'Copy link at this moment', copyLink, {
    'data-replay-copy': '',
  });
  const copyNote = el('span', 'replay-note');
  copyNote.setAttribute('role', 'status');
  toolbar.append(copyBtn, copyNote);

  const media = el('div', 'replay-media');
  // The page may render the <video> itself (it works before this script runs, and the span lane finds it).
  let video = root.querySelector('video');
  if (video) {
    video.classList.add('replay-video');
    media.append(video);
  } else if (cfg.videoUrl) {
    video = document.createElement('video');
    video.className = 'replay-video';
    video.controls = true;
    video.preload = 'metadata';
    video.playsInline = true;
    video.src = cfg.videoUrl;
    video.setAttribute('aria-label', 'Episode video');
    media.append(video);
  }

  const warningsBox = el('div', 'replay-warnings');
  warningsBox.setAttribute('role', 'note');
  warningsBox.hidden = true;
  const axis = el('canvas', 'replay-axis');
  axis.setAttribute('role', 'slider');
  axis.setAttribute('aria-label', 'Time axis: drag to scrub');
  axis.setAttribute('aria-valuemin', '0');
  axis.tabIndex = 0;
  const lanesBox = el('div', 'replay-lanes');
  const hiddenBox = el('div', 'replay-hidden');
  hiddenBox.hidden = true;
  const emptyNote = el('p', 'replay-empty muted');
  emptyNote.hidden = true;
  root.replaceChildren(toolbar, media, warningsBox, axis, lanesBox, hiddenBox, emptyNote);

  // ---------- time helpers ----------
  const fmt = (ns) => `${(ns / NS).toFixed(3)} s`;
  const centre = () => (state.view.from + state.view.to) / 2;
  const width = TL.width;
  const xOf = (ns, w) => TL.xOf(ns, state.view, w);
  const nsAt = (px, w) => TL.nsAt(px, state.view, w);
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

  function setView(from, to) {
    // The episode is [0, extent]; spans beyond its edges (before its start, after its end) widen what may be shown.
    const lo = Math.min(0, state.traceRange ? state.traceRange.from : 0);
    const hi = Math.max(state.extent, state.traceRange ? state.traceRange.to : 0);
    const span = clamp(to - from, 1e6, (hi - lo) * 4);
    let f = from;
    if (to - from !== span) f = (from + to) / 2 - span / 2;
    f = clamp(f, lo - span * 0.05, Math.max(hi - span * 0.95, lo));
    state.view = { from: f, to: f + span };
    drawAll();
    scheduleFetch();
  }
  function zoom(factor, at) {
    const { from, to } = state.view;
    setView(at - (at - from) * factor, at + (to - at) * factor);
  }

  // ---------- playback ----------
  function seek(ns, moveVideo) {
    state.cursor = clamp(ns, 0, state.extent);
    if (moveVideo && video && Number.isFinite(video.duration)) video.currentTime = state.cursor / NS;
    else if (moveVideo && video) pendingSeek = state.cursor;
    // Keep the playhead in view.
    const { from, to } = state.view;
    if (state.cursor < from || state.cursor > to) {
      const span = to - from;
      setView(state.cursor - span / 2, state.cursor + span / 2);
    }
    drawOverlays();
  }
  let pendingSeek = null;
  function togglePlay() {
    if (video) {
      if (video.paused) video.play().catch(() => {});
      else video.pause();
      return;
    }
    state.playing = !state.playing;
    state.clockStart = performance.now() - state.cursor / 1e6;
    if (state.playing) requestAnimationFrame(tick);
    updatePlay();
  }
  function updatePlay() {
    const playing = video ? !video.paused : state.playing;
    playBtn.textContent = playing ? '❚❚' : '▶';
    playBtn.setAttribute('aria-label', playing ? 'Pause (space)' : 'Play (space)');
    root.dataset.playing = String(playing);
  }
  function tick() {
    if (video) {
      if (video.paused) return;
      state.cursor = video.currentTime * NS;
    } else {
      if (!state.playing) return;
      state.cursor = (performance.now() - state.clockStart) * 1e6;
      if (state.cursor >= state.extent) {
        state.cursor = state.extent;
        state.playing = false;
        updatePlay();
      }
    }
    followCursor();
    drawOverlays();
    requestAnimationFrame(tick);
  }
  function followCursor() {
    const { from, to } = state.view;
    if (state.cursor > to || state.cursor < from)
      setView(state.cursor - (to - from) * 0.1, state.cursor + (to - from) * 0.9);
  }
  if (video) {
    video.addEventListener('play', () => {
      updatePlay();
      requestAnimationFrame(tick);
    });
    video.addEventListener('pause', updatePlay);
    video.addEventListener('seeked', () => {
      state.cursor = video.currentTime * NS;
      drawOverlays();
    });
    video.addEventListener('loadedmetadata', () => {
      if (Number.isFinite(video.duration)) growExtent(video.duration * NS);
      if (pendingSeek !== null) {
        video.currentTime = pendingSeek / NS;
        pendingSeek = null;
      }
    });
  }

  /** One step: a frame at the episode's fps, else one sample of the first visible lane; shift: 1 s. */
  function step(dir, big) {
    let delta = NS;
    if (!big && cfg.fps > 0) delta = NS / cfg.fps;
    else if (!big) {
      const lane = state.lanes.find((l) => !l.hidden && l.data && l.data.t_ns.length > 1);
      if (lane) {
        const t = lane.data.t_ns;
        const i = nearest(t, state.cursor);
        const j = clamp(i + dir, 0, t.length - 1);
        if (t[j] !== state.cursor) return seek(t[j], true);
      }
      delta = NS / 30;
    }
    seek(state.cursor + dir * delta, true);
  }

  // ---------- links ----------
  function linkAt() {
    const url = new URL(location.href);
    url.searchParams.set('t', String(Math.round(state.cursor / 1e6)));
    return url.toString();
  }
  async function copyLink() {
    const link = linkAt();
    root.dataset.copiedLink = link;
    try {
      await navigator.clipboard.writeText(link);
      copyNote.textContent = 'Link copied';
    } catch {
      copyNote.textContent = link; // no clipboard permission: show it to copy by hand
    }
  }

  // ---------- lanes ----------
  function loadPrefs() {
    try {
      const p = JSON.parse(localStorage.getItem(storeKey) || '{}');
      return {
        order: Array.isArray(p.order) ? p.order : [],
        hidden: Array.isArray(p.hidden) ? p.hidden : [],
      };
    } catch {
      return { order: [], hidden: [] };
    }
  }
  function savePrefs() {
    try {
      localStorage.setItem(
        storeKey,
        JSON.stringify({
          order: state.lanes.map((l) => l.key),
          hidden: state.lanes.filter((l) => l.hidden).map((l) => l.key),
        }),
      );
    } catch {
      /* storage full or disabled: preferences are a convenience */
    }
  }

  function makeLane(track) {
    const lane = { key: track.name, label: track.name, track, data: null, hidden: false, abort: null };
    const section = el('section', 'replay-lane');
    section.setAttribute('role', 'region');
    section.setAttribute('aria-label', track.name);
    section.dataset.track = track.name;
    const head = el('div', 'replay-lane-head');
    const title = el('span', 'replay-lane-name', track.name);
    const meta = el(
      'span',
      'replay-lane-meta muted',
      `${track.artifact_kind} · ${track.dtype} · ${track.samples} samples`,
    );
    const legend = el('span', 'replay-legend');
    track.columns.slice(0, 12).forEach((c, i) => {
      const item = el('span', 'replay-legend-item', c);
      item.style.setProperty('--swatch', COLOURS[i % COLOURS.length]);
      legend.append(item);
    });
    if (track.columns.length > 12) legend.append(el('span', 'muted', `+${track.columns.length - 12} more`));
    const tools = el('span', 'replay-lane-tools');
    tools.append(
      button('↑', `Move ${track.name} up`, () => move(lane, -1), { 'data-lane-up': '' }),
      button('↓', `Move ${track.name} down`, () => move(lane, 1), { 'data-lane-down': '' }),
      button('Hide', `Hide ${track.name}`, () => setHidden(lane, true), { 'data-lane-hide': '' }),
    );
    head.append(title, meta, legend, tools);
    const plot = el('div', 'replay-plot');
    const canvas = el('canvas', 'replay-canvas');
    const overlay = el('canvas', 'replay-overlay');
    const readout = el('div', 'replay-readout');
    plot.append(canvas, overlay, readout);
    section.append(head);
    for (const w of track.warnings) {
      const badge = el('p', 'replay-lane-warning', `⚠ ${w}`);
      badge.setAttribute('role', 'note');
      section.append(badge);
    }
    if (track.time_source === 'steps') section.dataset.timeSource = 'steps';
    section.append(plot);
    Object.assign(lane, { el: section, canvas, overlay, readout, plot });
    wirePointer(lane);
    return lane;
  }

  function move(lane, dir) {
    const i = state.lanes.indexOf(lane);
    const j = i + dir;
    if (j < 0 || j >= state.lanes.length) return;
    state.lanes.splice(i, 1);
    state.lanes.splice(j, 0, lane);
    layoutLanes();
    savePrefs();
    lane.el.querySelector(dir < 0 ? '[data-lane-up]' : '[data-lane-down]')?.focus();
  }
  function setHidden(lane, hidden) {
    lane.hidden = hidden;
    layoutLanes();
    savePrefs();
    if (!hidden && lane.spans) drawAll();
    else if (!hidden) {
      drawLane(lane);
      fetchLane(lane);
    }
  }
  function layoutLanes() {
    lanesBox.replaceChildren(...state.lanes.filter((l) => !l.hidden).map((l) => l.el));
    const hidden = state.lanes.filter((l) => l.hidden);
    hiddenBox.hidden = hidden.length === 0;
    hiddenBox.replaceChildren();
    if (hidden.length) {
      hiddenBox.append(el('span', 'muted', 'Hidden lanes: '));
      for (const l of hidden)
        hiddenBox.append(
          button(`Show ${l.label}`, `Show ${l.label}`, () => setHidden(l, false), {
            'data-lane-show': l.key,
          }),
        );
    }
    root.dataset.laneOrder = state.lanes
      .filter((l) => !l.hidden)
      .map((l) => l.key)
      .join('\n');
  }

  // ---------- data ----------
  let fetchTimer = 0;
  function scheduleFetch() {
    clearTimeout(fetchTimer);
    fetchTimer = setTimeout(() => {
      for (const l of state.lanes) if (!l.hidden && !l.spans) fetchLane(l);
    }, REFETCH_MS);
  }
  async function fetchLane(lane) {
    if (lane.track.samples === 0) {
      lane.el.dataset.drawn = 'true';
      return;
    }
    lane.abort?.abort();
    const ctrl = new AbortController();
    lane.abort = ctrl;
    const { from, to } = state.view;
    const points = clamp(Math.round(width(lane.canvas)), 2, MAX_POINTS);
    const qs = new URLSearchParams({
      from_ns: String(Math.max(0, Math.floor(from))),
      to_ns: String(Math.ceil(to)),
      points: String(points),
    });
    try {
      const res = await fetch(`${api}/${encodeURIComponent(lane.track.name)}?${qs}`, {
        credentials: 'same-origin',
        signal: ctrl.signal,
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      lane.data = await res.json();
      drawLane(lane);
      maybeReady();
    } catch (err) {
      if (err.name === 'AbortError') return;
      lane.readout.textContent = `Could not load this track (${err.message})`;
      lane.el.dataset.drawn = 'error';
      maybeReady();
    }
  }

  function growExtent(ns) {
    if (ns > state.extent) {
      const whole = state.view.from <= 0 && state.view.to >= state.extent;
      state.extent = ns;
      if (whole) state.view = { from: 0, to: ns };
      axis.setAttribute('aria-valuemax', String(Math.round(ns / 1e6)));
      drawAll();
    }
  }

  // ---------- drawing ----------
  const fit = TL.fit;

  function drawLane(lane) {
    if (lane.hidden || lane.spans) return;
    const { ctx, w, h } = fit(lane.canvas);
    ctx.clearRect(0, 0, w, h);
    const data = lane.data;
    if (!data) return;
    if (data.t_ns.length === 0) {
      ctx.fillStyle = getComputedStyle(root).getPropertyValue('--replay-muted') || '#888';
      ctx.font = '12px system-ui, sans-serif';
      ctx.fillText(lane.track.samples === 0 ? 'No samples' : 'No samples in this window', 8, h / 2);
      lane.el.dataset.drawn = 'true';
      return;
    }
    const [lo, hi] = TL.yRange([data]);
    const y = (v) => h - 4 - ((v - lo) / (hi - lo)) * (h - 8);
    const t = data.t_ns;
    data.series.forEach((s, c) => {
      ctx.strokeStyle = COLOURS[c % COLOURS.length];
      ctx.lineWidth = 1.25;
      TL.strokeSeries(ctx, t, s, (ns) => xOf(ns, w), y);
    });
    lane.el.dataset.drawn = 'true';
    lane.el.dataset.points = String(t.length);
  }

  function drawAxis() {
    TL.drawAxis(axis, state.view, getComputedStyle(root).getPropertyValue('--replay-fg') || '#222');
  }

  function drawMarkers(canvas, withFailure) {
    const { ctx, w, h } = fit(canvas);
    ctx.clearRect(0, 0, w, h);
    if (withFailure && cfg.failureNs !== null) {
      const fx = xOf(cfg.failureNs, w);
      ctx.fillStyle = '#dc2626';
      ctx.fillRect(fx - 1, 0, 2, h);
    }
    if (state.hover !== null) {
      ctx.fillStyle = 'rgba(127,127,127,0.6)';
      ctx.fillRect(xOf(state.hover, w), 0, 1, h);
    }
    const px = xOf(state.cursor, w);
    ctx.fillStyle = getComputedStyle(root).getPropertyValue('--replay-playhead') || '#111';
    ctx.fillRect(px - 1, 0, 2, h);
    // On screen (CSS px from the viewport's left), as the span lane says of its own: every lane's should match.
    canvas.dataset.playheadX = (canvas.getBoundingClientRect().left + px).toFixed(1);
    return { ctx, w, h };
  }

  function drawOverlays() {
    const { ctx, w } = drawMarkers(axisOverlay, true);
    if (cfg.failureNs !== null) {
      const fx = xOf(cfg.failureNs, w);
      ctx.fillStyle = '#dc2626';
      ctx.beginPath();
      ctx.moveTo(fx - 5, 0);
      ctx.lineTo(fx + 5, 0);
      ctx.lineTo(fx, 7);
      ctx.fill();
    }
    for (const lane of state.lanes)
      if (lane.spans) lane.ctl?.setPlayhead(state.cursor);
      else if (!lane.hidden) drawMarkers(lane.overlay, true);
    timeOut.textContent = fmt(state.cursor);
    root.dataset.cursorNs = String(Math.round(state.cursor));
    axis.setAttribute('aria-valuenow', String(Math.round(state.cursor / 1e6)));
    axis.setAttribute('aria-valuetext', fmt(state.cursor));
  }

  function drawAll() {
    drawAxis();
    root.dataset.viewFromNs = String(Math.round(state.view.from));
    root.dataset.viewToNs = String(Math.round(state.view.to));
    for (const lane of state.lanes)
      if (lane.spans) lane.ctl?.setView(state.view.from, state.view.to);
      else drawLane(lane);
    drawOverlays();
  }

  // The axis gets an overlay too (playhead + failure pin), stacked in a wrapper.
  const axisWrap = el('div', 'replay-axis-wrap');
  const axisOverlay = el('canvas', 'replay-overlay');
  axis.replaceWith(axisWrap);
  axisWrap.append(axis, axisOverlay);
  if (cfg.failureNs !== null) {
    const pin = el('span', 'replay-failure-label', `failure at ${fmt(cfg.failureNs)}`);
    pin.setAttribute('data-replay-failure-pin', '');
    toolbar.insertBefore(pin, copyBtn);
  }

  // ---------- hover values ----------
  function nearest(t, ns) {
    let lo = 0;
    let hi = t.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (t[mid] < ns) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0 && Math.abs(t[lo - 1] - ns) <= Math.abs(t[lo] - ns)) return lo - 1;
    return lo;
  }
  function showHover(ns) {
    state.hover = ns;
    for (const lane of state.lanes) {
      if (lane.hidden || lane.spans || !lane.data || lane.data.t_ns.length === 0) continue;
      const i = nearest(lane.data.t_ns, ns);
      const parts = lane.data.series.slice(0, 8).map((s) => {
        const a = s.min[i];
        const b = s.max[i];
        const v = a === null ? '—' : a === b ? num(a) : `${num(a)}…${num(b)}`;
        return `${s.column} = ${v}`;
      });
      lane.readout.textContent = `${fmt(lane.data.t_ns[i])}  ${parts.join('  ')}`;
    }
    drawOverlays();
  }
  const num = (v) =>
    Math.abs(v) >= 1e5 || (Math.abs(v) < 1e-3 && v !== 0)
      ? v.toExponential(3)
      : String(Math.round(v * 1e4) / 1e4);
  function clearHover() {
    state.hover = null;
    for (const lane of state.lanes) if (lane.readout) lane.readout.textContent = '';
    drawOverlays();
  }

  // ---------- pointer: click a lane = seek, drag a lane = pan, drag the axis = scrub, wheel = zoom ----------
  function wirePointer(lane) {
    const target = lane.overlay;
    let down = null;
    target.addEventListener('pointerdown', (e) => {
      down = { x: e.clientX, from: state.view.from, to: state.view.to, moved: false };
      target.setPointerCapture(e.pointerId);
    });
    target.addEventListener('pointermove', (e) => {
      const w = width(target);
      const rect = target.getBoundingClientRect();
      if (down) {
        const dx = e.clientX - down.x;
        if (Math.abs(dx) > 3) down.moved = true;
        if (down.moved) {
          const shift = (dx / w) * (down.to - down.from);
          setView(down.from - shift, down.to - shift);
        }
      }
      showHover(nsAt(e.clientX - rect.left, w));
    });
    target.addEventListener('pointerup', (e) => {
      if (down && !down.moved) {
        const rect = target.getBoundingClientRect();
        seek(nsAt(e.clientX - rect.left, width(target)), true);
      }
      down = null;
    });
    target.addEventListener('pointerleave', () => {
      if (!down) clearHover();
    });
    target.addEventListener('wheel', onWheel, { passive: false });
  }
  function onWheel(e) {
    e.preventDefault();
    const rect = e.currentTarget.getBoundingClientRect();
    const at = nsAt(e.clientX - rect.left, width(e.currentTarget));
    if (Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
      const shift = (e.deltaX / width(e.currentTarget)) * (state.view.to - state.view.from);
      setView(state.view.from + shift, state.view.to + shift);
    } else zoom(e.deltaY > 0 ? 1.25 : 0.8, at);
  }
  let scrubbing = false;
  axisOverlay.addEventListener('pointerdown', (e) => {
    scrubbing = true;
    axisOverlay.setPointerCapture(e.pointerId);
    const rect = axisOverlay.getBoundingClientRect();
    seek(nsAt(e.clientX - rect.left, width(axisOverlay)), true);
  });
  axisOverlay.addEventListener('pointermove', (e) => {
    const rect = axisOverlay.getBoundingClientRect();
    const ns = nsAt(e.clientX - rect.left, width(axisOverlay));
    if (scrubbing) seek(ns, true);
    showHover(ns);
  });
  axisOverlay.addEventListener('pointerup', () => {
    scrubbing = false;
  });
  axisOverlay.addEventListener('pointerleave', () => {
    if (!scrubbing) clearHover();
  });
  axisOverlay.addEventListener('wheel', onWheel, { passive: false });

  // ---------- keyboard ----------
  document.addEventListener('keydown', (e) => {
    const t = e.target;
    if (t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)))
      return;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === ' ' || e.code === 'Space') {
      if (t instanceof HTMLElement && (t.tagName === 'BUTTON' || t.tagName === 'VIDEO')) return; // their own space
      e.preventDefault();
      togglePlay();
    } else if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
      e.preventDefault();
      step(e.key === 'ArrowLeft' ? -1 : 1, e.shiftKey);
    } else if ((e.key === 'f' || e.key === 'F') && cfg.failureNs !== null) {
      e.preventDefault();
      seek(cfg.failureNs, true);
    }
  });

  // ---------- the span lane ----------
  // Times on the span lane are ns on this timeline (0 = the episode's start on the robot's clock, as aligned by the
  // server); the lane draws into its own host but follows this axis (setView) and this playhead (setPlayhead).
  let laidOut = false;
  let pendingTrace = null;
  const spanLane = root.hasAttribute('data-trace-lane') && window.RoboTraceSpanLane ? makeSpanLane() : null;
  function makeSpanLane() {
    const lane = { key: SPANS_KEY, label: 'Spans', spans: true, hidden: false, data: null, ctl: null };
    const section = el('section', 'replay-lane replay-span-lane');
    section.setAttribute('role', 'region');
    section.setAttribute('aria-label', 'Spans of the trace');
    section.dataset.track = SPANS_KEY;
    const head = el('div', 'replay-lane-head');
    const tools = el('span', 'replay-lane-tools');
    tools.append(
      button('Episode window', "Show the episode's own window", () => setView(0, state.extent), {
        'data-span-view-episode': '',
      }),
      button('Whole trace', 'Widen the view to every span of the trace', widenToTrace, {
        'data-span-view-trace': '',
      }),
      button('↑', 'Move Spans up', () => move(lane, -1), { 'data-lane-up': '' }),
      button('↓', 'Move Spans down', () => move(lane, 1), { 'data-lane-down': '' }),
      button('Hide', 'Hide Spans', () => setHidden(lane, true), { 'data-lane-hide': '' }),
    );
    head.append(
      el('span', 'replay-lane-name', 'Spans'),
      el('span', 'replay-lane-meta muted', 'trace'),
      tools,
    );
    const host = el('div', 'replay-span-host');
    host.setAttribute('data-span-lane', '');
    host.append(el('p', 'muted small', 'Asking the trace backend…'));
    // Ctrl+wheel (or a sideways wheel) zooms and pans the shared axis; a plain wheel scrolls the rows.
    host.addEventListener(
      'wheel',
      (e) => {
        if (e.ctrlKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) onWheel(e);
      },
      { passive: false },
    );
    section.append(head, host);
    return Object.assign(lane, { el: section, host });
  }
  function widenToTrace() {
    const r = state.traceRange;
    if (!r) return;
    const from = Math.min(0, r.from);
    const to = Math.max(state.extent, r.to);
    const pad = (to - from) * 0.02;
    setView(from - pad, to + pad);
  }
  function showTrace(detail) {
    pendingTrace = detail;
    if (!laidOut || !spanLane) return;
    const { trace } = detail;
    const origin = trace.alignment ? trace.alignment.start_unix_ns : undefined;
    const onTimeline = (ns) => (origin ? Number(BigInt(ns) - BigInt(origin)) : 0);
    const spans = trace.status === 'found' && Array.isArray(trace.spans) ? trace.spans : [];
    let from = Infinity;
    let to = -Infinity;
    if (origin)
      for (const s of spans) {
        from = Math.min(from, onTimeline(s.start_unix_ns));
        to = Math.max(to, onTimeline(s.end_unix_ns));
      }
    state.traceRange = Number.isFinite(from) ? { from, to } : null;
    spanLane.ctl?.destroy();
    spanLane.ctl = window.RoboTraceSpanLane.mount(spanLane.host, {
      trace,
      originNs: origin,
      window: trace.window
        ? { fromNs: onTimeline(trace.window.start_unix_ns), toNs: onTimeline(trace.window.end_unix_ns) }
        : null,
      highlightSpanId: trace.span_id,
      links: detail.links,
      linkMarker: detail.linkMarker,
      alignment: trace.alignment,
      onShift: detail.shift,
      onSeek: (tNs) => seek(tNs, true),
      hostAxis: true,
      labelWidth: 0,
    });
    spanLane.el.dataset.drawn = 'true';
    drawAll();
    maybeReady();
  }
  if (spanLane) {
    document.addEventListener('robotrace:episode-trace', (e) => showTrace(e.detail));
    // The answer may have come before this script ran.
    if (window.RoboTraceSpanLane.episodeTrace) showTrace(window.RoboTraceSpanLane.episodeTrace);
  }

  // ---------- start ----------
  let readyMarked = false;
  function maybeReady() {
    if (readyMarked) return;
    const visible = state.lanes.filter((l) => !l.hidden);
    if (visible.length === 0 || visible.some((l) => l.el.dataset.drawn)) {
      readyMarked = true;
      root.dataset.state = 'ready';
      root.dispatchEvent(new CustomEvent('replay:ready', { bubbles: true }));
    }
  }

  function showWarnings(list) {
    warningsBox.replaceChildren();
    warningsBox.hidden = list.length === 0;
    if (!list.length) return;
    warningsBox.append(el('strong', '', 'Problems found in the track files'));
    const ul = el('ul');
    for (const w of list) ul.append(el('li', '', w));
    warningsBox.append(ul);
  }

  async function start() {
    const t = new URL(location.href).searchParams.get('t');
    if (t !== null && /^\d+(\.\d+)?$/.test(t)) {
      state.cursor = Number(t) * 1e6;
      growExtent(state.cursor);
      if (video && video.readyState >= 1) video.currentTime = state.cursor / NS;
      else if (video) pendingSeek = state.cursor;
    }
    let list = { tracks: [], warnings: [] };
    try {
      const res = await fetch(api, { credentials: 'same-origin' });
      if (res.ok) list = await res.json();
      else if (res.status !== 404) throw new Error(`HTTP ${res.status}`);
    } catch (err) {
      list.warnings = [`Tracks could not be loaded (${err.message})`];
    }
    state.tracks = list.tracks;
    showWarnings(list.warnings);
    for (const tr of list.tracks) if (tr.t_end_ns !== null) growExtent(tr.t_end_ns);
    if (cfg.failureNs !== null) growExtent(cfg.failureNs);
    const prefs = loadPrefs();
    const lanes = list.tracks.map(makeLane);
    // The span lane sits right under the video, before the track lanes, until the viewer moves it.
    if (spanLane) lanes.unshift(spanLane);
    const rank = (l) => {
      const i = prefs.order.indexOf(l.key);
      return i < 0 ? prefs.order.length + lanes.indexOf(l) : i;
    };
    lanes.sort((a, b) => rank(a) - rank(b));
    // Past the first lanes, a lane starts hidden (listed under "Show") until the viewer saves a layout: a file
    // with hundreds of tracks must not fire hundreds of window requests on open.
    lanes.forEach((l, i) => {
      l.hidden = prefs.hidden.includes(l.key) || (i >= OPEN_LANES && prefs.order.length === 0);
    });
    state.lanes = lanes;
    layoutLanes();
    if (!list.tracks.length) {
      emptyNote.hidden = false;
      emptyNote.textContent =
        video || spanLane
          ? 'No sensor or action tracks for this episode.'
          : 'No video and no tracks for this episode.';
    }
    if (state.cursor > 0) seek(state.cursor, false);
    laidOut = true;
    if (spanLane && pendingTrace) showTrace(pendingTrace);
    drawAll();
    for (const l of lanes) if (!l.hidden && !l.spans) fetchLane(l);
    maybeReady();
  }

  new ResizeObserver(() => {
    drawAll();
    scheduleFetch();
  }).observe(lanesBox);

  function injectStyles() {
    const me = document.currentScript;
    if (!me || document.querySelector('link[data-replay-css]')) return;
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = new URL('replay.css', me.src).pathname;
    link.setAttribute('data-replay-css', '');
    document.head.append(link);
  }

  start();
})();
