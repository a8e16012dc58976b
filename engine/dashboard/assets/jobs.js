// Jobs: a page at a time, newest first, filtered by state, command and agent on the hub
// (GET /api/v1/jobs?state=&command=&agent=&before=&limit=), so 10,000 jobs cost one page.
import { get, query } from './api.js';
import { badge, brief, duration, fill, h, shortId, span, table, when } from './view.js';

const PAGE = 50;
const STATES = ['', 'pending', 'assigned', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out', 'dead'];

function row(j) {
  return h('tr', { 'data-job': j.id },
    h('td', { class: 'mono' }, h('a', { href: '#/job/' + j.id }, shortId(j.id))),
    h('td', {}, j.command),
    h('td', {}, badge(j.state)),
    h('td', {}, j.agent ? j.agent.name : h('span', { class: 'muted' }, j.pending_reason || '')),
    h('td', { class: 'num' }, j.attempt),
    h('td', { class: 'muted' }, when(j.created_at)),
    h('td', { class: 'num' }, duration(span(j.started_at, j.finished_at))),
    h('td', { class: 'muted clip' }, brief(j.error || j.output, 60)));
}

export function jobsView(root, _id, params) {
  const filters = { state: params.get('state') || '', command: params.get('command') || '', agent: params.get('agent') || '' };
  const cursors = [''];  // cursors[i]: the `before` of page i
  let page = 0;
  let last = [];
  const state = h('select', { name: 'state' }, STATES.map((s) => h('option', { value: s }, s || 'any state')));
  state.value = filters.state;
  const command = h('input', { name: 'command', placeholder: 'command', value: filters.command, size: 12 });
  const agent = h('input', { name: 'agent', placeholder: 'agent', value: filters.agent, size: 12 });
  const newer = h('button', { type: 'button', class: 'small', 'data-action': 'newer' }, '‹ Newer');
  const older = h('button', { type: 'button', class: 'small', 'data-action': 'older' }, 'Older ›');
  const where = h('span', { class: 'muted' });
  const list = h('div', { id: 'jobs' });
  const apply = () => {
    Object.assign(filters, { state: state.value, command: command.value.trim(), agent: agent.value.trim() });
    cursors.length = 1;
    page = 0;
    view.refresh();
  };
  state.onchange = apply;
  const form = h('form', { class: 'filters', onsubmit: (e) => { e.preventDefault(); apply(); } },
    state, command, agent, h('button', { type: 'submit', class: 'small' }, 'Filter'), h('span', { class: 'grow' }), where, newer, older);
  newer.onclick = () => { if (page > 0) { page--; view.refresh(); } };
  older.onclick = () => {
    if (last.length < PAGE) return;
    cursors[page + 1] = last[last.length - 1].id;
    page++;
    view.refresh();
  };
  root.append(h('section', {}, h('h1', {}, 'Jobs'), form, list));
  const view = {
    async refresh() {
      const { jobs } = await get('/api/v1/jobs' + query({ ...filters, limit: PAGE, before: cursors[page] }));
      last = jobs;
      newer.disabled = page === 0;
      older.disabled = jobs.length < PAGE;
      where.textContent = jobs.length ? `page ${page + 1} · ${jobs.length} jobs` : '';
      fill(list, table(['Job', 'Command', 'State', 'Agent', 'Try', 'Created', 'Took', 'Result'], jobs.map(row),
        'No job matches.'));
    },
  };
  return view;
}
