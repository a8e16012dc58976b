// One run: the DAG with live step states, approvals, the selected step's inputs and outputs,
// a timeline of attempts (from GET /api/v1/runs/ID/events), and cancel / rerun-from-step.
import { get, post } from './api.js';
import { act, badge, brief, duration, fill, h, span, table, when } from './view.js';
import { dag } from './dag.js';

const ENDED = ['succeeded', 'failed', 'cancelled', 'timed_out'];
const enc = encodeURIComponent;

function waitingApprovals(run) {
  return run.steps.filter((s) => s.state === 'waiting' && s.waiting && s.waiting.kind === 'approval');
}

function approvals(run, waiting, refresh) {
  return waiting.map((s) => {
    const who = h('input', { name: 'approver', placeholder: 'your name', value: localStorage.getItem('orbitmesh.approver') || '', size: 14 });
    const comment = h('input', { name: 'comment', placeholder: 'comment (optional)', size: 24 });
    const decide = (reject) => (ev) => act(ev.target, (reject ? 'reject ' : 'approve ') + s.id, async () => {
      localStorage.setItem('orbitmesh.approver', who.value.trim());
      await post(`/api/v1/runs/${enc(run.id)}/approve`, { step: s.id, approver: who.value.trim(), comment: comment.value, reject });
      await refresh();
    });
    return h('div', { class: 'approval', 'data-approval': s.id },
      h('b', {}, 'Approval “' + s.id + '”'), h('span', {}, s.message || 'waiting for a decision'),
      who, comment,
      h('button', { class: 'primary', 'data-action': 'approve', onclick: decide(false) }, 'Approve'),
      h('button', { class: 'danger', 'data-action': 'reject', onclick: decide(true) }, 'Reject'));
  });
}

function stepPanel(run, s, job) {
  if (!s) return h('p', { class: 'muted' }, 'Click a step to see its inputs and outputs.');
  const rerun = h('button', { class: 'small', 'data-action': 'rerun' }, 'Rerun from here');
  rerun.onclick = () => act(rerun, 'rerun from ' + s.id, async () => {
    const r = await post(`/api/v1/runs/${enc(run.id)}/rerun`, { from: s.id });
    location.hash = '#/run/' + r.id;
  });
  const rows = [
    ['State', badge(s.state)], ['Type', s.type], ['Attempts', s.attempts], ['Agent', s.agent || ''],
    ['Took', duration(s.duration_ms)], ['Needs', (s.needs || []).join(', ')],
    ['Job', s.job_id ? h('a', { href: '#/job/' + s.job_id, class: 'mono' }, s.job_id) : ''],
    ['Input', job ? h('code', { class: 'clip' }, brief(job.payload, 400)) : ''],
    ['Output', h('code', { class: 'clip' }, brief(s.output, 400))],
    ['Error', s.error ? h('span', { class: 'error' }, s.error) : ''],
  ];
  if (s.message) rows.push(['Message', s.message]);
  for (const a of s.approvals || []) rows.push([a.reject ? 'Rejected by' : 'Approved by', a.approver + (a.comment ? ': ' + a.comment : '')]);
  return h('div', { id: 'step-panel' }, h('div', { class: 'titlebar' }, h('h2', {}, 'Step ' + s.id), h('span', { class: 'grow' }),
    ENDED.includes(run.state) ? rerun : null),
  h('dl', { class: 'fields' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v === '' || v === null ? '—' : v)])));
}

/// Attempts as bars on one time axis: each step.started opens one, the next event of that step ends it.
function timeline(events, run) {
  const bars = [];
  const open = new Map();
  for (const e of events) {
    if (!e.step || e.step.includes('/')) continue;
    const t = new Date(e.time).getTime();
    if (e.type === 'step.started') {
      if (open.has(e.step)) open.get(e.step).end = t;
      const bar = { step: e.step, start: t, end: null, state: 'running', attempt: e.attempt || 1 };
      open.set(e.step, bar);
      bars.push(bar);
    } else if (open.has(e.step) && (e.type === 'step.finished' || e.type === 'step.waiting')) {
      const bar = open.get(e.step);
      bar.end = t;
      bar.state = e.type === 'step.waiting' ? 'waiting' : e.state || 'succeeded';
      if (e.type === 'step.finished') open.delete(e.step);
    }
  }
  if (!bars.length) return h('p', { class: 'muted' }, 'No attempt has started yet.');
  const now = ENDED.includes(run.state) && run.finished_at ? new Date(run.finished_at).getTime() : Date.now();
  const t0 = Math.min(...bars.map((b) => b.start));
  const t1 = Math.max(now, ...bars.map((b) => b.end || now));
  const total = Math.max(1, t1 - t0);
  const lane = 20, left = 130, width = 820;
  const svg = h('svg:svg', { class: 'timeline', viewBox: `0 0 ${left + width + 70} ${bars.length * lane + 4}`, role: 'img', 'aria-label': 'attempts over time' });
  bars.forEach((b, i) => {
    const x = left + ((b.start - t0) / total) * width;
    const w = Math.max(2, (((b.end || now) - b.start) / total) * width);
    svg.append(h('svg:text', { x: 0, y: i * lane + 14, class: 'sub' }, `${b.step}${b.attempt > 1 ? ' #' + b.attempt : ''}`),
      h('svg:rect', { x, y: i * lane + 3, width: w, height: lane - 6, rx: 3, class: 'bar state-' + b.state },
        h('svg:title', {}, `${b.step} attempt ${b.attempt}: ${b.state}, ${duration((b.end || now) - b.start)}`)),
      h('svg:text', { x: x + w + 4, y: i * lane + 14, class: 'sub' }, duration((b.end || now) - b.start)));
  });
  return svg;
}

