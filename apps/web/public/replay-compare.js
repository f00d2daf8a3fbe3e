// RoboTrace compare: 2–4 episodes on one synchronized timeline. Loaded by replay.js on /portal/compare.
// Mounted on <div data-replay-compare data-episodes='[{id,name,fps,duration_s,failure_time_s,video_url}]'>.
// Aligned at the episodes' starts, or at their failure times (a toggle, when all of them failed): the shared
// time T maps to each episode's own time T + shift[i]. One playhead over every lane; the same track of each
// episode is overlaid in that episode's colour. ?t=<ms>&align=failure open the page at a moment; "Copy link"
// writes it. Text from the server only ever goes through textContent (CSP: no inline script or style).
// An episode with a trace (`trace: true`) gets its span lane (span-lane.js) on the same shared axis, laid out on
// that episode's own timeline and shifted like its video and tracks; the "Spans" toggle shows or hides them all.
// The axis, canvas sizing and series drawing are replay-timeline.js's, shared with the episode player.
(() => {
  const TL = window.RoboTraceTimeline;
  const NS = 1e9;
  const COLOURS = ['#3b82f6', '#ef4444', '#10b981', '#f59e0b'];
  const MAX_POINTS = 2000;
  const root = document.querySelector('[data-replay-compare]');
  if (!root || root.dataset.mounted || !TL) return;
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
    spanLanes: [], // { index, el, host, ctl } per episode with a trace
    showSpans: params.get('spans') !== 'off',
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
  const traced = episodes.some((e) => e.trace);
  const spansBtn = button(
    'Spans',
    'Show the span lane of each episode with a trace',
    () => setSpans(!state.showSpans),
    {
      'data-compare-spans': '',
    },
  );
  if (!traced) {
    spansBtn.disabled = true;
    spansBtn.title = 'Spans (none of these episodes has a trace, or no trace source is configured)';
  }
  toolbar.append(playBtn, timeOut, alignBtn, spansBtn, copyBtn, note);
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
  const spansBox = el('div', 'replay-lanes compare-span-lanes');
  const lanesBox = el('div', 'replay-lanes');
  root.replaceChildren(toolbar, media, warningsBox, axis, spansBox, lanesBox);
  for (const [i] of episodes.entries()) root.style.setProperty(`--compare-${i}`, COLOURS[i]);

  // ---------- time ----------
  const width = TL.width;
  const xOf = (ns, w) => TL.xOf(ns, state.view, w);
  const nsAt = (px, w) => TL.nsAt(px, state.view, w);

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
    if (state.showSpans) url.searchParams.delete('spans');
    else url.searchParams.set('spans', 'off');
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
    syncSpans();
  }

  // ---------- drawing ----------
  const fit = TL.fit;
  function drawLane(lane) {
    const { ctx, w, h } = fit(lane.canvas);
    ctx.clearRect(0, 0, w, h);
    const [lo, hi] = TL.yRange(lane.data.map((a) => a?.window));
    const y = (v) => h - 4 - ((v - lo) / (hi - lo)) * (h - 8);
    lane.data.forEach((a, i) => {
      if (!a?.window) return;
      const t = a.window.t_ns;
      ctx.strokeStyle = COLOURS[i];
      ctx.lineWidth = 1.25;
      a.window.series.forEach((s, c) => {
        ctx.globalAlpha = c === 0 ? 1 : 0.55; // one colour per episode; its further columns fainter
        TL.strokeSeries(ctx, t, s, (ns) => xOf(ns - a.shift, w), y);
      });
    });
    ctx.globalAlpha = 1;
    lane.el.dataset.episodes = String(lane.data.filter((a) => a?.window).length);
  }
  function drawAxis() {
    const { ctx, w, h } = TL.drawAxis(axis, state.view, getComputedStyle(root).color || '#333');
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
    const sh = shifts();
    for (const s of state.spanLanes) s.ctl?.setPlayhead(state.cursor + sh[s.index]);
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
  // ---------- span lanes: each traced episode's spans, on its own timeline, shifted like its video ----------
  function makeSpanLane(e, index) {
    const section = el('section', 'replay-lane replay-span-lane');
    section.setAttribute('role', 'region');
    section.setAttribute('aria-label', `Spans of ${e.name}`);
    section.dataset.spansOf = e.id;
    const head = el('div', 'replay-lane-head');
    const name = el('span', 'replay-lane-name compare-span-name', `Spans · ${e.name}`);
    name.style.setProperty('--swatch', COLOURS[index]);
    head.append(name);
    const host = el('div', 'replay-span-host');
    host.setAttribute('data-span-lane', '');
    host.append(el('p', 'muted small', 'Asking the trace backend…'));
    section.append(head, host);
    spansBox.append(section);
    const lane = { index, el: section, host, ctl: null };
    loadSpans(e, lane);
    return lane;
  }
  async function loadSpans(e, lane) {
    let trace;
    try {
      const res = await fetch(`/api/episodes/${encodeURIComponent(e.id)}/trace`, {
        headers: { accept: 'application/json' },
        credentials: 'same-origin',
      });
      trace = await res.json();
      if (!res.ok) throw new Error(trace?.error || `HTTP ${res.status}`);
    } catch (err) {
      trace = { status: 'unavailable', reason: `could not ask the server (${err.message})`, spans: [] };
    }
    const origin = trace.alignment ? trace.alignment.start_unix_ns : undefined;
    const onTimeline = (ns) => (origin ? Number(BigInt(ns) - BigInt(origin)) : 0);
    lane.ctl = window.RoboTraceSpanLane.mount(lane.host, {
      trace,
      originNs: origin,
      window: trace.window
        ? { fromNs: onTimeline(trace.window.start_unix_ns), toNs: onTimeline(trace.window.end_unix_ns) }
        : null,
      highlightSpanId: trace.span_id,
      alignment: trace.alignment,
      // A span's start is on its episode's own timeline: the shared time is that minus the episode's shift.
      onSeek: (tNs) => seek(tNs - shifts()[lane.index]),
      hostAxis: true,
      labelWidth: 0,
    });
    lane.el.dataset.drawn = 'true';
    syncSpans();
    maybeReady();
  }
  function syncSpans() {
    const sh = shifts();
    for (const s of state.spanLanes) {
      s.ctl?.setView(state.view.from + sh[s.index], state.view.to + sh[s.index]);
      s.ctl?.setPlayhead(state.cursor + sh[s.index]);
    }
  }
  function setSpans(on) {
    state.showSpans = on && traced;
    spansBtn.setAttribute('aria-pressed', String(state.showSpans));
    spansBtn.textContent = state.showSpans ? 'Spans: shown' : 'Spans: hidden';
    spansBox.hidden = !state.showSpans;
    root.dataset.spans = state.showSpans ? 'shown' : 'hidden';
    // Lanes are made (and their traces asked for) the first time they are shown.
    if (state.showSpans && state.spanLanes.length === 0)
      state.spanLanes = episodes.map((e, i) => (e.trace ? makeSpanLane(e, i) : null)).filter(Boolean);
    syncSpans();
  }

  function maybeReady() {
    if (root.dataset.state === 'ready') return;
    if (state.lanes.every((l) => l.el.dataset.drawn) && state.spanLanes.every((l) => l.el.dataset.drawn)) {
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
    setSpans(state.showSpans);
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
