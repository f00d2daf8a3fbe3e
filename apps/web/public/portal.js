// RoboTrace portal — the only script: copy buttons, keyboard shortcuts (t opens the trace, y copies the trace
// id, / focuses search), the theme toggle, local times, and small video and loading niceties.
// Loaded in <head> with the page's CSP nonce; it never builds HTML from strings.
(() => {
  const root = document.documentElement;
  const THEMES = ['system', 'dark', 'light'];
  const THEME_KEY = 'robotrace-theme';

  function storedTheme() {
    try {
      const t = localStorage.getItem(THEME_KEY);
      return THEMES.includes(t) ? t : 'system';
    } catch {
      return 'system';
    }
  }
  function applyTheme(theme) {
    if (theme === 'system') delete root.dataset.theme;
    else root.dataset.theme = theme;
    for (const b of document.querySelectorAll('[data-theme-toggle]')) {
      b.title = `Theme: ${theme === 'system' ? 'follows the system' : theme}`;
      b.setAttribute(
        'aria-label',
        `Switch colour theme (now ${theme === 'system' ? 'following the system' : theme})`,
      );
    }
  }
  applyTheme(storedTheme()); // before first paint: this script is in <head>

  let toastTimer;
  function toast(message) {
    const el = document.getElementById('toast');
    if (!el) return;
    el.textContent = message;
    el.classList.add('show');
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => el.classList.remove('show'), 1800);
  }

  async function copyText(text) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // Plain-http deployments have no async clipboard: fall back to a selection copy.
      const area = document.createElement('textarea');
      area.value = text;
      area.setAttribute('readonly', '');
      area.className = 'offscreen';
      document.body.append(area);
      area.select();
      let ok = false;
      try {
        ok = document.execCommand('copy');
      } catch {
        ok = false;
      }
      area.remove();
      return ok;
    }
  }

  function flash(button, ok) {
    const label = button.querySelector('.copy-text');
    button.classList.add(ok ? 'copied' : 'copy-failed');
    if (label) {
      if (!button.dataset.label) button.dataset.label = label.textContent;
      label.textContent = ok ? 'Copied' : 'Failed';
    }
    setTimeout(() => {
      button.classList.remove('copied', 'copy-failed');
      if (label && button.dataset.label) label.textContent = button.dataset.label;
    }, 1500);
  }

  document.addEventListener('click', async (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    const copy = target.closest('button[data-copy]');
    if (copy) {
      const ok = await copyText(copy.dataset.copy ?? '');
      flash(copy, ok);
      toast(ok ? 'Copied to the clipboard' : 'Could not copy: select the text and copy it');
      return;
    }
    if (target.closest('[data-theme-toggle]')) {
      const next = THEMES[(THEMES.indexOf(storedTheme()) + 1) % THEMES.length];
      try {
        localStorage.setItem(THEME_KEY, next);
      } catch {
        // private mode: the choice lasts for this page only
      }
      applyTheme(next);
      toast(`Theme: ${next === 'system' ? 'follows the system' : next}`);
      return;
    }
    const seek = target.closest('[data-seek]');
    if (seek) {
      const video = document.querySelector('video');
      if (video) {
        video.currentTime = Math.max(0, Number(seek.dataset.seek) - 1);
        video.focus();
      }
    }
  });

  document.addEventListener('keydown', (event) => {
    if (event.defaultPrevented || event.metaKey || event.ctrlKey || event.altKey || event.repeat) return;
    const target = event.target instanceof Element ? event.target : null;
    if (target?.closest('input, textarea, select, [contenteditable=""], [contenteditable="true"]')) return;
    if (event.key === 't') {
      const link = document.querySelector('a[data-trace-link]');
      if (link) {
        event.preventDefault();
        link.click(); // keeps target=_blank and rel=noopener noreferrer
      }
    } else if (event.key === 'y') {
      const holder = document.querySelector('[data-trace-id]');
      if (holder) {
        event.preventDefault();
        copyText(holder.dataset.traceId ?? '').then((ok) =>
          toast(ok ? 'Trace id copied' : 'Could not copy the trace id'),
        );
      }
    } else if (event.key === '/') {
      const search = document.querySelector('input[type="search"]');
      if (search) {
        event.preventDefault();
        search.focus();
        search.select();
      }
    }
  });

  // Loading state: a thin bar while the next page is on its way, and busy forms.
  document.addEventListener('submit', (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    form.setAttribute('aria-busy', 'true');
    root.classList.add('is-loading');
  });
  document.addEventListener('click', (event) => {
    const a = event.target instanceof Element ? event.target.closest('a[href^="/portal"]') : null;
    if (a && !a.target && !event.metaKey && !event.ctrlKey && !event.shiftKey && event.button === 0)
      root.classList.add('is-loading');
  });
  window.addEventListener('pageshow', () => {
    root.classList.remove('is-loading');
    for (const f of document.querySelectorAll('form[aria-busy]')) f.removeAttribute('aria-busy');
  });

  function localTimes() {
    const full = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
    const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
    const steps = [
      [60, 'second'],
      [60, 'minute'],
      [24, 'hour'],
      [7, 'day'],
      [4.35, 'week'],
      [12, 'month'],
      [Number.POSITIVE_INFINITY, 'year'],
    ];
    for (const el of document.querySelectorAll('time[datetime]')) {
      const date = new Date(el.getAttribute('datetime') ?? '');
      if (Number.isNaN(date.getTime())) continue;
      el.title = full.format(date);
      if (!el.hasAttribute('data-relative')) {
        el.textContent = full.format(date);
        continue;
      }
      let value = (date.getTime() - Date.now()) / 1000;
      for (const [size, unit] of steps) {
        if (Math.abs(value) < size) {
          el.textContent = relative.format(Math.round(value), unit);
          break;
        }
        value /= size;
      }
    }
  }

  function videoErrors() {
    for (const video of document.querySelectorAll('video')) {
      video.addEventListener('error', () => {
        const status = video.closest('figure')?.querySelector('[data-video-status]');
        if (status)
          status.textContent =
            'The video could not be loaded (it may have been deleted, or your session expired).';
        video.classList.add('broken');
      });
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    applyTheme(storedTheme());
    localTimes();
    videoErrors();
  });
})();
