// srs-proxy console: plain browser JavaScript, no build step. It polls the cluster API of the
// registry that serves it and renders edges, origins and streams. Data only ever reaches the page
// through textContent (never HTML), so names an origin or a client chose cannot inject markup.

/** Poll period: the edges announce every 5 s and heartbeats come every ~10 s; 2 s shows a change within one announcement. */
const POLL_INTERVAL_MS = 2000;
/** Streams shown at once; the API pages the rest (the console says there are more). */
const STREAM_PAGE = 200;
const TOKEN_KEY = 'srs-proxy-token';

const $ = (id) => document.getElementById(id);
const api = new URL('../api/v1/cluster', location.href).pathname;

let token = sessionStorage.getItem(TOKEN_KEY) || '';
let selectedStream = null;
let timer = 0;

class Unauthorized extends Error {}

async function get(path) {
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(api + path, { headers, cache: 'no-store' });
  if (res.status === 401) throw new Unauthorized('unauthorized');
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res.json();
}

function cell(text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

/** A row whose cells carry their column's title (data-label): phones show each row as a card. */
function row(table, values, opts = {}) {
  const labels = [...table.tHead.rows[0].cells].map((th) => th.textContent);
  const tr = document.createElement('tr');
  values.forEach((v, i) => {
    const td = v instanceof HTMLElement ? v : cell(v == null ? '–' : String(v));
    td.dataset.label = labels[i] ?? '';
    tr.append(td);
  });
  if (opts.key) tr.dataset.key = opts.key;
  if (opts.onClick) {
    tr.tabIndex = 0;
    tr.classList.add('clickable');
    tr.addEventListener('click', opts.onClick);
    tr.addEventListener('keydown', (e) => { if (e.key === 'Enter') opts.onClick(); });
  }
  return tr;
}

function fill(id, rows) {
  const table = $(id);
  table.tBodies[0].replaceChildren(...rows);
  table.hidden = rows.length === 0;
  const empty = $(`${id}-empty`);
  if (empty) empty.hidden = rows.length !== 0;
}

function pill(text, kind) {
  const td = document.createElement('td');
  const span = document.createElement('span');
  span.className = `pill ${kind}`;
  span.textContent = text;
  td.append(span);
  return td;
}

function ago(ms) {
  if (ms == null) return null;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m ago`;
}

function duration(s) {
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

const pct = (v) => (v == null ? null : `${v}%`);
const kbps = (k) => (k == null ? null : `${k.recv} / ${k.send}`);

function renderSummary(s) {
  $('mode').textContent = `${s.mode} · ${s.balancer}`;
  $('sum-origins').textContent = `${s.origins.alive}/${s.origins.total}`;
  $('sum-streams').textContent = s.streams;
  $('sum-edges').textContent = s.edges.total;
  $('sum-sessions').textContent = s.edges.sessions;
}

function renderEdges(edges) {
  fill('edges', edges.map((e) => row($('edges'), [
    e.role, e.host, Object.entries(e.listen).map(([k, v]) => `${k} ${v}`).join(', '), e.sessions, duration(e.uptime_s), e.version, ago(e.last_seen_age_ms),
  ], { key: e.id })));
}

function renderOrigins(origins) {
  fill('origins', origins.map((o) => {
    const l = o.load;
    const name = cell(o.device_id ? `${o.device_id} (${o.id})` : o.id, 'mono');
    return row($('origins'), [
      name,
      o.alive ? (o.penalized_until ? pill('penalised', 'warn') : pill('alive', 'ok')) : pill('dead', 'bad'),
      ago(o.heartbeat_age_ms),
      o.streams,
      l ? pct(l.cpu_percent) : null,
      l && l.load_1m != null ? `${l.load_1m}${l.cpus ? ` / ${l.cpus} cpu` : ''}` : null,
      l ? pct(l.mem_percent) : null,
      l ? l.connections : null,
      l ? kbps(l.kbps) : null,
    ], { key: o.id });
  }));
}

function renderStreams(page) {
  fill('streams', page.streams.map((s) => {
    const live = s.publishers > 0;
    return row($('streams'), [
      cell(s.stream_url, 'mono'),
      live ? pill('live', 'ok') : pill('idle', 'idle'),
      cell(s.origin_id, 'mono'),
      live ? `${s.publishers} · ${s.client_protocols.join(', ')}` : (s.protocol ? `placed by ${s.protocol}` : null),
      s.players,
      ago(s.age_ms),
    ], { key: s.stream_url, onClick: () => openPlayers(s.stream_url) });
  }));
  $('streams-more').hidden = page.next_cursor == null;
}

async function renderPlayers() {
  if (selectedStream == null) return;
  const p = await get(`/streams/players?stream=${encodeURIComponent(selectedStream)}`);
  $('players-stream').textContent = p.stream_url;
  fill('players-edges', p.edges.map((e) => row($('players-edges'), [e.role, e.host, e.protocol, e.publishers, e.players])));
  const state = $('players-origin-state');
  const clients = p.origin && p.origin.ok ? p.origin.clients : [];
  if (p.origin == null) state.textContent = 'The stream is not placed on any origin.';
  else if (!p.origin.ok) state.textContent = `Origin ${p.origin.origin_id} did not answer (${p.origin.error}).`;
  else state.textContent = `${clients.length} client(s) on ${p.origin.origin_id}.`;
  fill('players-origin', clients.map((c) => row($('players-origin'), [cell(c.id, 'mono'), c.ip, c.type, c.alive_s == null ? null : duration(Math.round(c.alive_s)), kbps(c.kbps)])));
}

function openPlayers(stream) {
  selectedStream = stream;
  $('players').hidden = false;
  renderPlayers().catch(showError);
  $('players').scrollIntoView({ behavior: 'smooth', block: 'start' });
}

function showError(err) {
  if (err instanceof Unauthorized) {
    askToken(Boolean(token));
    return;
  }
  setStatus(`update failed: ${err.message}`, 'bad');
}

function setStatus(text, kind) {
  const s = $('status');
  s.textContent = text;
  s.dataset.kind = kind;
}

function askToken(refused) {
  $('main').hidden = true;
  $('token-panel').hidden = false;
  $('token-error').hidden = !refused;
  setStatus('token required', 'warn');
  $('token-input').focus();
}

async function refresh() {
  clearTimeout(timer);
  try {
    const app = $('stream-filter').value.trim();
    const query = new URLSearchParams({ limit: String(STREAM_PAGE) });
    if (app) query.set('app', app);
    const [summary, edges, origins, streams] = await Promise.all([
      get(''), get('/edges'), get('/origins'), get(`/streams?${query}`),
    ]);
    $('token-panel').hidden = true;
    $('main').hidden = false;
    $('token-button').hidden = !token;
    renderSummary(summary);
    renderEdges(edges.edges);
    renderOrigins(origins.origins);
    renderStreams(streams);
    await renderPlayers();
    setStatus(`updated ${new Date().toLocaleTimeString()}`, 'ok');
    document.body.dataset.loaded = 'true';
  } catch (err) {
    showError(err);
    if (err instanceof Unauthorized) return;
  }
  timer = setTimeout(refresh, POLL_INTERVAL_MS);
}

$('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  token = $('token-input').value.trim();
  sessionStorage.setItem(TOKEN_KEY, token);
  $('token-input').value = '';
  refresh();
});
$('token-button').addEventListener('click', () => {
  token = '';
  sessionStorage.removeItem(TOKEN_KEY);
  askToken(false);
});
$('players-close').addEventListener('click', () => {
  selectedStream = null;
  $('players').hidden = true;
});
$('stream-filter').addEventListener('change', refresh);

refresh();
