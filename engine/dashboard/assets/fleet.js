// The fleet: every agent with its state, load, running jobs, circuit, tags and drain switch.
import { get, patch } from './api.js';
import { act, badge, fill, h, table, when } from './view.js';

function load(value) {
  const v = Math.max(0, Math.min(1, Number(value) || 0));
  return h('span', { class: 'load' }, h('meter', { min: 0, max: 1, low: 0.7, high: 0.9, optimum: 0.2, value: v }),
    h('span', { class: 'num' }, Math.round(v * 100) + '%'));
}

// Handlers every agent has: counted, not listed, so the tags that tell agents apart stand out.
const BUILTIN = /^(echo|exec|shell|sleep|wasm|file\.|filewatch\.|system\.)/;

function tags(agent) {
  const all = Object.entries(agent.tags || {});
  const chips = all.filter(([k]) => !k.startsWith('reported.')).map(([k, v]) => h('span', { class: 'chip' }, k + '=' + v));
  const caps = agent.capabilities || [];
  for (const c of caps.filter((c) => !BUILTIN.test(c))) chips.push(h('span', { class: 'chip cap' }, c));
  const builtin = caps.filter((c) => BUILTIN.test(c));
  if (builtin.length) chips.push(h('span', { class: 'muted small', title: builtin.join(', ') }, `+${builtin.length} handlers`));
  return chips;
}

function platform(agent) {
  const t = agent.tags || {};
  return [agent.version, t['reported.os'] ? h('div', { class: 'muted small' }, t['reported.os'].replace(/ GNU\/Linux/, '')) : null];
}

function row(agent, refresh) {
  const drain = h('button', { class: 'small', 'data-action': 'drain' }, agent.draining ? 'Undrain' : 'Drain');
  drain.onclick = () => act(drain, (agent.draining ? 'undrain ' : 'drain ') + agent.name, async () => {
    await patch('/api/v1/agents/' + encodeURIComponent(agent.id) + '/twin', { drain: !agent.draining });
    await refresh();
  });
  const running = agent.running > 0
    ? h('a', { href: '#/jobs?agent=' + encodeURIComponent(agent.name) + '&state=running' }, String(agent.running))
    : '0';
  return h('tr', { 'data-agent': agent.name, class: agent.state === 'connected' ? '' : 'dim' },
    h('td', {}, h('b', {}, agent.name), h('div', { class: 'muted mono' }, agent.id.slice(0, 13))),
    h('td', {}, badge(agent.state), agent.draining ? h('span', { class: 'chip warn' }, 'draining') : null),
    h('td', { class: 'num' }, running, ' / ', agent.concurrency),
    h('td', {}, load(agent.load && agent.load.cpu)),
    h('td', {}, load(agent.load && agent.load.mem)),
    h('td', {}, h('span', { class: 'circuit ' + agent.circuit }, agent.circuit)),
    h('td', { class: 'tags' }, tags(agent)),
    h('td', { class: 'muted' }, platform(agent)),
    h('td', { class: 'muted nowrap' }, agent.state === 'connected' ? when(agent.connected_at) : 'seen ' + when(agent.last_seen)),
    h('td', {}, drain));
}

export function fleetView(root) {
  const body = h('div', { id: 'fleet' });
  root.append(h('section', {}, h('h1', {}, 'Fleet'), body));
  const view = {
    async refresh() {
      const { agents } = await get('/api/v1/agents');
      fill(body, table(['Agent', 'State', 'Running', 'CPU', 'Memory', 'Circuit', 'Tags', 'Version', 'Since', ''],
        agents.map((a) => row(a, () => view.refresh())),
        'No agent has connected yet: start one with `orbitmesh agent --server URL`.'));
    },
  };
  return view;
}
