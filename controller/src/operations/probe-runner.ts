import { connectMcp } from '../../../common/src/mcp-client.js';
import { judgeProbe, type Probe, type ProbeLane, type ProbeResult } from '../promotion/index.js';
import { withTimeout } from './mcp-gate.js';

/**
 * Run the plan's semantic probes against each lane, straight to the worker (not through the proxy:
 * the probe must reach the lane it names, and its calls stay out of the traffic the analysis
 * compares). One SDK session per lane per interval. A probe judges answers: one that got no answer
 * in time (the session did not open, the call timed out) did not run and gives no result — the
 * judge then says "did not run" (insufficient), and slowness is the latency and transport checks'
 * business (a healthy lane taking all traffic on two busy cores was measured missing a 5 s
 * initialize). A stopped lane or an error answer is a result: failed.
 */
export async function runProbes(probes: readonly Probe[], lanes: Partial<Record<ProbeLane, string>>): Promise<ProbeResult[]> {
  const runs = (Object.keys(lanes) as ProbeLane[]).map(async (lane) => {
    const url = lanes[lane];
    if (!url) return probes.map((p) => ({ name: p.name, lane, ok: false, reason: `${lane} lane is not running` }));
    return probeLane(probes, lane, url);
  });
  return (await Promise.all(runs)).flat();
}

async function probeLane(probes: readonly Probe[], lane: ProbeLane, url: string): Promise<ProbeResult[]> {
  const connectMs = Math.max(...probes.map((p) => p.timeoutMs));
  const session = await withTimeout(
    connectMcp(url, 'wvo-probe').catch((error: unknown) => error as Error),
    connectMs,
    () => new Error(`no answer to initialize in ${connectMs} ms`),
  );
  if (session instanceof Error) {
    // Refused outright (nothing listens): failed. No answer in time: did not run.
    return /no answer/.test(session.message) ? [] : probes.map((p) => ({ name: p.name, lane, ok: false, reason: `cannot connect: ${session.message}` }));
  }
  try {
    const results: ProbeResult[] = [];
    for (const probe of probes) {
      const answer = await withTimeout(
        session.call(probe.tool, probe.arguments).catch((error: unknown) => error as Error),
        probe.timeoutMs,
        () => new Error(`no answer in ${probe.timeoutMs} ms`),
      );
      if (answer instanceof Error) {
        if (!/no answer in/.test(answer.message)) results.push({ name: probe.name, lane, ok: false, reason: `${probe.tool}: ${answer.message}` });
        continue;
      }
      const verdict = judgeProbe(probe, answer);
      results.push({ name: probe.name, lane, ok: verdict.ok, ...(verdict.reason ? { reason: verdict.reason } : {}) });
    }
    return results;
  } finally {
    void session.close().catch(() => undefined);
  }
}
