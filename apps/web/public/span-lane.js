// RoboTrace span lane: a trace's spans as a waterfall on an episode's timeline (issue 15).
// window.RoboTraceSpanLane.mount(el, options) draws one lane and returns its controller; the page parts below
// mount it on their own: [data-trace-card] (the Tracing card: its [data-trace-status] line; the answer is handed to
// the replay timeline, which draws the lane on its own axis — see replay.js) and [data-trace-waterfall] (the trace
// page: the whole trace).
// CSP: loaded with the page's nonce; nothing is built from HTML strings (every text from the server or the trace
// backend goes through textContent), styles are set through the CSSOM, links are made only from http(s) URLs.
(() => {
  const ROW_H = 20;
  const PALETTE = ['#3b82f6', '#10b981', '#f59e0b', '#8b5cf6', '#ec4899', '#14b8a6', '#84cc16', '#f97316'];
  const ERROR = '#dc2626';
  const script = document.currentScript;

  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  };
  const button = (label, title, onClick, cls = 'span-lane-btn') => {
    const b = el('button', cls, label);
    b.type = 'button';
    b.title = title;
    b.addEventListener('click', onClick);
    return b;
  };
  const isHttp = (v) => typeof v === 'string' && /^https?:\/\/[^/\\\s]/i.test(v);

  function fmtDuration(ns) {
    const a = Math.abs(ns);
    if (a >= 1e9) return `${(ns / 1e9).toFixed(a >= 1e10 ? 1 : 3)} s`;
    if (a >= 1e6) return `${(ns / 1e6).toFixed(a >= 1e7 ? 1 : 2)} ms`;
    if (a >= 1e3) return `${(ns / 1e3).toFixed(1)} µs`;
    return `${Math.round(ns)} ns`;
  }
  const fmtT = (ns) => `${(ns / 1e9).toFixed(3)} s`;

  function ensureStyles() {
    if (!script || document.querySelector('link[data-span-lane-css]')) return;
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    // The page names the stylesheet's versioned URL; a host page that does not falls back to the sibling file.
    link.href =
      script.dataset.css ||
      new URL(script.src, location.href).pathname.replace(/span-lane\.js$/, 'span-lane.css');
    link.setAttribute('data-span-lane-css', '');
    document.head.append(link);
  }

  /** Spans → rows in waterfall order: depth-first by parent, children by start; a span whose parent is absent is a root. */
  function buildRows(spans, originNs) {
    const origin = BigInt(originNs);
    const byId = new Map();
    const nodes = spans.map((s, i) => {
      const n = {
        span: s,
        index: i,
        start: Number(BigInt(s.start_unix_ns) - origin),
        end: Number(BigInt(s.end_unix_ns) - origin),
        events: (s.events || []).map((e) => Number(BigInt(e.time_unix_ns) - origin)),
        children: [],
        depth: 0,
      };
      if (!byId.has(s.span_id)) byId.set(s.span_id, n);
      return n;
    });
    const roots = [];
    for (const n of nodes) {
      const parent = n.span.parent_span_id ? byId.get(n.span.parent_span_id) : undefined;
      if (parent && parent !== n) parent.children.push(n);
      else roots.push(n);
    }
    const byStart = (a, b) => a.start - b.start || a.index - b.index;
    roots.sort(byStart);
    const rows = [];
    const seen = new Set();
    const stack = roots.slice().reverse();
    while (stack.length > 0) {
      const n = stack.pop();
      if (seen.has(n)) continue; // a cycle in untrusted parent ids
      seen.add(n);
      rows.push(n);
      n.children.sort(byStart);
      for (let i = n.children.length - 1; i >= 0; i--) {
        n.children[i].depth = n.depth + 1;
        stack.push(n.children[i]);
      }
    }
    // Spans only reachable through a cycle are still drawn, as roots.
    for (const n of nodes) if (!seen.has(n)) rows.push(n);
    return rows;
  }

  function statusLine(trace) {
    const source = trace.source ? ` (${trace.source})` : '';
    if (trace.status === 'found') {
      const n = trace.spans.length;
      return trace.truncated
        ? `${n} of ${trace.total_spans} spans${source}: truncated, showing the first ${n} by start time`
        : `${n} span${n === 1 ? '' : 's'}${source}`;
    }
    if (trace.status === 'not_found') return `trace not found${source}: ${trace.reason || ''}`.trim();
    if (trace.status === 'unavailable') return `trace unavailable: ${trace.reason || 'unknown reason'}`;
    return trace.reason || 'no trace source is configured (ROBOTRACE_TRACE_SOURCE)';
  }

  /**
   * Draws one lane into `host`. Options (times are ns on the episode's timeline, 0 = the episode start):
   *   trace        the API answer ({status, reason, source, spans, truncated, total_spans})
   *   originNs     Unix ns (string) of timeline 0 on the spans' clock (default: the earliest span)
   *   window       {fromNs, toNs}: the episode's own span of time; spans outside it are dimmed
   *   highlightSpanId  the episode's own span
   *   links        [{name, url}] resolved with `linkMarker` in place of the span id ("Open in <APM>")
   *   alignment    {anchor, note, offset_ms}; with onShift the lane offers the user's shift
   *   episodes     [{id, name, fromNs, toNs}]: bars over each episode's window (the trace page); onEpisode(ep, tNs)
   *   onSeek(tNs, span)   a span was clicked (also the `spanlane:seek` event, detail {t_ns, span_id})
   *   hostAxis     true: the host owns the view (setView); the lane shows no zoom controls of its own
   *   labelWidth   px of the span-name column left of the bars (default: 30 % of the width, 120–260 px); a host
   *                whose other lanes use the full width passes 0: names are then written over the bars' left edge
   * Returns {setPlayhead(tNs), setView(fromNs, toNs), view(), select(spanId), destroy()}.
   */
  function mount(host, options) {
    ensureStyles();
    const o = options || {};
    const trace = o.trace || { status: 'not_configured', spans: [] };
    const t0 = performance.now();
    const spans = Array.isArray(trace.spans) ? trace.spans : [];
    let originNs = o.originNs;
    if (originNs === undefined || originNs === null) {
      originNs = spans.length > 0 ? spans[0].start_unix_ns : '0';
      for (const s of spans) if (BigInt(s.start_unix_ns) < BigInt(originNs)) originNs = s.start_unix_ns;
    }
    const rows = buildRows(spans, originNs);
    const fixedLabel =
      typeof o.labelWidth === 'number' && Number.isFinite(o.labelWidth) ? Math.max(0, o.labelWidth) : null;
    const win = o.window || null;
    const services = [];
    for (const r of rows) if (!services.includes(r.span.service)) services.push(r.span.service);
    const colourOf = (service) => PALETTE[services.indexOf(service) % PALETTE.length];

    let extentFrom = win ? win.fromNs : Infinity;
    let extentTo = win ? win.toNs : -Infinity;
    for (const r of rows) {
      if (r.start < extentFrom) extentFrom = r.start;
      if (r.end > extentTo) extentTo = r.end;
    }
    if (!Number.isFinite(extentFrom)) extentFrom = 0;
    if (!Number.isFinite(extentTo) || extentTo <= extentFrom) extentTo = extentFrom + 1e9;
    const episodeView = () => {
      if (!win) return { from: extentFrom, to: extentTo };
      const pad = Math.max((win.toNs - win.fromNs) * 0.05, 1e6);
      return { from: win.fromNs - pad, to: Math.max(win.toNs, win.fromNs + 1e6) + pad };
    };
    let view = episodeView();
    let playhead = null;
    let selected = -1;
    let active = new Set();
    let frame = 0;

    host.replaceChildren();
    host.classList.add('span-lane');
    host.dataset.status = trace.status;
    const head = el('div', 'span-lane-head');
    const status = el('p', 'span-lane-status', statusLine(trace));
    status.setAttribute('role', 'status');
    status.setAttribute('data-span-lane-status', '');
    head.append(status);
    if (o.alignment) {
      const note = el('p', 'span-lane-note muted small', `Alignment: ${o.alignment.note}`);
      note.setAttribute('data-span-lane-anchor', o.alignment.anchor);
      head.append(note);
      if (typeof o.onShift === 'function') {
        const label = el('label', 'span-lane-shift small', 'Shift spans (ms) ');
        const input = el('input');
        input.type = 'number';
        input.step = '1';
        input.value = String(o.alignment.offset_ms || 0);
        input.setAttribute('data-span-lane-shift', '');
        input.addEventListener('change', () => {
          const ms = Number(input.value);
          if (Number.isFinite(ms)) o.onShift(ms);
        });
        label.append(input);
        head.append(label);
      }
    }
    host.append(head);
    if (trace.status !== 'found' || rows.length === 0) {
      host.dataset.drawn = 'true';
      return {
        setPlayhead() {},
        setView() {},
        view: () => view,
        select() {},
        destroy: () => host.replaceChildren(),
      };
    }

    const tools = el('div', 'span-lane-tools');
    tools.setAttribute('role', 'toolbar');
    tools.setAttribute('aria-label', 'Span lane view');
    if (!o.hostAxis) {
      if (win)
        tools.append(
          button('Episode window', "Show the episode's own window", () =>
            setView(episodeView().from, episodeView().to),
          ),
        );
      tools.append(
        button('Widen', 'Widen the window (3×)', () => {
          const c = (view.from + view.to) / 2;
          const half = ((view.to - view.from) * 3) / 2;
          setView(c - half, c + half);
        }),
        button('Whole trace', 'Show every span of the trace', () => setView(extentFrom, extentTo)),
      );
    }
    const legend = el('ul', 'span-lane-legend');
    legend.setAttribute('aria-label', 'Services');
    for (const s of services) {
      const li = el('li', 'span-lane-service');
      const sw = el('span', 'span-lane-swatch');
      sw.style.background = colourOf(s);
      li.append(sw, document.createTextNode(s));
      legend.append(li);
    }
    tools.append(legend);
    host.append(tools);

    let band = null;
    const bandButtons = [];
    if (Array.isArray(o.episodes) && o.episodes.length > 0) {
      band = el('div', 'span-lane-episodes');
      band.setAttribute('aria-label', 'Episodes of this trace');
      for (const ep of o.episodes) {
        const b = el('button', 'span-lane-episode', ep.name || 'Unnamed episode');
        b.type = 'button';
        b.setAttribute('aria-label', `Episode ${ep.name || ep.id}`);
        b.dataset.episodeId = ep.id;
        b.title = `${ep.name || ep.id}: open the episode at the moment you click`;
        b.addEventListener('click', (e) => {
          const rect = b.getBoundingClientRect();
          const frac = rect.width > 0 ? (e.clientX - rect.left) / rect.width : 0;
          const fromNs = Math.max(ep.fromNs, view.from);
          const toNs = Math.min(ep.toNs, view.to);
          const t = Math.max(0, fromNs + frac * Math.max(0, toNs - fromNs) - ep.fromNs);
          if (typeof o.onEpisode === 'function') o.onEpisode(ep, t);
        });
        bandButtons.push({ ep, b });
        band.append(b);
      }
      host.append(band);
    }

    const axis = el('canvas', 'span-lane-axis');
    axis.setAttribute('aria-hidden', 'true');
    // A host with its own time axis (the replay timeline) shows that one: a second axis would only repeat it.
    axis.hidden = Boolean(o.hostAxis);
    if (o.hostAxis) host.classList.add('span-lane-hosted');
    const scroller = el('div', 'span-lane-scroll');
    const canvas = el('canvas', 'span-lane-canvas');
    canvas.setAttribute('aria-hidden', 'true');
    const list = el('div', 'span-lane-rows');
    list.setAttribute('role', 'group');
    list.setAttribute('aria-label', `Spans (${rows.length})`);
    list.style.height = `${rows.length * ROW_H}px`;
    // Virtualised: only the rows in view (plus a margin, plus the focused one) are elements, so a trace of
    // thousands of spans costs the DOM a few dozen rows. Each rendered row is a button labelled with its span name.
    const OVERSCAN = 30;
    const rowEls = new Map();
    let focusIndex = 0;
    let rendered = '';
    const makeRow = (i) => {
      const r = rows[i];
      const item = el('div', 'span-lane-row');
      item.setAttribute('role', 'button');
      item.setAttribute('aria-label', r.span.name);
      item.dataset.index = String(i);
      item.dataset.spanId = r.span.span_id;
      item.style.top = `${i * ROW_H}px`;
      if (r.span.status && r.span.status.code === 'error') item.dataset.error = 'true';
      if (r.span.span_id === o.highlightSpanId) item.dataset.own = 'true';
      if (win && (r.end < win.fromNs || r.start > win.toNs)) item.dataset.outside = 'true';
      const name = el('span', 'span-lane-name', r.span.name);
      name.style.paddingLeft = `${4 + Math.min(r.depth, 30) * 10}px`;
      if (fixedLabel !== null) {
        name.style.width = fixedLabel > 0 ? `${fixedLabel}px` : 'auto';
        name.style.minWidth = '0';
        if (fixedLabel === 0) name.classList.add('span-lane-name-over');
      }
      item.append(name);
      return item;
    };
    function renderRows() {
      const viewH = scroller.clientHeight || 420;
      const first = Math.max(0, Math.floor(scroller.scrollTop / ROW_H) - OVERSCAN);
      const last = Math.min(rows.length, Math.ceil((scroller.scrollTop + viewH) / ROW_H) + OVERSCAN);
      const key = `${first}:${last}:${focusIndex}`;
      if (key === rendered) return;
      rendered = key;
      const wanted = [];
      if (focusIndex < first) wanted.push(focusIndex);
      for (let i = first; i < last; i++) wanted.push(i);
      if (focusIndex >= last) wanted.push(focusIndex);
      const keep = new Set(wanted);
      for (const [i, item] of rowEls)
        if (!keep.has(i)) {
          rowEls.delete(i);
          item.remove();
        }
      const ordered = wanted.map((i) => {
        let item = rowEls.get(i);
        if (!item) {
          item = makeRow(i);
          rowEls.set(i, item);
        }
        item.tabIndex = i === focusIndex ? 0 : -1;
        if (active.has(i)) item.dataset.active = 'true';
        else delete item.dataset.active;
        if (i === selected) item.dataset.selected = 'true';
        else delete item.dataset.selected;
        return item;
      });
      list.replaceChildren(...ordered);
    }
    list.addEventListener('click', (e) => {
      const item = e.target.closest('.span-lane-row');
      if (item) select(Number(item.dataset.index), true);
    });
    list.addEventListener('keydown', (e) => {
      const item = e.target.closest('.span-lane-row');
      if (!item) return;
      const i = Number(item.dataset.index);
      let next = -1;
      if (e.key === 'ArrowDown') next = Math.min(rows.length - 1, i + 1);
      else if (e.key === 'ArrowUp') next = Math.max(0, i - 1);
      else if (e.key === 'Home') next = 0;
      else if (e.key === 'End') next = rows.length - 1;
      else if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        select(i, true);
        return;
      } else return;
      e.preventDefault();
      focusIndex = next;
      const top = next * ROW_H;
      if (top < scroller.scrollTop) scroller.scrollTop = top;
      else if (top + ROW_H > scroller.scrollTop + scroller.clientHeight)
        scroller.scrollTop = top + ROW_H - scroller.clientHeight;
      renderRows();
      rowEls.get(next)?.focus();
    });
    scroller.append(list);
    // The canvas lies under the scrolling rows (transparent buttons) and draws only the rows in view.
    const body = el('div', 'span-lane-body');
    body.append(canvas, scroller);
    const details = el('aside', 'span-lane-details');
    details.setAttribute('aria-label', 'Span details');
    details.hidden = true;
    host.append(axis, body, details);
    const sub = (s) => el('p', 'span-lane-note muted small', s);
    if (trace.truncated)
      host.append(
        sub(
          `Truncated: the backend has ${trace.total_spans} spans; the first ${rows.length} by start time are shown.`,
        ),
      );

    const labelW = () =>
      fixedLabel !== null ? fixedLabel : Math.min(260, Math.max(120, Math.round(scroller.clientWidth * 0.3)));
    const xOf = (ns, w, lw) => lw + ((ns - view.from) / (view.to - view.from)) * (w - lw);

    function fit(c, h) {
      const dpr = window.devicePixelRatio || 1;
      const w = Math.max(1, scroller.clientWidth);
      c.style.width = `${w}px`;
      c.style.height = `${h}px`;
      if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
        c.width = Math.round(w * dpr);
        c.height = Math.round(h * dpr);
      }
      const ctx = c.getContext('2d');
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, w, h);
      return { ctx, w };
    }
    const css = (name, fallback) => getComputedStyle(host).getPropertyValue(name).trim() || fallback;

    function drawAxis() {
      const { ctx, w } = fit(axis, 22);
      const lw = labelW();
      const span = view.to - view.from;
      const raw = span / Math.max(1, (w - lw) / 90);
      const pow = 10 ** Math.floor(Math.log10(raw));
      const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw) || pow * 10;
      ctx.fillStyle = css('--muted', '#5d6472');
      ctx.font = '11px system-ui, sans-serif';
      ctx.textBaseline = 'middle';
      for (let t = Math.ceil(view.from / step) * step; t <= view.to; t += step) {
        const x = xOf(t, w, lw);
        ctx.fillRect(x, 14, 1, 8);
        ctx.fillText(fmtT(t), x + 3, 8);
      }
      if (playhead !== null) {
        ctx.fillStyle = css('--accent', '#4f46e5');
        ctx.fillRect(xOf(playhead, w, lw) - 1, 0, 2, 22);
      }
    }

    function draw() {
      frame = 0;
      const viewH = Math.min(scroller.clientHeight || 400, rows.length * ROW_H);
      const { ctx, w } = fit(canvas, viewH);
      const lw = labelW();
      const first = Math.floor(scroller.scrollTop / ROW_H);
      const last = Math.min(rows.length, first + Math.ceil(viewH / ROW_H) + 1);
      const offset = scroller.scrollTop - first * ROW_H;
      const muted = css('--surface-2', '#f1f2f5');
      const accent = css('--accent', '#4f46e5');
      if (win) {
        // Outside the episode's window: shaded, with the window's edges marked.
        ctx.fillStyle = muted;
        const a = Math.max(lw, xOf(win.fromNs, w, lw));
        const b = Math.min(w, xOf(win.toNs, w, lw));
        if (a > lw) ctx.fillRect(lw, 0, a - lw, viewH);
        if (b < w) ctx.fillRect(Math.max(lw, b), 0, w - Math.max(lw, b), viewH);
        ctx.fillStyle = accent;
        if (a > lw && a < w) ctx.fillRect(a, 0, 1, viewH);
        if (b > lw && b < w) ctx.fillRect(b, 0, 1, viewH);
      }
      for (let i = first; i < last; i++) {
        const r = rows[i];
        const y = (i - first) * ROW_H - offset;
        if (i === selected) {
          ctx.fillStyle = css('--accent-soft', '#eef0ff');
          ctx.fillRect(lw, y, w - lw, ROW_H);
        }
        const x0 = Math.max(lw, xOf(r.start, w, lw));
        const x1 = Math.min(w, xOf(r.end, w, lw));
        if (x1 < lw || x0 > w) continue;
        const outside = win && (r.end < win.fromNs || r.start > win.toNs);
        const isError = r.span.status && r.span.status.code === 'error';
        ctx.globalAlpha = outside ? 0.35 : 1;
        ctx.fillStyle = colourOf(r.span.service);
        const bw = Math.max(1.5, x1 - x0);
        ctx.fillRect(x0, y + 4, bw, ROW_H - 8);
        ctx.fillStyle = 'rgba(255,255,255,0.9)';
        for (const e of r.events) {
          const ex = xOf(e, w, lw);
          if (ex >= x0 && ex <= x0 + bw) ctx.fillRect(ex, y + 3, 1, ROW_H - 6);
        }
        if (isError) {
          ctx.strokeStyle = ERROR;
          ctx.lineWidth = 2;
          ctx.strokeRect(x0, y + 3, bw, ROW_H - 6);
        }
        if (r.span.span_id === o.highlightSpanId || active.has(i)) {
          ctx.strokeStyle = r.span.span_id === o.highlightSpanId ? accent : css('--text', '#15171c');
          ctx.lineWidth = r.span.span_id === o.highlightSpanId ? 2 : 1;
          ctx.strokeRect(x0 - 1.5, y + 1.5, bw + 3, ROW_H - 3);
        }
        ctx.globalAlpha = 1;
      }
      if (playhead !== null) {
        ctx.fillStyle = accent;
        const px = xOf(playhead, w, lw);
        ctx.fillRect(px - 1, 0, 2, viewH);
        // Where the playhead is on screen (CSS px from the viewport's left): a host lines its lanes up by it.
        host.dataset.playheadX = (canvas.getBoundingClientRect().left + px).toFixed(1);
      }
      drawAxis();
      for (const { ep, b } of bandButtons) {
        const a = Math.max(lw, xOf(ep.fromNs, w, lw));
        const z = Math.min(w, xOf(ep.toNs, w, lw));
        b.hidden = z < lw || a > w;
        b.style.left = `${a}px`;
        b.style.width = `${Math.max(6, z - a)}px`;
      }
    }
    const redraw = () => {
      if (!frame) frame = requestAnimationFrame(draw);
    };

    function setView(from, to) {
      if (!(to > from)) return;
      view = { from, to };
      host.dataset.viewFromNs = String(Math.round(from));
      host.dataset.viewToNs = String(Math.round(to));
      redraw();
    }

    function setPlayhead(tNs) {
      playhead = tNs === null || tNs === undefined ? null : Number(tNs);
      const next = new Set();
      if (playhead !== null)
        for (let i = 0; i < rows.length; i++)
          if (rows[i].start <= playhead && playhead <= rows[i].end) next.add(i);
      active = next;
      for (const [i, item] of rowEls) {
        if (active.has(i)) item.dataset.active = 'true';
        else delete item.dataset.active;
      }
      host.dataset.playheadNs = playhead === null ? '' : String(Math.round(playhead));
      redraw();
    }

    function showDetails(r) {
      const s = r.span;
      details.replaceChildren();
      const title = el('h3', 'span-lane-details-title', s.name);
      const close = button(
        '×',
        'Close the span details',
        () => {
          details.hidden = true;
        },
        'span-lane-btn span-lane-close',
      );
      close.setAttribute('aria-label', 'Close the span details');
      const facts = el('dl', 'span-lane-facts');
      const fact = (k, v) => {
        const d = el('div');
        d.append(el('dt', '', k), el('dd', '', v));
        facts.append(d);
      };
      fact('service', s.service);
      fact('duration', fmtDuration(r.end - r.start));
      fact('starts at', fmtT(r.start));
      fact('status', s.status.message ? `${s.status.code}: ${s.status.message}` : s.status.code);
      fact('kind', s.kind);
      fact('span id', s.span_id);
      if (s.parent_span_id) fact('parent', s.parent_span_id);
      details.append(close, title, facts);
      const keys = Object.keys(s.attributes || {});
      if (keys.length > 0) {
        details.append(el('h4', '', 'Attributes'));
        const table = el('dl', 'span-lane-attrs');
        for (const k of keys) {
          const v = s.attributes[k];
          const dd = el('dd');
          if (isHttp(v)) {
            const a = el('a', '', v);
            a.href = v;
            a.rel = 'noopener noreferrer nofollow';
            a.target = '_blank';
            dd.append(a);
          } else dd.textContent = typeof v === 'string' ? v : JSON.stringify(v);
          const d = el('div');
          d.append(el('dt', '', k), dd);
          table.append(d);
        }
        details.append(table);
      }
      if (s.events && s.events.length > 0) {
        details.append(el('h4', '', `Events (${s.events.length})`));
        const ul = el('ul', 'span-lane-events');
        s.events.forEach((e, i) => {
          const attrs = Object.entries(e.attributes || {})
            .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
            .join(' ');
          ul.append(el('li', '', `${e.name} at ${fmtT(r.events[i])}${attrs ? ` · ${attrs}` : ''}`));
        });
        details.append(ul);
      }
      const links = (o.links || [])
        .map((l) => ({ name: l.name, url: o.linkMarker ? l.url.split(o.linkMarker).join(s.span_id) : l.url }))
        .filter((l) => isHttp(l.url));
      if (links.length > 0) {
        const p = el('p', 'span-lane-links');
        for (const l of links) {
          const a = el('a', 'button', l.name === 'Open trace' ? 'Open trace' : `Open in ${l.name}`);
          a.href = l.url;
          a.target = '_blank';
          a.rel = 'noopener noreferrer';
          p.append(a);
        }
        details.append(p);
      }
      details.hidden = false;
    }

    function select(i, seek) {
      const r = rows[i];
      if (!r) return;
      const before = rowEls.get(selected);
      if (before) delete before.dataset.selected;
      selected = i;
      const item = rowEls.get(i);
      if (item) item.dataset.selected = 'true';
      showDetails(r);
      if (seek) {
        if (typeof o.onSeek === 'function') o.onSeek(r.start, r.span);
        host.dispatchEvent(
          new CustomEvent('spanlane:seek', {
            bubbles: true,
            detail: { t_ns: r.start, span_id: r.span.span_id },
          }),
        );
      }
      redraw();
    }

    scroller.addEventListener(
      'scroll',
      () => {
        renderRows();
        redraw();
      },
      { passive: true },
    );
    const resize = new ResizeObserver(() => {
      renderRows();
      redraw();
    });
    resize.observe(scroller);
    setView(view.from, view.to);
    renderRows();
    draw();
    host.dataset.drawn = 'true';
    host.dataset.drawMs = String(Math.round(performance.now() - t0));
    host.dataset.rows = String(rows.length);
    return {
      setPlayhead,
      setView,
      view: () => ({ fromNs: view.from, toNs: view.to }),
      select: (spanId) =>
        select(
          rows.findIndex((r) => r.span.span_id === spanId),
          false,
        ),
      destroy() {
        resize.disconnect();
        if (frame) cancelAnimationFrame(frame);
        host.replaceChildren();
      },
    };
  }

  window.RoboTraceSpanLane = { mount, buildRows, statusLine, episodeTrace: null };

  // ---------- page parts ----------

  async function getJson(url) {
    const res = await fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
    const body = await res.json().catch(() => null);
    if (!res.ok || !body) throw new Error(body?.error || `HTTP ${res.status}`);
    return body;
  }
  const readLinks = (node) => {
    try {
      const v = JSON.parse(node.dataset.spanLinks || '[]');
      return Array.isArray(v) ? v : [];
    } catch {
      return [];
    }
  };
  const OFFSET_PARAM = 'trace_offset';

  /**
   * The Tracing card: says what the backend has before anyone clicks "Open trace". The answer is asked for once and
   * handed to the replay timeline (`robotrace:episode-trace` on document, also kept as `episodeTrace` for a timeline
   * that starts later), which draws it as its span lane; a card with its own [data-span-lane] draws it there.
   */
  function traceCard(card) {
    const statusEl = card.querySelector('[data-trace-status]') || card;
    const laneEl = card.querySelector('[data-span-lane]');
    const linksEl = card.querySelector('[data-span-links]') || laneEl || card;
    const id =
      card.dataset.episodeId ||
      (/\/portal\/episodes\/([0-9a-fA-F-]{36})/.exec(location.pathname) || [])[1] ||
      '';
    if (!id) return;
    let lane = null;
    let latest = 0;
    const video = document.querySelector('video');
    const load = async (offsetMs) => {
      const mine = ++latest;
      statusEl.dataset.state = 'loading';
      let trace;
      try {
        trace = await getJson(
          `/api/episodes/${encodeURIComponent(id)}/trace?offset_ms=${encodeURIComponent(offsetMs)}`,
        );
      } catch (err) {
        trace = { status: 'unavailable', reason: `could not ask the server (${err.message})`, spans: [] };
      }
      if (mine !== latest) return; // a later shift asked again: its answer wins, whichever arrives first
      statusEl.dataset.state = trace.status;
      statusEl.textContent = cardLine(trace);
      const shift = (ms) => {
        const url = new URL(location.href);
        if (ms) url.searchParams.set(OFFSET_PARAM, String(ms));
        else url.searchParams.delete(OFFSET_PARAM);
        history.replaceState(null, '', url);
        load(ms);
      };
      const handed = { trace, links: readLinks(linksEl), linkMarker: linksEl.dataset.spanLinkMarker, shift };
      window.RoboTraceSpanLane.episodeTrace = handed;
      document.dispatchEvent(new CustomEvent('robotrace:episode-trace', { detail: handed }));
      if (!laneEl) return;
      if (lane) lane.destroy();
      const origin = trace.alignment ? trace.alignment.start_unix_ns : undefined;
      const toTimeline = (ns) => (origin ? Number(BigInt(ns) - BigInt(origin)) : 0);
      lane = mount(laneEl, {
        trace,
        originNs: origin,
        window: trace.window
          ? { fromNs: toTimeline(trace.window.start_unix_ns), toNs: toTimeline(trace.window.end_unix_ns) }
          : null,
        highlightSpanId: trace.span_id,
        links: handed.links,
        linkMarker: handed.linkMarker,
        alignment: trace.alignment,
        onShift: shift,
        onSeek: (tNs) => {
          if (video) video.currentTime = Math.max(0, tNs / 1e9);
          lane.setPlayhead(tNs);
        },
      });
      if (video) lane.setPlayhead(video.currentTime * 1e9);
    };
    if (video) {
      const sync = () => lane?.setPlayhead(video.currentTime * 1e9);
      video.addEventListener('timeupdate', sync);
      video.addEventListener('seeked', sync);
    }
    const offset = Number(new URL(location.href).searchParams.get(OFFSET_PARAM) || 0);
    load(Number.isFinite(offset) ? offset : 0);
  }

  function cardLine(trace) {
    if (trace.status === 'found') {
      const services = [...new Set(trace.spans.map((s) => s.service))];
      return `Found in the trace backend: ${trace.total_spans} span${trace.total_spans === 1 ? '' : 's'} · services: ${services.join(', ')}${trace.truncated ? ' (truncated)' : ''}`;
    }
    if (trace.status === 'not_found') {
      const sampled =
        trace.sampled === false
          ? ' The sampled flag was off: the trace was most likely not kept.'
          : trace.sampled === true
            ? ' The sampled flag was on: it may have expired or not be exported yet.'
            : '';
      return `Not found in the trace backend${trace.reason ? `: ${trace.reason}` : ''}.${sampled}`;
    }
    if (trace.status === 'unavailable')
      return `Trace backend unavailable: ${trace.reason || 'unknown reason'}`;
    return 'No trace source is configured (ROBOTRACE_TRACE_SOURCE), so the spans cannot be shown here.';
  }

  /** The trace page: the whole trace's waterfall with every episode as a bar over its window. */
  async function traceWaterfall(node) {
    const id = node.dataset.traceId || '';
    let trace;
    try {
      trace = await getJson(`/api/traces/${encodeURIComponent(id)}`);
    } catch (err) {
      trace = {
        status: 'unavailable',
        reason: `could not ask the server (${err.message})`,
        spans: [],
        episodes: [],
      };
    }
    trace.spans = Array.isArray(trace.spans) ? trace.spans : [];
    let origin = null;
    for (const s of trace.spans)
      if (origin === null || BigInt(s.start_unix_ns) < origin) origin = BigInt(s.start_unix_ns);
    for (const e of trace.episodes || [])
      if (origin === null || BigInt(e.start_unix_ns) < origin) origin = BigInt(e.start_unix_ns);
    const o = origin === null ? 0n : origin;
    mount(node, {
      trace,
      originNs: String(o),
      links: readLinks(node),
      linkMarker: node.dataset.spanLinkMarker,
      episodes: (trace.episodes || []).map((e) => ({
        id: e.id,
        name: e.name,
        fromNs: Number(BigInt(e.start_unix_ns) - o),
        toNs: Math.max(Number(BigInt(e.end_unix_ns) - o), Number(BigInt(e.start_unix_ns) - o) + 1e6),
      })),
      onEpisode: (ep, tNs) => {
        location.assign(`/portal/episodes/${encodeURIComponent(ep.id)}?t=${Math.round(tNs / 1e6)}`);
      },
    });
  }

  const start = () => {
    for (const card of document.querySelectorAll('[data-trace-card]')) traceCard(card);
    for (const node of document.querySelectorAll('[data-trace-waterfall]')) traceWaterfall(node);
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
