import { type Html, html } from './html.js';
import { typedWidget } from './typed-metadata.js';

/** Beyond this many nodes the tree gives way to plain pretty-printed JSON (still escaped, still collapsible). */
const MAX_NODES = 1500;

function leaf(value: unknown): Html {
  if (value === null) return html`<span class="j-null">null</span>`;
  if (typeof value === 'string') return html`<span class="j-str">${JSON.stringify(value)}</span>`;
  if (typeof value === 'number') return html`<span class="j-num">${String(value)}</span>`;
  if (typeof value === 'boolean') return html`<span class="j-bool">${String(value)}</span>`;
  return html`<span class="j-str">${JSON.stringify(value)}</span>`;
}

function node(key: string | null, value: unknown, depth: number): Html {
  // Typed values (robotrace.JointState, Pose3D, …) get their widget; a malformed one shows as JSON with a badge.
  const typed = typedWidget(key ?? '', value);
  if (typed) return html`<li>${typed}</li>`;
  const label = key === null ? '' : html`<span class="j-key">${key}</span>: `;
  if (value === null || typeof value !== 'object') return html`<li>${label}${leaf(value)}</li>`;
  const entries: [string, unknown][] = Array.isArray(value)
    ? value.map((v, i) => [String(i), v])
    : Object.entries(value as Record<string, unknown>);
  const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  if (entries.length === 0) return html`<li>${label}<span class="j-punct">${open}${close}</span></li>`;
  return html`<li><details${depth < 2 ? html` open` : ''}><summary>${label}<span class="j-punct">${open}</span><span class="j-count">${entries.length} ${
    Array.isArray(value) ? (entries.length === 1 ? 'item' : 'items') : entries.length === 1 ? 'key' : 'keys'
  }</span><span class="j-punct">${close}</span></summary><ul>${entries.map(([k, v]) =>
    node(Array.isArray(value) ? null : k, v, depth + 1),
  )}</ul></details></li>`;
}

function countNodes(value: unknown, limit: number): number {
  let n = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && n <= limit) {
    const v = stack.pop();
    n++;
    if (v !== null && typeof v === 'object') stack.push(...Object.values(v as object));
  }
  return n;
}

/** Metadata as a readable, collapsible tree; every key and value is escaped text. */
export function metadataView(metadata: Record<string, unknown>): Html {
  const json = JSON.stringify(metadata, null, 2);
  const keys = Object.keys(metadata).length;
  const body =
    countNodes(metadata, MAX_NODES) > MAX_NODES
      ? html`<pre class="json-raw"><code>${json}</code></pre>`
      : html`<ul class="json-tree">${Object.entries(metadata).map(([k, v]) => node(k, v, 0))}</ul>`;
  return html`<details class="card metadata" open>
  <summary><h2>Metadata</h2><span class="muted small">${keys} ${keys === 1 ? 'key' : 'keys'}</span></summary>
  ${keys === 0 ? html`<p class="muted">No metadata.</p>` : body}
  <div class="metadata-actions"><button type="button" class="copy" data-copy="${json}" aria-label="Copy metadata JSON"><span aria-hidden="true" class="copy-icon"></span><span class="copy-text">Copy JSON</span></button></div>
</details>`;
}