export function runView(root, id) {
  let selected = null;
  let gateKey = null;
  let events = [];
  let next = 0;
  const jobs = new Map();
  const title = h('h1', {}, 'Run ', h('span', { class: 'mono' }, id));
  const cancel = h('button', { class: 'danger', 'data-action': 'cancel-run' }, 'Cancel run');
  const head = h('div');
  const gate = h('div');
  const graph = h('div', { class: 'dag-box', id: 'dag' });
  const panel = h('div', { class: 'panel' });
  const times = h('div', { class: 'timeline-box' });
  const steps = h('div');
  root.append(h('section', {}, h('p', {}, h('a', { href: '#/runs' }, '← Runs')),
    h('div', { class: 'titlebar' }, title, h('span', { class: 'grow' }), cancel), head, gate,
    h('div', { class: 'split' }, graph, panel), h('h2', {}, 'Timeline of attempts'), times, h('h2', {}, 'Steps'), steps));
  const view = {
    async refresh() {
      const [run, feed] = await Promise.all([get('/api/v1/runs/' + enc(id)), get(`/api/v1/runs/${enc(id)}/events?after=${next}`)]);
      events = events.concat(feed.events);
      next = feed.next;
      cancel.hidden = ENDED.includes(run.state);
      fill(head, h('div', { class: 'runhead' }, badge(run.state), h('b', {}, run.workflow.name), h('span', { class: 'muted' }, 'v' + run.workflow.version),
        h('span', { class: 'muted' }, 'started ' + when(run.started_at || run.created_at)), h('span', {}, duration(span(run.started_at, run.finished_at))),
        h('span', { class: 'muted mono' }, 'inputs ' + brief(run.inputs, 80)), run.error ? h('span', { class: 'error' }, run.error) : null));
      // Rebuilt only when the set of waiting approvals changes, so what the user types survives refreshes.
      const waiting = waitingApprovals(run);
      const key = waiting.map((s) => s.id).join(',');
      if (key !== gateKey) { gateKey = key; fill(gate, approvals(run, waiting, () => view.refresh())); }
      const pick = (s) => { selected = s.id; view.refresh(); };
      fill(graph, dag(run.steps, selected, pick));
      const chosen = run.steps.find((s) => s.id === selected);
      if (chosen && chosen.job_id && !jobs.has(chosen.job_id)) jobs.set(chosen.job_id, await get('/api/v1/jobs/' + enc(chosen.job_id)).catch(() => null));
      fill(panel, stepPanel(run, chosen, chosen && jobs.get(chosen.job_id)));
      fill(times, timeline(events, run));
      fill(steps, table(['Step', 'Type', 'State', 'Tries', 'Agent', 'Took', 'Output', 'Error'], run.steps.map((s) =>
        h('tr', { 'data-step': s.id, onclick: () => pick(s) }, h('td', {}, h('b', {}, s.id)), h('td', { class: 'muted' }, s.type), h('td', {}, badge(s.state)),
          h('td', { class: 'num' }, s.attempts), h('td', {}, s.agent || ''), h('td', { class: 'num' }, duration(s.duration_ms)),
          h('td', { class: 'mono clip' }, brief(s.output, 50)), h('td', { class: 'error clip' }, brief(s.error, 60))))));
    },
  };
  cancel.onclick = () => act(cancel, 'cancel run', async () => { await post(`/api/v1/runs/${enc(id)}/cancel`); await view.refresh(); });
  return view;
}
