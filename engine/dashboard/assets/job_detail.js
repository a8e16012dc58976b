// One job: its record, cancel and retry, and its log as it is written (the long-poll route
// GET /api/v1/jobs/ID/logs?after=SEQ&wait=…, which answers as soon as a line exists).
import { get, post } from './api.js';
import { act, badge, brief, duration, fill, h, span, when } from './view.js';

const ENDED = ['succeeded', 'failed', 'cancelled', 'timed_out', 'dead'];
const RETRYABLE = ['failed', 'cancelled', 'timed_out', 'dead'];

function field(label, value) {
  return [h('dt', {}, label), h('dd', {}, value === '' || value === null || value === undefined ? '—' : value)];
}

function details(j) {
  return h('dl', { class: 'fields' },
    field('State', badge(j.state)),
    field('Command', h('code', {}, j.command)),
    field('Agent', j.agent ? j.agent.name : j.pending_reason || ''),
    field('Attempt', `${j.attempt} (retries used ${j.retries_used}, reassigned ${j.reassigns})`),
    field('Created', when(j.created_at)),
    field('Took', duration(span(j.started_at, j.finished_at))),
    field('Exit code', j.exit_code === undefined ? '' : String(j.exit_code)),
    field('Progress', j.progress ? `${j.progress.percent}% ${j.progress.message || ''}` : ''),
    field('Payload', h('code', { class: 'clip' }, brief(j.payload, 300))),
    field('Output', h('code', { class: 'clip' }, brief(j.output, 300))),
    field('Error', j.error ? h('span', { class: 'error' }, j.error) : ''));
}

/// Reads the log from `after` on until the job ends or the view goes; appends to `pre`.
async function follow(id, pre, signal) {
  let after = 0;
  for (let round = 0; !signal.aborted && round < 100000; round++) {
    let r;
    try {
      r = await get(`/api/v1/jobs/${encodeURIComponent(id)}/logs?after=${after}&wait=20s&limit=1000`, signal);
    } catch (e) {
      if (signal.aborted) return;
      await new Promise((ok) => setTimeout(ok, 1000));
      continue;
    }
    for (const l of r.lines) pre.append(h('span', { class: 'line ' + l.stream }, l.data.endsWith('\n') ? l.data : l.data + '\n'));
    if (r.lines.length) pre.scrollTop = pre.scrollHeight;
    after = r.next;
    if (r.done && !r.lines.length) return pre.append(h('span', { class: 'line end' }, `— ${r.state} —\n`));
  }
}

export function jobView(root, id) {
  const title = h('h1', {}, 'Job ', h('span', { class: 'mono' }, id));
  const cancel = h('button', { class: 'danger', 'data-action': 'cancel' }, 'Cancel');
  const retry = h('button', { 'data-action': 'retry' }, 'Retry');
  const info = h('div');
  const log = h('pre', { class: 'log', id: 'job-log' });
  const controller = new AbortController();
  const view = {
    async refresh() {
      const j = await get('/api/v1/jobs/' + encodeURIComponent(id));
      cancel.hidden = ENDED.includes(j.state);
      retry.hidden = !RETRYABLE.includes(j.state);
      fill(info, details(j));
    },
    dispose() { controller.abort(); },
  };
  cancel.onclick = () => act(cancel, 'cancel', async () => { await post(`/api/v1/jobs/${encodeURIComponent(id)}/cancel`, { reason: 'from the dashboard' }); await view.refresh(); });
  retry.onclick = () => act(retry, 'retry', async () => {
    await post(`/api/v1/jobs/${encodeURIComponent(id)}/retry`);
    controller.abort();
    location.reload();
  });
  root.append(h('section', {}, h('p', {}, h('a', { href: '#/jobs' }, '← Jobs')), h('div', { class: 'titlebar' }, title, h('span', { class: 'grow' }), cancel, retry),
    info, h('h2', {}, 'Log'), log));
  follow(id, log, controller.signal);
  return view;
}
