import { writeFrontedWorkerTree } from './fronted-worker-tree.js';

/** What the candidate gets wrong (bench/analysis.ts, the deploy tests). */
export type Fault =
  /** Nothing: the same front, passing everything through (the control: same hop, same overhead). */
  | { readonly kind: 'none' }
  /** Every `every`-th tool call answers `isError: true` (a tool error, HTTP 200): 1 in 5 = 20 %. */
  | { readonly kind: 'tool_errors'; readonly every: number }
  /** Calls of `tool` take twice as long: the answer is held back as long as the worker took. */
  | { readonly kind: 'slow_tool'; readonly tool: string }
  /** Results of `tool` lose the top-level `field` of their `section` (a semantic change no status code shows). */
  | { readonly kind: 'drop_field'; readonly tool: string; readonly section: string; readonly field: string };

/**
 * A built tree whose lane is this repo's real worker behind a small fault front in the same
 * process (like deploy-helpers' flaky tree): the local runtime starts it like any tree, so it is a
 * real candidate lane with one defect. Everything else passes through unchanged.
 */
export function makeFaultTree(dir: string, fault: Fault): string {
  return writeFrontedWorkerTree(
    dir,
    `fault-${fault.kind}`,
    `const FAULT = ${JSON.stringify(fault)};
let calls = 0;
const toolOf = (body) => { try { const m = JSON.parse(body.toString()); return m && m.method === 'tools/call' ? { id: m.id, name: m.params && m.params.name } : undefined; } catch { return undefined; } };
// SSE frames: rewrite the JSON-RPC result's text content (drop_field).
function rewrite(text) {
  return text.replace(/^data: (.*)$/gm, (line, json) => {
    try {
      const msg = JSON.parse(json);
      const block = msg.result && msg.result.content && msg.result.content[0];
      if (!block || block.type !== 'text') return line;
      const value = JSON.parse(block.text);
      if (value && value[FAULT.section]) delete value[FAULT.section][FAULT.field];
      block.text = JSON.stringify(value);
      if (msg.result.structuredContent && msg.result.structuredContent[FAULT.section]) delete msg.result.structuredContent[FAULT.section][FAULT.field];
      return 'data: ' + JSON.stringify(msg);
    } catch { return line; }
  });
}
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const call = req.method === 'POST' ? toolOf(body) : undefined;
    if (call && FAULT.kind === 'tool_errors' && ++calls % FAULT.every === 0) {
      const text = JSON.stringify({ code: 'WVO_INJECTED_FAULT', message: 'injected tool error (bench candidate)' });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: call.id, result: { content: [{ type: 'text', text }], isError: true } }));
      return;
    }
    const hold = call && ((FAULT.kind === 'slow_tool' && call.name === FAULT.tool) || (FAULT.kind === 'drop_field' && call.name === FAULT.tool));
    const started = performance.now();
    const up = http.request(inner.url + req.url, { method: req.method, headers: req.headers }, (ur) => {
      if (!hold) {
        res.writeHead(ur.statusCode, ur.headers);
        ur.pipe(res);
        return;
      }
      const parts = [];
      ur.on('data', (c) => parts.push(c));
      ur.on('end', () => {
        let out = Buffer.concat(parts);
        if (FAULT.kind === 'drop_field') out = Buffer.from(rewrite(out.toString()));
        const headers = { ...ur.headers };
        delete headers['content-length'];
        const send = () => { if (!res.destroyed) { res.writeHead(ur.statusCode, headers); res.end(out); } };
        if (FAULT.kind === 'slow_tool') setTimeout(send, performance.now() - started); else send();
      });
    });
    up.on('error', () => { if (!res.headersSent) res.writeHead(502); res.end(); });
    res.on('close', () => up.destroy());
    up.end(body);
  });
});
`,
  );
}
