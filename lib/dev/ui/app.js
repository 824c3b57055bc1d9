// The dev page: reads the server's JSON API every 2 s (not while the tab is
// hidden) and renders tasks, the selected task's step timeline, workers and
// the dead-letter queue. Plain DOM, no framework: every text goes in as
// text (never as HTML), so what tasks carry cannot inject markup.
'use strict';

const REFRESH_MS = 2000;
const TASK_LIMIT = 100; // the newest; the filters reach older ones
const TEMPLATES_EVERY = 5; // refreshes: templates change only when a worker registers some
const $ = (id) => document.getElementById(id);
const state = { selected: new URLSearchParams(location.hash.slice(1)).get('task'), rendered: {}, ticks: 0, timer: 0, busy: false, again: false };

/** An element with attributes and children (strings become text nodes). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

async function api(path, options) {
  const res = await fetch(path, options);
  const body = await res.json().catch(() => ({ error: `${res.status} ${res.statusText}` }));
  if (!res.ok) throw Object.assign(new Error(body.error || `${res.status}`), { status: res.status });
  return body;
}

// ---- formatting ----

const STATE_KIND = {
  complete: 'ok', resolved_manually: 'off', cancelled: 'off',
  error: 'bad', blocked_by_failures: 'bad', enqueued_as_error_for_orchestration: 'bad',
  waiting_for_retry: 'wait', waiting_for_dependencies: 'wait',
  in_progress: 'busy', steps_in_process: 'busy', enqueued: 'busy', enqueued_for_orchestration: 'busy',
  initializing: 'busy', enqueuing_steps: 'busy', evaluating_results: 'busy',
};
const badge = (s, extra = '') => h('span', { class: `badge ${STATE_KIND[s] || ''} ${extra}`.trim(), 'data-state': s }, s.replaceAll('_', ' '));

function age(iso) {
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (s < 60) return `${Math.floor(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86400)} d`;
}
const clock = (iso) => new Date(iso).toLocaleTimeString([], { hour12: false }) + '.' + String(new Date(iso).getMilliseconds()).padStart(3, '0');
const offset = (iso, from) => `+${((Date.parse(iso) - Date.parse(from)) / 1000).toFixed(2)} s`;
const json = (v) => JSON.stringify(v, null, 2);
const short = (uuid) => uuid.slice(0, 8) + '…' + uuid.slice(-4);

/** Whether `data` differs from what was last drawn under `key` (and remembers it). */
function changed(key, data) {
  const sig = JSON.stringify(data);
  if (state.rendered[key] === sig) return false;
  state.rendered[key] = sig;
  return true;
}

/** Replaces a container's content only when its data changed (keeps selections and scroll). */
function render(key, container, data, build) {
  if (changed(key, data)) container.replaceChildren(...[build(data)].flat().filter((c) => c instanceof Node));
}

// ---- tasks ----

function fillFilter(select, facets) {
  const current = select.value;
  const options = [h('option', { value: '' }, 'all'), ...facets.map((f) => h('option', { value: f.value }, `${f.value} (${f.count})`))];
  if (current && !facets.some((f) => f.value === current)) options.push(h('option', { value: current }, `${current} (0)`));
  select.replaceChildren(...options);
  select.value = current;
}

function renderTasks({ tasks, facets }) {
  if (changed('facet-state', facets.states)) fillFilter($('filter-state'), facets.states);
  if (changed('facet-namespace', facets.namespaces)) fillFilter($('filter-namespace'), facets.namespaces);
  $('tasks-empty').hidden = tasks.length > 0;
  $('tasks-more').hidden = tasks.length < TASK_LIMIT;
  const rows = tasks.map((t) =>
    h('tr', { 'data-task': t.taskUuid, class: t.taskUuid === state.selected ? 'selected' : '', onclick: () => select(t.taskUuid) },
      h('td', {}, h('div', { class: 'name' }, t.name), h('div', { class: 'sub mono', title: t.taskUuid }, t.taskUuid.slice(0, 8))),
      h('td', { class: 'ns', title: t.namespace }, t.namespace),
      h('td', {}, badge(t.state)),
      h('td', { class: `mono ${t.failedSteps ? 'failed' : ''}`, title: t.failedSteps ? `${t.failedSteps} failed` : null }, `${t.doneSteps}/${t.totalSteps}`),
      h('td', { class: 'muted', title: t.createdAt }, age(t.createdAt))));
  // Ages move every second: always redraw the rows (cheap), never the filters.
  $('tasks').tBodies[0].replaceChildren(...rows);
}

