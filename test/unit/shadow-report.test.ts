import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  compareSuiteRun,
  DEFAULT_THRESHOLDS,
  escapeHtml,
  renderReportHtml,
  validateSuite,
  writeReportHtml,
  type CallOutcome,
} from '../../controller/src/shadow/index.js';

const ok = (result: unknown): CallOutcome => ({ result, isError: false, durationMs: 4 });
const EVIL = '<script>alert("x")</script>';

function sample() {
  const suite = validateSuite({
    calls: [
      { tool: 'plan_next', name: `top ${EVIL}`, arguments: { note: EVIL } },
      { tool: 'orchestrator_status', name: 'status' },
    ],
  });
  return compareSuiteRun(
    {
      tools: { baseline: [], replica: [], candidate: [] },
      calls: [
        {
          index: 0,
          call: suite.calls[0]!,
          arguments: suite.calls[0]!.arguments,
          outcomes: {
            baseline: ok({ tasks: [{ id: 'T-1', title: EVIL }] }),
            replica: ok({ tasks: [{ id: 'T-1', title: EVIL }] }),
            candidate: ok({ tasks: [{ id: 'T-2', title: EVIL }] }),
          },
        },
        {
          index: 1,
          call: suite.calls[1]!,
          arguments: {},
          outcomes: {
            baseline: ok({ queue: { run_id: 'aaa' } }),
            replica: ok({ queue: { run_id: 'bbb' } }),
            candidate: ok({ queue: { run_id: 'ccc&<>' } }),
          },
        },
      ],
    },
    {
      suite,
      thresholds: DEFAULT_THRESHOLDS,
      lanes: { baseline: 'http://127.0.0.1:1/mcp', replica: 'http://127.0.0.1:2/mcp', candidate: 'http://127.0.0.1:3/mcp' },
      startedAt: new Date('2026-11-28T20:00:00Z'),
      finishedAt: new Date('2026-11-28T20:00:01Z'),
    },
  );
}

describe('report.html', () => {
  it('escapes every character HTML cares about', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('never lets a lane value or a suite label become markup', () => {
    const html = renderReportHtml({ result: sample(), title: EVIL, steps: [{ name: EVIL, status: 'warning', detail: EVIL }] });
    expect(html).not.toContain('<script');
    expect(html).toContain('&lt;script&gt;');
    expect(html).toContain('ccc&amp;&lt;&gt;');
  });

  it('is self-contained: inline CSS, no scripts, no external assets', () => {
    const html = renderReportHtml({ result: sample() });
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<style>');
    expect(html).not.toMatch(/<script|<link|src=|href=|@import|url\(/i);
  });

  it('shows the summary, the reported group side by side with its path, and the noise collapsed', () => {
    const html = renderReportHtml({ result: sample() });
    expect(html).toMatch(/<p id="summary" class="warn">Verdict: 1 difference\(s\) to review\. Answers: 1 group\(s\) reported/);
    // Reported: plan_next at $.tasks[*].id (example $.tasks[0].id), baseline and candidate values in one row.
    const reported = html.slice(html.indexOf('<h2>Answer differences</h2>'), html.indexOf('<details class="noise">'));
    expect(reported).toContain('<h3>plan_next</h3>');
    expect(reported).toMatch(/<code>\$\.tasks\[\*\]\.id<\/code>[\s\S]*<code>\$\.tasks\[0\]\.id<\/code>[\s\S]*&quot;T-1&quot;[\s\S]*&quot;T-2&quot;/);
    expect(reported).not.toContain('run_id');
    // Cancelled: inside a closed <details>, with the replica column.
    const noise = html.slice(html.indexOf('<details class="noise">'), html.indexOf('</details>', html.indexOf('<details class="noise">')));
    expect(noise).toContain('<summary>Cancelled as noise (1 in 1 group(s))</summary>');
    expect(noise).toContain('$.queue.run_id');
    expect(noise).toContain('<th>replica</th>');
    expect(html).not.toContain('<details class="noise" open');
  });

  it('shows a steps table only when steps are given', () => {
    expect(renderReportHtml({ result: sample() })).not.toContain('<h2>Steps</h2>');
    const html = renderReportHtml({
      result: sample(),
      steps: [
        { name: 'build', status: 'ok', started_at: '2026-11-28T20:00:00Z', duration_ms: 1200, detail: 'cached' },
        { name: 'shadow', status: 'warning', duration_ms: 800, detail: { reported: 1 } },
      ],
    });
    expect(html).toContain('<h2>Steps</h2>');
    expect(html).toMatch(/<td>build<\/td><td>ok<\/td>/);
    // Details are labelled fields, not JSON.
    expect(html).toContain('<dt>reported</dt><dd>1</dd>');
    expect(html).not.toContain('{&quot;reported&quot;:1}');
  });

  it('writes report.html into a directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wvo-shadow-report-'));
    try {
      const file = await writeReportHtml(dir, { result: sample(), title: 'run 1' });
      expect(file).toBe(join(dir, 'report.html'));
      expect(await readFile(file, 'utf8')).toContain('WVO shadow report — run 1');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
