/**
 * Engine connection benchmark: `npx tsx bench/engines.ts [--runs 5]` (root: it starts namespace
 * engines, test/helpers/runtime-engine-b.ts). For each transport to the same kind of engine —
 * plain tcp, tcp with TLS (--tlsverify, openssl certificates), ssh (Debian's sshd,
 * `docker system dial-stdio`) — it times the FIRST ping from a fresh host handle (connection set
 * up included) and a warm ping after it, median of N; for ssh also docker-modem's own transport,
 * which opens a new ssh connection for every request (why docker/ssh-agent.ts exists).
 * Everything it starts is removed at the end.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import Docker from 'dockerode';
import type { HostConfig } from '../controller/src/config/schema.js';
import { connectHosts, pingHost } from '../controller/src/runtime/docker/engine.js';
import { startEngineB, type EngineB } from '../test/helpers/runtime-engine-b.js';
import { usageOnHelp } from './usage.js';

usageOnHelp(import.meta.url);

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const runs = Number(values.runs);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function time(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

/** First and warm ping through our host handles (what DockerRuntime uses). */
async function measure(host: HostConfig): Promise<{ first: number; warm: number }> {
  const first: number[] = [];
  const warm: number[] = [];
  for (let i = 0; i < runs; i++) {
    const handle = connectHosts([host]).get(host.name)!;
    first.push(await time(() => pingHost(handle, 20_000)));
    warm.push(await time(() => pingHost(handle, 20_000)));
    handle.close();
  }
  return { first: median(first), warm: median(warm) };
}

const engines: EngineB[] = [];
try {
  const [plain, secure] = await Promise.all([startEngineB({ net: '10.214' }), startEngineB({ net: '10.214', tls: true, ssh: true })]);
  engines.push(plain, secure);
  const rows: Array<[string, { first: number; warm: number }]> = [];
  rows.push(['tcp', await measure({ name: 'b', docker: plain.url, network: 'auto' })]);
  const t = secure.tls!;
  rows.push(['tls', await measure({ name: 'b', docker: secure.url, tls: { ca: t.ca, cert: t.cert, key: t.key }, network: 'auto' })]);
  const s = secure.ssh!;
  rows.push(['ssh', await measure({ name: 'b', docker: s.url, ssh: { identityFile: s.identityFile, knownHostsFile: s.knownHostsFile }, network: 'auto' })]);
  // docker-modem's transport: every request is a new ssh connection.
  const modem = new Docker({ host: secure.address, port: 22, protocol: 'ssh', username: 'root', sshOptions: { privateKey: readFileSync(s.identityFile) } } as Docker.DockerOptions);
  const modemTimes: number[] = [];
  for (let i = 0; i < runs; i++) modemTimes.push(await time(() => modem.ping()));
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`engine connection times, median of ${runs} (load average ${load}):`);
  console.log('| transport | first ping (connect) | warm ping |');
  console.log('| --- | --- | --- |');
  for (const [name, r] of rows) console.log(`| ${name} | ${r.first.toFixed(0)} ms | ${r.warm.toFixed(1)} ms |`);
  console.log(`| ssh (docker-modem, new connection per request) | ${median(modemTimes).toFixed(0)} ms | ${median(modemTimes).toFixed(0)} ms |`);
  const [tcp, tls, ssh] = rows.map(([, r]) => r.first.toFixed(0));
  console.log(`engines: first ping tcp ${tcp} ms, tls ${tls} ms, ssh ${ssh} ms`);
} finally {
  for (const engine of engines) await engine.destroy();
}
