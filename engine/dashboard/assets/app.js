// The dashboard's shell: picks the view from the URL hash, refreshes it when the hub's event
// stream says something happened (GET /api/v1/events), and polls every second when the stream
// is not there (an older hub, a proxy that buffers) — so the page is live either way.
import { get, token, ApiError } from './api.js';
import { fill, h, toast } from './view.js';
import { fleetView } from './fleet.js';
import { jobsView } from './jobs.js';
import { jobView } from './job_detail.js';
import { runsView } from './runs.js';
import { runView } from './run_detail.js';

const VIEWS = { fleet: fleetView, jobs: jobsView, job: jobView, runs: runsView, run: runView };
const POLL_MS = 1000;          // without the event stream
const STREAM_POLL_MS = 3000;   // with it: a safety net for event types not listed below
const EVENT_TYPES = ['job', 'run', 'step', 'approval', 'agent', 'log'];
const NAMED_EVENTS = [
  ...['submitted', 'assigned', 'started', 'progress', 'log', 'output', 'cancel_requested', 'retry_scheduled', 'retried',
    'requeued', 'finished', 'succeeded', 'failed', 'cancelled', 'timed_out', 'dead'].map((t) => 'job.' + t),
  ...['started', 'admitted', 'paused', 'resumed', 'ending', 'finished', 'succeeded', 'failed', 'cancelled', 'timed_out']
    .map((t) => 'run.' + t),
  ...['started', 'finished', 'skipped', 'waiting', 'log', 'compensating', 'compensated'].map((t) => 'step.' + t),
  'approval.recorded', 'agent.connected', 'agent.disconnected', 'agent.twin', 'log.line',
];

let current = null;
let refreshing = false;
let again = false;
let stream = null;
let streamOpen = false;
let timer = null;

function parseHash() {
  const [path, q] = location.hash.replace(/^#\/?/, '').split('?');
  const [name, ...rest] = path.split('/');
  return { name: VIEWS[name] ? name : 'fleet', id: decodeURIComponent(rest.join('/')), params: new URLSearchParams(q || '') };
}

function show() {
  if (current && current.dispose) current.dispose();
  const { name, id, params } = parseHash();
  for (const a of document.querySelectorAll('nav a'))
    a.classList.toggle('active', a.dataset.tab === name || a.dataset.tab + 's' === name || a.dataset.tab === name + 's');
  const root = document.getElementById('view');
  root.replaceChildren();
  current = VIEWS[name](root, id, params);
  refresh();
}

async function summary() {
  const s = await get('/api/v1/stats');
  const j = s.jobs || {};
  fill(document.getElementById('summary'),
    h('span', {}, h('b', {}, s.agents.connected), '/', s.agents.total, ' agents'),
    h('span', {}, h('b', {}, j.running || 0), ' running'),
    h('span', {}, h('b', {}, j.pending || 0), ' pending'),
    h('span', {}, h('b', {}, (s.runs && s.runs.running) || 0), ' runs'));
}

/// One refresh at a time; a request for another while one runs is kept and done after it.
export async function refresh() {
  if (refreshing) { again = true; return; }
  refreshing = true;
  try {
    do {
      again = false;
      await Promise.all([current && current.refresh ? current.refresh() : null, summary()]);
    } while (again);
    document.body.classList.remove('offline');
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) {
      document.body.classList.add('offline');
      toast(e.message || String(e), 'error');
    }
  } finally {
    refreshing = false;
    schedule();
  }
}

function schedule() {
  clearTimeout(timer);
  timer = setTimeout(refresh, streamOpen ? STREAM_POLL_MS : POLL_MS);
}

function setLive(open, text) {
  streamOpen = open;
  const el = document.getElementById('live');
  el.textContent = text;
  el.classList.toggle('on', open);
}

/// Follows the event stream; any event refreshes the view (coalesced). The token goes in the
/// query: EventSource cannot send headers.
function connect() {
  if (!window.EventSource) return setLive(false, 'polling');
  if (stream) stream.close();
  const t = token();
  // No `after`: the stream starts now (the views load the present state themselves).
  const q = new URLSearchParams({ type: EVENT_TYPES.join(',') });
  if (t) q.set('access_token', t);
  stream = new EventSource('/api/v1/events?' + q);
  stream.onopen = () => setLive(true, 'live');
  stream.onerror = () => {
    // CLOSED: the hub refused the stream (no such route, no token): poll from now on.
    if (stream.readyState === EventSource.CLOSED) setLive(false, 'polling');
    else setLive(false, 'reconnecting…');
  };
  const poke = () => refresh();
  stream.onmessage = poke;
  // EventSource delivers a named event only to listeners of that name: list the store's types.
  for (const type of NAMED_EVENTS) stream.addEventListener(type, poke);
}

window.addEventListener('hashchange', show);
window.addEventListener('storage', (e) => { if (e.key === 'orbitmesh.token') connect(); });
document.getElementById('login-form').addEventListener('submit', () => setTimeout(() => { connect(); refresh(); }, 0));
setLive(false, 'polling');
connect();
show();
