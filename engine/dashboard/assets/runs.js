// Runs: start one from a registered workflow, and the newest runs with their progress.
import { get, post, query } from './api.js';
import { act, badge, duration, fill, h, shortId, span, table, toast, when } from './view.js';

const STATES = ['', 'pending', 'running', 'waiting', 'paused', 'succeeded', 'failed', 'cancelled', 'timed_out'];

function progress(run) {
  const steps = run.steps || [];
  const done = steps.filter((s) => s.state === 'succeeded' || s.state === 'skipped').length;
  return h('span', { class: 'steps' }, steps.map((s) => h('i', { class: 'pip state-' + s.state, title: s.id + ': ' + s.state })),
    h('span', { class: 'muted' }, ` ${done}/${steps.length}`));
}

function row(r) {
  return h('tr', { 'data-run': r.id },
    h('td', { class: 'mono' }, h('a', { href: '#/run/' + r.id }, shortId(r.id))),
    h('td', {}, r.workflow.name, h('span', { class: 'muted' }, ' v' + r.workflow.version)),
    h('td', {}, badge(r.state)),
    h('td', {}, progress(r)),
    h('td', { class: 'muted' }, when(r.created_at)),
    h('td', { class: 'num' }, duration(span(r.started_at, r.finished_at))),
    h('td', { class: 'error clip' }, r.error));
}

function starter() {
  const workflow = h('select', { name: 'workflow', required: true });
  const inputs = h('input', { name: 'inputs', value: '{}', size: 30, class: 'mono', title: 'inputs as JSON' });
  const start = h('button', { type: 'submit', class: 'primary' }, 'Start run');
  const form = h('form', { class: 'filters', id: 'start-run' }, h('b', {}, 'Start '), workflow, h('span', { class: 'muted' }, 'inputs'), inputs, start);
  form.onsubmit = (e) => {
    e.preventDefault();
    let parsed;
    try { parsed = JSON.parse(inputs.value || '{}'); } catch (err) { return toast('inputs: not JSON: ' + err.message, 'error'); }
    act(start, 'start ' + workflow.value, async () => {
      const run = await post('/api/v1/runs', { workflow_id: workflow.value, inputs: parsed });
      location.hash = '#/run/' + run.id;
    });
  };
  const load = async () => {
    const { workflows } = await get('/api/v1/workflows');
    const chosen = workflow.value;
    fill(workflow, workflows.map((w) => h('option', { value: w.id }, `${w.name} (v${w.version}, ${w.steps} steps)`)));
    if (chosen) workflow.value = chosen;
    form.hidden = !workflows.length;
  };
  return { form, load };
}

export function runsView(root, _id, params) {
  const state = h('select', { name: 'state' }, STATES.map((s) => h('option', { value: s }, s || 'any state')));
  state.value = params.get('state') || '';
  const list = h('div', { id: 'runs' });
  const start = starter();
  root.append(h('section', {}, h('h1', {}, 'Runs'), start.form, h('div', { class: 'filters' }, state), list));
  let loaded = false;
  const view = {
    async refresh() {
      if (!loaded) { await start.load(); loaded = true; }
      const { runs } = await get('/api/v1/runs' + query({ state: state.value, limit: 50 }));
      fill(list, table(['Run', 'Workflow', 'State', 'Steps', 'Created', 'Took', 'Error'], runs.map(row),
        'No run yet: register a workflow (`orbitmesh workflow register FILE`) and start it here.'));
    },
  };
  state.onchange = () => view.refresh();
  return view;
}
