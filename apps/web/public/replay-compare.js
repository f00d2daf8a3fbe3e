// RoboTrace compare: 2–4 episodes on one synchronized timeline. Loaded by replay.js on /portal/compare.
// Mounted on <div data-replay-compare data-episodes='[{id,name,fps,duration_s,failure_time_s,video_url}]'>.
// Aligned at the episodes' starts, or at their failure times (a toggle, when all of them failed): the shared
// time T maps to each episode's own time T + shift[i]. One playhead over every lane; the same track of each
// episode is overlaid in that episode's colour. ?t=<ms>&align=failure open the page at a moment; "Copy link"
// writes it. Text from the server only ever goes through textContent (CSP: no inline script or style).
(() => {
  const NS = 1e9;
  const COLOURS = ['#3b82f6', '#ef4444', '#10b981', '#f59e0b'];
  const MAX_POINTS = 2000;
  const root = document.querySelector('[data-replay-compare]');
  if (!root || root.dataset.mounted) return;
  root.dataset.mounted = 'true';
  let episodes = [];
  try {
    episodes = JSON.parse(root.dataset.episodes || '[]');
  } catch {
    episodes = [];
  }
  const canFailure = root.dataset.canAlignFailure === 'true';
  const params = new URL(location.href).searchParams;
  const state = {
    align: canFailure && params.get('align') === 'failure' ? 'failure' : 'start',
    cursor: 0,
    extent: NS,
    view: { from: 0, to: NS },
    playing: false,
    clockStart: 0,
    lists: [],
    lanes: [], // { name, el, canvas, data: [window|null per episode] }
  };
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
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

  // Shift of each episode: its own time at shared time T is T + shift[i]. Failure alignment puts every failure
  // at the latest failure time, so nobody's playback starts before 0 at T = 0.
  function shifts() {
    if (state.align !== 'failure') return episodes.map(() => 0);
    const f = episodes.map((e) => (e.failure_time_s ?? 0) * NS);
    const latest = Math.max(...f);
    return f.map((x) => x - latest);
  }

  // ---------- DOM ----------
  root.classList.add('replay', 'replay-compare');
  root.dataset.state = 'loading';
  const toolbar = el('div', 'replay-toolbar');
  toolbar.setAttribute('role', 'toolbar');
  toolbar.setAttribute('aria-label', 'Compare controls');
  const playBtn = button('▶', 'Play (space)', togglePlay, { 'data-replay-play': '' });
  const timeOut = el('output', 'replay-time', '0.000 s');
  timeOut.setAttribute('data-replay-time', '');
  const alignBtn = button(
    '',
    'Align at failure times',
    () => setAlign(state.align === 'failure' ? 'start' : 'failure'),
    {
      'data-compare-align': '',
    },
  );
  if (!canFailure) {
    alignBtn.disabled = true;
    alignBtn.title = 'Align at failure times (only when every episode has a failure time)';
  }
  const copyBtn = button('Copy link at this moment', 'Copy link at this moment', copyLink, {
    'data-replay-copy': '',
  });
  const note = el('span', 'replay-note');
  note.setAttribute('role', 'status');
  toolbar.append(playBtn, timeOut, alignBtn, copyBtn, note);
  const media = el('div', 'compare-media');
  const videos = episodes.map((e, i) => {
    const fig = el('figure', 'compare-video');
    fig.dataset.colour = String(i);
    const cap = el('figcaption', 'small', e.name);
    cap.style.setProperty('--swatch', COLOURS[i]);
    if (!e.video_url) {
      fig.append(el('p', 'muted small', 'No video'), cap);
      media.append(fig);
      return null;
    }
    const v = document.createElement('video');
    v.preload = 'metadata';
    v.muted = true;
    v.playsInline = true;
    v.src = e.video_url;
    v.setAttribute('aria-label', `Video of ${e.name}`);
    fig.append(v, cap);
    media.append(fig);
    return v;
  });
  const warningsBox = el('div', 'replay-warnings');
  warningsBox.setAttribute('role', 'note');
  warningsBox.hidden = true;
  const axis = el('canvas', 'replay-axis');
  axis.setAttribute('role', 'slider');
  axis.setAttribute('aria-label', 'Time axis: drag to scrub');
  axis.tabIndex = 0;
  const lanesBox = el('div', 'replay-lanes');
  root.replaceChildren(toolbar, media, warningsBox, axis, lanesBox);
  for (const [i] of episodes.entries()) root.style.setProperty(`--compare-${i}`, COLOURS[i]);

  // ---------- time ----------
  const width = (c) => c.clientWidth || 600;
  const xOf = (ns, w) => ((ns - state.view.from) / (state.view.to - state.view.from)) * w;
  const nsAt = (px, w) => state.view.from + (px / w) * (state.view.to - state.view.from);

  function recomputeExtent() {
    const sh = shifts();
    let end = NS;
    episodes.forEach((e, i) => {
      let own = (e.duration_s ?? 0) * NS;
      for (const t of state.lists[i]?.tracks ?? []) if (t.t_end_ns !== null) own = Math.max(own, t.t_end_ns);
      end = Math.max(end, own - sh[i]);
    });
    state.extent = end;
    state.view = { from: 0, to: end };
  }
  function setAlign(mode) {
    state.align = mode;
    alignBtn.textContent = mode === 'failure' ? 'Aligned at failures' : 'Aligned at starts';
    alignBtn.setAttribute('aria-pressed', String(mode === 'failure'));
    root.dataset.align = mode;
    recomputeExtent();
    // Aligned at failures, the shared failure moment is the latest failure time: the playhead goes there.
    seek(mode === 'failure' ? Math.max(...episodes.map((e) => (e.failure_time_s ?? 0) * NS)) : state.cursor);
    refetch();
  }
  function seek(ns) {
    state.cursor = clamp(ns, 0, state.extent);
    const sh = shifts();
    videos.forEach((v, i) => {
      if (v && Number.isFinite(v.duration)) v.currentTime = clamp((state.cursor + sh[i]) / NS, 0, v.duration);
    });
    drawOverlays();
  }
  function togglePlay() {
    state.playing = !state.playing;
    state.clockStart = performance.now() - state.cursor / 1e6;
    const sh = shifts();
    videos.forEach((v, i) => {
      if (!v) return;
      if (state.playing && state.cursor + sh[i] >= 0) v.play().catch(() => {});
      else v.pause();
    });
    playBtn.textContent = state.playing ? '❚❚' : '▶';
    playBtn.setAttribute('aria-label', state.playing ? 'Pause (space)' : 'Play (space)');
    root.dataset.playing = String(state.playing);
    if (state.playing) requestAnimationFrame(tick);
  }
  function tick() {
    if (!state.playing) return;
    // The shared clock drives every video (they may start at different shared times when aligned at failures).
    state.cursor = (performance.now() - state.clockStart) * 1e6;
    const sh = shifts();
    videos.forEach((v, i) => {
      if (v?.paused && state.cursor + sh[i] >= 0 && state.cursor + sh[i] < (v.duration || 0) * NS)
        v.play().catch(() => {});
    });
    if (state.cursor >= state.extent) {
      state.cursor = state.extent;
      togglePlay();
    }
    drawOverlays();
    if (state.playing) requestAnimationFrame(tick);
  }
  function copyLink() {
    const url = new URL(location.href);
    url.searchParams.set('t', String(Math.round(state.cursor / 1e6)));
    if (state.align === 'failure') url.searchParams.set('align', 'failure');
    else url.searchParams.delete('align');
    root.dataset.copiedLink = url.toString();
    navigator.clipboard?.writeText(url.toString()).then(
      () => (note.textContent = 'Link copied'),
      () => (note.textContent = url.toString()),
    );
  }

  // ---------- lanes ----------
  function makeLane(name) {
    const section = el('section', 'replay-lane');
    section.setAttribute('aria-label', name);
    section.dataset.track = name;
    const head = el('div', 'replay-lane-head');
    head.append(el('span', 'replay-lane-name', name));
    const readout = el('span', 'replay-readout muted small');
    head.append(readout);
    const canvas = el('canvas', 'replay-canvas');
    canvas.addEventListener('click', (ev) => seek(nsAt(ev.offsetX, width(canvas))));
    section.append(head, canvas);
    lanesBox.append(section);
    return { name, el: section, canvas, readout, data: episodes.map(() => null), pending: 0 };
  }
  async function fetchLane(lane) {
    const sh = shifts();
    const points = clamp(Math.round(width(lane.canvas)), 2, MAX_POINTS);
    lane.pending++;
    const mine = lane.pending;
    const answers = await Promise.all(
      episodes.map(async (e, i) => {
        const track = state.lists[i]?.tracks.find((t) => t.name === lane.name);
        if (!track) return null;
        const from = Math.max(0, Math.floor(state.view.from + sh[i]));
        const to = Math.max(from, Math.ceil(state.view.to + sh[i]));
        const qs = new URLSearchParams({ from_ns: String(from), to_ns: String(to), points: String(points) });
        try {
          const res = await fetch(
            `/api/episodes/${encodeURIComponent(e.id)}/tracks/${encodeURIComponent(lane.name)}?${qs}`,
            { credentials: 'same-origin' },
          );
          if (!res.ok) throw new Error(`HTTP ${res.status}`);
          return { shift: sh[i], window: await res.json() };
        } catch (err) {
          return { shift: sh[i], error: err.message };
        }
      }),
    );
    if (mine !== lane.pending) return; // a newer view asked again
    lane.data = answers;
    const failed = answers.filter((a) => a?.error);
    lane.readout.textContent = failed.length ? `Could not load for ${failed.length} episode(s)` : '';
    paintLane(lane);
    lane.el.dataset.drawn = failed.length === answers.filter(Boolean).length ? 'error' : 'true';
    maybeReady();
  }
  function refetch() {
    for (const l of state.lanes) fetchLane(l);
    drawAxis();
  }

  // ---------- drawing ----------
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
  function drawLane(lane) {
    const { ctx, w, h } = fit(lane.canvas);
    ctx.clearRect(0, 0, w, h);
    let lo = Infinity;
    let hi = -Infinity;
    for (const a of lane.data)
      for (const s of a?.window?.series ?? []) {
        for (const v of s.min) if (v !== null && v < lo) lo = v;
        for (const v of s.max) if (v !== null && v > hi) hi = v;
      }
    if (!Number.isFinite(lo)) [lo, hi] = [-1, 1];
    if (lo === hi) [lo, hi] = [lo - 1, hi + 1];
    const y = (v) => h - 4 - ((v - lo) / (hi - lo)) * (h - 8);
    lane.data.forEach((a, i) => {
      if (!a?.window) return;
      const t = a.window.t_ns;
      ctx.strokeStyle = COLOURS[i];
      ctx.lineWidth = 1.25;
      a.window.series.forEach((s, c) => {
        ctx.globalAlpha = c === 0 ? 1 : 0.55; // one colour per episode; its further columns fainter
        ctx.beginPath();
        let pen = false;
        for (let k = 0; k < t.length; k++) {
          if (s.min[k] === null || s.max[k] === null) {
            pen = false;
            continue;
          }
          const x = xOf(t[k] - a.shift, w);
          if (pen) ctx.lineTo(x, y(s.min[k]));
          else ctx.moveTo(x, y(s.min[k]));
          if (s.max[k] !== s.min[k]) ctx.lineTo(x, y(s.max[k]));
          pen = true;
        }
        ctx.stroke();
      });
    });
    ctx.globalAlpha = 1;
    lane.el.dataset.episodes = String(lane.data.filter((a) => a?.window).length);
  }
  function drawAxis() {
    const { ctx, w, h } = fit(axis);
    ctx.clearRect(0, 0, w, h);
    ctx.fillStyle = getComputedStyle(root).color || '#333';
    ctx.font = '11px system-ui, sans-serif';
    const span = state.view.to - state.view.from;
    const step = [0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300].find((s) => (span / NS / s) * 60 < w) ?? 600;
    for (let s = Math.ceil(state.view.from / NS / step) * step; s * NS <= state.view.to; s += step) {
      const x = xOf(s * NS, w);
      ctx.fillRect(x, h - 6, 1, 6);
      ctx.fillText(`${+s.toFixed(1)} s`, x + 2, h - 8);
    }
    const sh = shifts();
    episodes.forEach((e, i) => {
      if (e.failure_time_s === null) return;
      ctx.fillStyle = COLOURS[i];
      ctx.fillRect(xOf(e.failure_time_s * NS - sh[i], w) - 1, 0, 2, h);
    });
  }
  function drawOverlays() {
    timeOut.textContent = `${(state.cursor / NS).toFixed(3)} s`;
    root.dataset.cursorNs = String(Math.round(state.cursor));
    axis.setAttribute('aria-valuenow', String(Math.round(state.cursor / 1e6)));
    drawAxis();
    const { ctx, w, h } = fit(axis);
    ctx.fillStyle = '#111';
    ctx.fillRect(xOf(state.cursor, w) - 1, 0, 2, h);
    for (const lane of state.lanes) paintLane(lane);
  }
  /** A lane's data and the playhead over it (a late answer must not wipe the playhead). */
  function paintLane(lane) {
    drawLane(lane);
    const c = fit(lane.canvas);
    c.ctx.fillStyle = getComputedStyle(root).color || '#111';
    c.ctx.fillRect(xOf(state.cursor, c.w) - 1, 0, 2, c.h);
  }
  let scrubbing = false;
  axis.addEventListener('pointerdown', (ev) => {
    scrubbing = true;
    axis.setPointerCapture(ev.pointerId);
    seek(nsAt(ev.offsetX, width(axis)));
  });
  axis.addEventListener('pointermove', (ev) => scrubbing && seek(nsAt(ev.offsetX, width(axis))));
  axis.addEventListener('pointerup', () => {
    scrubbing = false;
  });
  root.addEventListener('keydown', (ev) => {
    if (ev.target instanceof HTMLButtonElement && ev.key === ' ') return;
    const fps = episodes.find((e) => e.fps)?.fps || 30;
    const step = ev.shiftKey ? NS : NS / fps;
    if (ev.key === ' ') togglePlay();
    else if (ev.key === 'ArrowLeft') seek(state.cursor - step);
    else if (ev.key === 'ArrowRight') seek(state.cursor + step);
    else return;
    ev.preventDefault();
  });
  function maybeReady() {
    if (root.dataset.state === 'ready') return;
    if (state.lanes.every((l) => l.el.dataset.drawn)) {
      root.dataset.state = 'ready';
      // The benchmark's first paint: from navigation start to every lane drawn.
      root.dataset.readyMs = String(Math.round(performance.now()));
    }
  }

  async function start() {
    state.lists = await Promise.all(
      episodes.map(async (e) => {
        try {
          const res = await fetch(`/api/episodes/${encodeURIComponent(e.id)}/tracks`, {
            credentials: 'same-origin',
          });
          if (!res.ok) throw new Error(`HTTP ${res.status}`);
          return await res.json();
        } catch (err) {
          return { tracks: [], warnings: [`${e.name}: tracks could not be loaded (${err.message})`] };
        }
      }),
    );
    const warnings = state.lists.flatMap((l, i) => l.warnings.map((w) => `${episodes[i].name}: ${w}`));
    if (warnings.length) {
      warningsBox.hidden = false;
      warningsBox.append(el('strong', '', 'Problems found in the track files'));
      const ul = el('ul');
      for (const w of warnings) ul.append(el('li', '', w));
      warningsBox.append(ul);
    }
    // One lane per track name, in the first episode's order, then names only later episodes have.
    const names = [];
    for (const l of state.lists) for (const t of l.tracks) if (!names.includes(t.name)) names.push(t.name);
    state.lanes = names.map(makeLane);
    if (!names.length)
      lanesBox.append(el('p', 'muted', 'None of these episodes has sensor or action tracks.'));
    setAlign(state.align);
    const t = params.get('t');
    if (t !== null && /^\d+(\.\d+)?$/.test(t)) state.cursor = Number(t) * 1e6;
    for (const v of videos) v?.addEventListener('loadedmetadata', () => seek(state.cursor));
    seek(state.cursor);
    maybeReady();
  }
  new ResizeObserver(() => drawOverlays()).observe(lanesBox);
  start();
})();
