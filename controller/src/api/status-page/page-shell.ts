import { CONTROLLER_EVENT_TYPES } from '../../operations/index.js';

/** How often the page re-reads the panel besides on events: intervals are recorded without an event. */
export const PANEL_REFRESH_MS = 3_000;

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#212529;max-width:1200px}
h1{font-size:20px;margin:0 0 .3em}h2{font-size:16px;margin:1.2em 0 .4em}h3{font-size:14px;margin:.8em 0 .3em}
table{border-collapse:collapse}td,th{border:1px solid #dee2e6;padding:2px 8px;text-align:left;font-size:13px}
tr.active{background:#ebfbee}.muted{color:#868e96}
.state{font-size:13px;padding:1px 6px;border-radius:3px;background:#e9ecef}
.state-promoted{background:#d3f9d8}.state-rolled_back,.state-rolling_back{background:#ffe3e3}.state-weighted,.state-observing,.state-switched{background:#fff3bf}
.split{display:flex;width:420px;height:18px;border:1px solid #ced4da;font-size:11px;color:#fff}
.split .cand{background:#d9480f;overflow:hidden;white-space:nowrap}.split .base{flex:1;background:#1c7ed6;overflow:hidden;white-space:nowrap}
ol.steps{display:flex;gap:6px;list-style:none;padding:0}ol.steps li{padding:0 6px;border:1px solid #ced4da;border-radius:3px}
ol.steps li.current{background:#d9480f;color:#fff}
.charts{display:flex;flex-wrap:wrap;gap:8px}.chart{border:1px solid #f1f3f5}
.chart-title{font-size:12px;font-weight:600}.axis,.legend{font-size:10px}
#events{font:12px ui-monospace,monospace;max-height:260px;overflow:auto;padding-left:1.2em}
#live.on{color:#2b8a3e}#live.off{color:#c92a2a}
`;

/**
 * The browser side, kept tiny: the panel is rendered on the server (renderStatusPanel); this
 * swaps it in again on every controller event and every PANEL_REFRESH_MS, and lists the events.
 */
const SCRIPT = `
const panel = document.getElementById('panel');
const events = document.getElementById('events');
const live = document.getElementById('live');
let pending = false;
async function refresh() {
  if (pending) return;
  pending = true;
  try {
    const res = await fetch('/ui/panel', { cache: 'no-store' });
    if (res.ok) panel.innerHTML = await res.text();
  } catch {} finally { pending = false; }
}
function describe(e) {
  if (e.type === 'deployment') return e.id + ' ' + e.state + (e.transitions || []).map(t => ' [' + t.from + ' → ' + t.to + ': ' + t.reason + ']').join('');
  if (e.type === 'deployment-settled') return e.id + ' settled ' + e.state;
  if (e.type === 'deployment-error') return e.id + ' error ' + ((e.error && e.error.code) || '');
  if (e.type === 'upgrade-step') return e.id + ' ' + JSON.stringify(e.event).slice(0, 160);
  if (e.type === 'upgrade-finished') return e.id + ' ' + e.outcome;
  return e.id || '';
}
const source = new EventSource('/ui/events');
source.onopen = () => { live.textContent = 'live'; live.className = 'on'; };
source.onerror = () => { live.textContent = 'reconnecting'; live.className = 'off'; };
for (const type of ${JSON.stringify(CONTROLLER_EVENT_TYPES)}) {
  source.addEventListener(type, (message) => {
    const e = JSON.parse(message.data);
    const li = document.createElement('li');
    li.dataset.type = type;
    li.textContent = new Date().toLocaleTimeString() + ' ' + type + ' ' + describe(e);
    events.prepend(li);
    while (events.children.length > 50) events.lastChild.remove();
    if (type !== 'upgrade-step') refresh();
  });
}
setInterval(refresh, ${PANEL_REFRESH_MS});
`;

/** Pure: the whole page, with the panel as it is now (so it reads without scripts too). */
export function renderStatusPage(panelHtml: string): string {
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width,initial-scale=1">',
    `<title>wvo status</title><style>${STYLE}</style></head><body>`,
    '<h1>wvo status <small id="live" class="off">connecting</small></h1>',
    `<div id="panel">${panelHtml}</div>`,
    '<section><h2>Recent events</h2><ol id="events" reversed></ol></section>',
    `<script>${SCRIPT}</script>`,
    '</body></html>',
  ].join('');
}
