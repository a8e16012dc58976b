// Small DOM helpers shared by the views. Elements are built with textContent, never innerHTML,
// so nothing a job prints can become markup.

/// h('a', {href: '#/x', class: 'y', onclick: fn}, 'text', child, [more]) -> element
export function h(tag, attrs, ...children) {
  const svg = tag.startsWith('svg:');
  const el = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'value' && !svg) el.value = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function badge(state) {
  return h('span', { class: 'badge state-' + (state || 'unknown'), 'data-state': state }, (state || '?').replace('_', ' '));
}

export function shortId(id) {
  return id ? id.slice(-8) : '';
}

export function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d)) return iso;
  const s = Math.round((Date.now() - d.getTime()) / 1000);
  if (s < 0) return 'in ' + duration(-s * 1000);
  if (s < 60) return s + 's ago';
  if (s < 3600) return Math.floor(s / 60) + 'm ago';
  if (s < 86400) return Math.floor(s / 3600) + 'h ago';
  return d.toISOString().slice(0, 16).replace('T', ' ');
}

export function duration(ms) {
  if (ms === null || ms === undefined || ms < 0) return '';
  if (ms < 1000) return ms + 'ms';
  const s = ms / 1000;
  if (s < 60) return s.toFixed(s < 10 ? 1 : 0) + 's';
  if (s < 3600) return Math.floor(s / 60) + 'm' + String(Math.floor(s % 60)).padStart(2, '0') + 's';
  return Math.floor(s / 3600) + 'h' + String(Math.floor((s % 3600) / 60)).padStart(2, '0') + 'm';
}

export function span(startIso, endIso) {
  if (!startIso) return null;
  const end = endIso ? new Date(endIso) : new Date();
  return end - new Date(startIso);
}

/// JSON for people: strings as they are, other values compact, long ones cut.
export function brief(value, max = 120) {
  if (value === null || value === undefined || value === '') return '';
  const s = typeof value === 'string' ? value : JSON.stringify(value);
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

export function table(headers, rows, empty) {
  if (!rows.length) return h('p', { class: 'muted empty' }, empty || 'Nothing here yet.');
  return h('table', {}, h('thead', {}, h('tr', {}, headers.map((t) => h('th', {}, t)))), h('tbody', {}, rows));
}

let toastTimer = null;
export function toast(message, kind = 'info') {
  const el = document.getElementById('toast');
  el.textContent = message;
  el.className = 'toast ' + kind;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, kind === 'error' ? 6000 : 2500);
}

/// Runs an action from a button: disables it meanwhile, reports the outcome in the toast.
export async function act(button, what, fn) {
  button.disabled = true;
  try {
    await fn();
    toast(what + ': done', 'ok');
  } catch (e) {
    toast(what + ': ' + e.message, 'error');
  } finally {
    button.disabled = false;
  }
}

/// Replaces `el`'s children with `children` (a view re-renders its parts on each refresh).
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}
