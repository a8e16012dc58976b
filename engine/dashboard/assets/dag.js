// A run's steps as a DAG in SVG: layered by dependency depth (a step sits one column right of
// its deepest `needs`), left to right, edges from each dependency to its dependant.
import { h } from './view.js';

const W = 150, H = 40, GX = 60, GY = 18, PAD = 12;

/// depth(s) = 0 without needs, else 1 + the deepest of them (unknown names and cycles count 0).
function depths(steps) {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const memo = new Map();
  const depth = (id, seen) => {
    if (memo.has(id)) return memo.get(id);
    const s = byId.get(id);
    if (!s || seen.has(id)) return 0;
    seen.add(id);
    const d = (s.needs || []).reduce((m, n) => (byId.has(n) ? Math.max(m, depth(n, seen) + 1) : m), 0);
    seen.delete(id);
    memo.set(id, d);
    return d;
  };
  return new Map(steps.map((s) => [s.id, depth(s.id, new Set())]));
}

export function layout(steps) {
  const d = depths(steps);
  const columns = [];
  for (const s of steps) (columns[d.get(s.id)] ||= []).push(s);
  const pos = new Map();
  columns.forEach((col, x) => col.forEach((s, y) => pos.set(s.id, { x: PAD + x * (W + GX), y: PAD + y * (H + GY) })));
  const rows = Math.max(1, ...columns.map((c) => (c ? c.length : 0)));
  return { pos, width: PAD * 2 + columns.length * (W + GX) - GX, height: PAD * 2 + rows * (H + GY) - GY };
}

function label(text, max) {
  return text.length > max ? text.slice(0, max - 1) + '…' : text;
}

/// The SVG for `steps` (a run record's top-level steps); `onpick(step)` when a node is clicked.
export function dag(steps, selected, onpick) {
  const { pos, width, height } = layout(steps);
  const svg = h('svg:svg', { class: 'dag', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'workflow DAG' });
  for (const s of steps)
    for (const n of s.needs || []) {
      const a = pos.get(n), b = pos.get(s.id);
      if (!a || !b) continue;
      const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2, mx = (x1 + x2) / 2;
      svg.append(h('svg:path', { class: 'edge', d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}` }));
    }
  for (const s of steps) {
    const p = pos.get(s.id);
    const kids = s.children ? ` · ${s.children.length}` : '';
    const g = h('svg:g', { class: 'node state-' + s.state + (s.id === selected ? ' selected' : ''), 'data-step': s.id,
      'data-state': s.state, transform: `translate(${p.x},${p.y})`, tabindex: 0, onclick: () => onpick(s) },
    h('svg:title', {}, `${s.id} (${s.type}): ${s.state}`),
    h('svg:rect', { width: W, height: H, rx: 7 }),
    h('svg:text', { x: 10, y: 17, class: 'name' }, label(s.id, 19)),
    h('svg:text', { x: 10, y: 32, class: 'sub' }, label(`${s.type} · ${s.state.replace('_', ' ')}${s.attempts > 1 ? ' · try ' + s.attempts : ''}${kids}`, 24)));
    svg.append(g);
  }
  return svg;
}
