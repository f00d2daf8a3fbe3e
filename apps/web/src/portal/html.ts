/**
 * Auto-escaping HTML templates: every interpolation is escaped unless it is already `Html` (the result of
 * another `html` template or of an explicit `trustedHtml`). Arrays are joined; null, undefined and false vanish.
 */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c] ?? c);
}

export type Interpolation = Html | string | number | boolean | null | undefined | readonly Interpolation[];

function render(value: Interpolation): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map((v: Interpolation) => render(v)).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Interpolation[]): Html {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return new Html(out);
}

/** Marks markup we produced ourselves as safe. Never pass user-supplied text here. */
export function trustedHtml(markup: string): Html {
  return new Html(markup);
}

/**
 * An href we are willing to render: our own absolute path (not protocol-relative), or an http(s) URL that
 * came out of a validated trace link template. Anything else is a programming error.
 */
export function safeHref(url: string): string {
  if (/^\/(?![/\\])/.test(url)) return url;
  if (/^https?:\/\/[^/\\]/i.test(url)) return url;
  throw new Error(`refusing to render a link to ${JSON.stringify(url.slice(0, 40))}`);
}
