import type { EpisodeStatus } from '@robotrace/contracts';
import { type Html, html } from './html.js';

/** A button that copies `text`; its accessible name is "Copy <label>". */
export function copyButton(text: string, label: string, opts: { visible?: string } = {}): Html {
  return html`<button type="button" class="copy" data-copy="${text}" aria-label="Copy ${label}" title="Copy ${label}"><span aria-hidden="true" class="copy-icon"></span><span class="copy-text">${opts.visible ?? 'Copy'}</span></button>`;
}

/** A value shown in monospace with its copy button. */
export function copyable(text: string, label: string): Html {
  return html`<span class="copyable"><code>${text}</code>${copyButton(text, label)}</span>`;
}

const STATUS_LABEL: Record<EpisodeStatus, string> = {
  recording: 'Recording',
  ready: 'Ready',
  failed: 'Failed',
};

export function statusBadge(status: EpisodeStatus): Html {
  return html`<span class="badge badge-${status}"><span class="dot" aria-hidden="true"></span>${STATUS_LABEL[status] ?? status}</span>`;
}

/** "2026-11-24 10:00:00 UTC" on the server; the browser script rewrites it to local + relative time. */
export function time(iso: string | null, opts: { relative?: boolean } = {}): Html {
  if (!iso) return html`<span class="muted">—</span>`;
  const shown = `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
  return html`<time datetime="${iso}"${opts.relative ? html` data-relative` : ''} title="${iso}">${shown}</time>`;
}

export function duration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '—';
  if (seconds < 60) return `${Number(seconds.toFixed(1))} s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  if (m < 60) return `${m} min ${String(s).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

export function bytes(n: number | null): string {
  if (n === null) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** Text or an em dash for a missing value. */
export function orDash(value: string | number | null | undefined): Html {
  return value === null || value === undefined || value === ''
    ? html`<span class="muted" aria-label="not set">—</span>`
    : html`${String(value)}`;
}

/** The one thing to run when a project has no episodes yet. */
export function firstEpisodeHelp(baseUrl: string): Html {
  const ts = `ROBOTRACE_API_KEY=rt_… ROBOTRACE_BASE_URL=${baseUrl} npx robotrace demo`;
  const py = `pip install robotrace-dev && ROBOTRACE_API_KEY=rt_… ROBOTRACE_BASE_URL=${baseUrl} python -c "import robotrace as rt; rt.log_episode(name='hello', source='sim', policy_version='v0')"`;
  return html`<div class="first-run">
  <p>Log your first episode with one command — use a key from <a href="/portal/api-keys">API keys</a>:</p>
  <div class="snippet"><pre><code>${ts}</code></pre>${copyButton(ts, 'demo command')}</div>
  <p class="muted">or from Python:</p>
  <div class="snippet"><pre><code>${py}</code></pre>${copyButton(py, 'Python one-liner')}</div>
</div>`;
}

/** Quotes a value for a POSIX shell. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