function select(taskUuid) {
  state.selected = taskUuid;
  history.replaceState(null, '', `#task=${taskUuid}`);
  for (const tr of $('tasks').tBodies[0].rows) tr.classList.toggle('selected', tr.dataset.task === taskUuid);
  refresh();
}

// ---- a task's timeline ----

function attemptBox(a) {
  const titles = { success: 'succeeded', retryable_failure: 'failed, will be retried if attempts remain', permanent_failure: 'failed permanently', running: 'running', interrupted: 'ended without a result' };
  return h('div', { class: `attempt ${a.outcome}`, 'data-attempt': a.number, 'data-outcome': a.outcome },
    h('div', { class: 'title' }, `Attempt ${a.number} ${titles[a.outcome] || a.outcome}`,
      a.durationMs !== undefined ? h('span', { class: 'muted' }, ` · handler ${a.durationMs} ms`) : ''),
    a.outcome === 'running' && h('div', { class: 'muted' }, `started at ${clock(a.startedAt)}`),
    a.error && h('div', { class: 'error' }, `${a.error.type ? a.error.type + ': ' : ''}${a.error.message}${a.error.code ? ` [${a.error.code}]` : ''}`),
    a.backoffSeconds !== undefined && h('div', { class: 'muted backoff' }, `backoff requested: ${a.backoffSeconds} s`),
    a.retriedAt && h('div', { class: 'muted retry' }, `retried ${((Date.parse(a.retriedAt) - Date.parse(a.endedAt)) / 1000).toFixed(2)} s after it ended`),
    a.outcome === 'success' && a.result !== undefined && h('pre', { class: 'result' }, json(a.result)));
}

const MINOR = new Set(['enqueued', 'enqueued_for_orchestration', 'enqueued_as_error_for_orchestration']);

function stepItem(step, start) {
  const running = step.attemptLog.find((a) => a.outcome === 'running');
  let attempt = 0;
  const events = step.transitions.map((t) => {
    const note = t.to === 'in_progress' ? `attempt ${++attempt}` : '';
    // The transition out of in_progress ends the attempt it started: show what the handler answered there.
    const ended = t.from === 'in_progress' && step.attemptLog[attempt - 1];
    return h('li', { class: `event ${MINOR.has(t.to) ? 'minor' : 'key'}` },
      h('time', { datetime: t.at, title: clock(t.at) }, offset(t.at, start)), badge(t.to), note && h('span', { class: 'note' }, note),
      ended && attemptBox(ended));
  });
  return h('li', { class: 'step', 'data-step': step.name, 'data-state': step.state },
    h('div', { class: 'step-head' },
      h('strong', {}, step.name), badge(step.state),
      h('span', { class: 'meta attempts' }, `attempts ${step.attempts} / ${step.maxAttempts}`),
      step.retryable === false && h('span', { class: 'meta' }, 'not retryable'),
      step.state === 'waiting_for_retry' && step.backoffRequestSeconds && h('span', { class: 'meta' }, `backoff ${step.backoffRequestSeconds} s from ${clock(step.lastAttemptedAt)}`),
      step.dependsOn.length > 0 && h('span', { class: 'meta' }, `after ${step.dependsOn.join(', ')}`),
      step.auditError && h('span', { class: 'meta' }, `(results unavailable: ${step.auditError})`)),
    h('ol', { class: 'events' }, events, running && h('li', { class: 'event key' }, attemptBox(running))));
}

function renderDetail(d) {
  const t = d.task;
  return [
    h('div', { class: 'detail-head' },
      h('div', {}, h('h2', {}, t.name), h('div', { class: 'muted' }, `${t.namespace} · v${t.version}`)),
      badge(t.state, 'task-state')),
    h('dl', { class: 'facts' },
      h('dt', {}, 'uuid'), h('dd', { class: 'mono' }, t.taskUuid),
      h('dt', {}, 'created'), h('dd', {}, `${clock(t.createdAt)} (${age(t.createdAt)} ago)`),
      t.completedAt && [h('dt', {}, 'completed'), h('dd', {}, `${clock(t.completedAt)} (${offset(t.completedAt, t.createdAt)})`)],
      h('dt', {}, 'steps'), h('dd', {}, `${t.doneSteps} of ${t.totalSteps} done${t.failedSteps ? `, ${t.failedSteps} failed` : ''}`)),
    h('details', { open: true }, h('summary', { class: 'muted' }, 'context'), h('pre', {}, json(t.context ?? {}))),
    h('h3', {}, 'Task states'),
    h('div', { class: 'task-path' }, d.transitions.flatMap((x, i) => [i ? h('span', { class: 'arrow' }, '→') : '', h('span', { title: `${clock(x.at)} ${x.event || ''}` }, badge(x.to))])),
    h('h3', {}, 'Steps'),
    h('ol', { class: 'steps' }, d.steps.map((s) => stepItem(s, t.createdAt))),
  ];
}

// ---- workers and the dead-letter queue ----

function renderWorkers(w) {
  const list = w.workers.map((x) =>
    h('li', { class: 'worker', 'data-worker-id': x.workerId },
      h('div', { class: 'id' }, x.workerId),
      h('div', { class: 'muted' }, `${x.hostname || '?'} · pid ${x.pid ?? '?'} · up ${age(x.startedAt)}`),
      h('div', { class: `muted beat ${x.heartbeatAgeSeconds > 30 ? 'stale' : ''}` }, `heartbeat ${x.heartbeatAgeSeconds.toFixed(1)} s ago`),
      x.steps.length === 0
        ? h('div', { class: 'running-step muted' }, 'idle')
        : x.steps.map((s) => h('div', { class: 'running-step', 'data-step-uuid': s.stepUuid },
            s.state === 'claimed' ? 'running ' : 'result sent: ', h('strong', { class: 'mono' }, s.step), ' of ',
            h('button', { class: 'link', type: 'button', onclick: () => select(s.taskUuid) }, `${s.namespace}/${s.task}`), h('span', { class: 'muted' }, ` · ${age(s.since)}`)))));
  return [
    list.length ? h('ul', { class: 'workers' }, list) : h('p', { class: 'empty' }, w.tracked ? 'No worker of this package is running.' : 'No worker of this package has run here yet.'),
    w.otherInProgress > 0 && h('p', { class: 'muted' }, `${w.otherInProgress} step(s) in progress under other workers.`),
  ];
}

function renderDlq({ entries, stats }) {
  if (entries.length === 0 && stats.length === 0) return h('p', { class: 'empty' }, 'Empty: no task was dead-lettered.');
  return [
    h('div', { class: 'dlq-stats' }, stats.map((s) => h('span', { class: 'badge bad' }, `${s.dlqReason.replaceAll('_', ' ')}: ${s.pending} pending / ${s.totalEntries}`))),
    h('ul', { class: 'dlq-list' }, entries.map((e) =>
      h('li', { class: 'dlq-item' },
        h('button', { class: 'link mono', type: 'button', onclick: () => select(e.taskUuid) }, short(e.taskUuid)),
        ` ${e.dlqReason.replaceAll('_', ' ')} · was ${e.originalState} · ${e.resolutionStatus} · ${age(e.dlqTimestamp)} ago`))),
  ];
}

// ---- the create form ----

function renderTemplates(list) {
  const sel = $('template');
  const current = sel.value;
  const groups = new Map();
  list.templates.forEach((t, i) => {
    if (!groups.has(t.namespace)) groups.set(t.namespace, h('optgroup', { label: t.namespace }));
    groups.get(t.namespace).append(h('option', { value: JSON.stringify({ namespace: t.namespace, name: t.name, version: t.version }), title: t.description || '' }, `${t.name} @ ${t.version}`));
  });
  if (groups.size === 0) sel.replaceChildren(h('option', { value: '' }, 'no template registered yet (start a worker)'));
  else sel.replaceChildren(...groups.values());
  if (current && [...sel.options].some((o) => o.value === current)) sel.value = current;
  validateForm();
}

/** The context as an object, or an error message. */
function readContext() {
  const text = $('context').value.trim() || '{}';
  try {
    const value = JSON.parse(text);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return { error: 'the context must be a JSON object: { … }' };
    return { value };
  } catch (e) {
    return { error: `not valid JSON: ${e.message}` };
  }
}

function validateForm() {
  const { error } = readContext();
  $('context').setAttribute('aria-invalid', error ? 'true' : 'false');
  $('context-error').hidden = !error;
  $('context-error').textContent = error || '';
  $('create-submit').disabled = Boolean(error) || !$('template').value;
}

function message(text, kind) {
  const m = $('create-message');
  m.hidden = false;
  m.className = `message ${kind}`;
  m.textContent = text;
}

async function createTask(event) {
  event.preventDefault();
  const { value: context, error } = readContext();
  if (error || !$('template').value) return validateForm();
  $('create-submit').disabled = true;
  try {
    const { task } = await api('/api/tasks', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...JSON.parse($('template').value), context }) });
    message(`Created ${task.name} ${short(task.taskUuid)}`, 'ok');
    select(task.taskUuid);
  } catch (e) {
    message(`Refused: ${e.message}`, 'error');
  } finally {
    validateForm();
  }
}

// ---- refresh loop ----

async function refresh() {
  // A refresh asked for while one runs (a click) runs right after it.
  if (state.busy) return void (state.again = true);
  state.busy = true;
  state.again = false;
  clearTimeout(state.timer);
  const filter = new URLSearchParams({ limit: String(TASK_LIMIT) });
  if ($('filter-state').value) filter.set('state', $('filter-state').value);
  if ($('filter-namespace').value) filter.set('namespace', $('filter-namespace').value);
  const part = (promise, apply) => promise.then(apply, (e) => e);
  const errors = (await Promise.all([
    part(api(`/api/tasks?${filter}`), renderTasks),
    part(api('/api/workers'), (w) => render('workers', $('workers'), w, renderWorkers)),
    part(api('/api/dlq'), (d) => render('dlq', $('dlq'), d, renderDlq)),
    state.ticks % TEMPLATES_EVERY === 0 && part(api('/api/templates'), (t) => changed('templates', t) && renderTemplates(t)),
    state.selected && part(api(`/api/tasks/${state.selected}`), (d) => render('detail', $('detail'), d, renderDetail)),
  ])).filter((r) => r instanceof Error);
  state.ticks++;
  state.busy = false;
  if (state.again) return refresh();
  const status = $('status');
  status.className = `status ${errors.length ? 'failing' : ''}`;
  status.textContent = errors.length ? `refresh failed: ${errors[0].message}` : `live · updated ${new Date().toLocaleTimeString([], { hour12: false })}`;
  schedule();
}

function schedule() {
  clearTimeout(state.timer);
  if (document.hidden) {
    $('status').className = 'status paused';
    $('status').textContent = 'paused while the tab is hidden';
    return;
  }
  state.timer = setTimeout(refresh, REFRESH_MS);
}

$('create-form').addEventListener('submit', createTask);
$('context').addEventListener('input', validateForm);
$('template').addEventListener('change', validateForm);
$('filter-state').addEventListener('change', refresh);
$('filter-namespace').addEventListener('change', refresh);
document.addEventListener('visibilitychange', () => (document.hidden ? schedule() : refresh()));
refresh();
