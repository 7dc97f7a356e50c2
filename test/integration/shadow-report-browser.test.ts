import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { withStateDiff, writeReportHtml, type CallOutcome } from '../../controller/src/shadow/index.js';
import { diffLaneStates, stateSection } from '../../controller/src/state/index.js';
import { describeChromium, launchChromium } from '../helpers/chromium.js';
import { answer as ok, compareAnswers } from '../helpers/shadow-run.js';

describeChromium('report.html in headless Chromium', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'wvo-test-report-browser-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function laneDb(name: string, stamp: string, claimedBy = 'agent-a'): string {
    const path = join(dir, `${name}.db`);
    const db = new Database(path);
    db.exec('CREATE TABLE tasks (id TEXT PRIMARY KEY, status TEXT, claimed_by TEXT, updated_at TEXT)');
    const insert = db.prepare('INSERT INTO tasks VALUES (?, ?, ?, ?)');
    for (let i = 1; i <= 5; i++) insert.run(`T-0${i}`, 'open', i <= 2 ? claimedBy : null, i <= 2 ? stamp : '2026-01-01');
    db.close();
    return path;
  }

  /** A real result: grouped answers (an added field across calls, a lost error path), a state diff, a coverage gap. */
  function realResult() {
    const suite = {
      calls: [
        { tool: 'plan_next', name: 'top', read_only: true },
        { tool: 'plan_next', name: 'wide', read_only: true },
        { tool: 'dispatch', name: 'dispatch <unknown>' },
      ],
    };
    const tasks = (n: number, rank: boolean) => Array.from({ length: n }, (_, i) => ({ id: `T-0${i}`, ...(rank ? { rank: i } : {}) }));
    const gap = { dispatch_id: 7, executor: { source: 'not_recorded' } };
    const answers: [CallOutcome, CallOutcome, CallOutcome][] = [
      [ok({ tasks: tasks(1, false) }), ok({ tasks: tasks(1, false) }), ok({ tasks: tasks(1, true) })],
      [ok({ tasks: tasks(4, false) }), ok({ tasks: tasks(4, false) }), ok({ tasks: tasks(4, true) })],
      [ok({ code: 'WVO_TASK_NOT_FOUND' }, true), ok({ code: 'WVO_TASK_NOT_FOUND' }, true), ok(gap)],
    ];
    const answersOnly = compareAnswers(suite, answers);
    const state = diffLaneStates(
      {
        baseline: laneDb('baseline', '2026-11-28 20:00:00'),
        replicas: [laneDb('replica', '2026-11-28 20:00:01')],
        candidate: laneDb('candidate', '2026-11-28 20:00:02', 'wvo'),
      },
      { database: 'orchestrator.db' },
    );
    return withStateDiff(answersOnly, stateSection([state]));
  }

  it('shows a person the verdict, groups, state differences and coverage at the top', async () => {
    const result = realResult();
    expect(result.totals).toMatchObject({ groups_reported: 2, state_reported: 1, count: 3 });
    const file = await writeReportHtml(dir, {
      result,
      title: 'upgrade 20261128-200000',
      steps: [
        { name: 'build', status: 'ok', duration_ms: 1200, detail: { image: 'wvo-worker:abc', cached: true } },
        { name: 'shadow', status: 'warning', duration_ms: 800, detail: { calls: 3, tools: ['plan_next', 'dispatch'] } },
      ],
    });
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      const requests: string[] = [];
      page.on('request', (request) => requests.push(request.url()));
      const url = pathToFileURL(file).href;
      await page.goto(url);
      const summary = (await page.locator('#summary').textContent())!.replace(/\s+/g, ' ').trim();
      expect(summary).toBe(
        'Verdict: 3 difference(s) to review. ' +
          'Answers: 2 group(s) reported (1 regression(s), 1 addition(s)) from 9 raw difference(s); 0 cancelled as noise. ' +
          'State: 1 difference(s) in 1 database(s); 0 schema addition(s). ' +
          'Coverage: 2 tool(s), 3 success/error path(s), 1 executor gap(s).',
      );
      expect(await page.locator('#summary').isVisible()).toBe(true);
      // The added field is one row with its count and calls, not one per task per call.
      const rank = page.locator('tr', { has: page.locator('code', { hasText: '$.tasks[*].rank' }) });
      expect(await rank.count()).toBe(1);
      expect((await rank.innerText()).replace(/\s+/g, ' ')).toMatch(/addition addition 5 top, wide/);
      // State differences by table.column with an example row.
      const claimed = page.locator('tr', { has: page.locator('code', { hasText: 'tasks.claimed_by' }) }).first();
      expect((await claimed.innerText()).replace(/\s+/g, ' ')).toMatch(/regression 2 .*id T-01 "agent-a" "wvo"/);
      // Step details as labelled fields, not JSON.
      expect(await page.locator('dl.fields dt', { hasText: 'image' }).count()).toBe(1);
      expect(await page.locator('body').innerText()).not.toContain('{"image"');
      // Self-contained: the page fetched nothing but itself.
      expect(requests).toEqual([url]);
    } finally {
      await browser.close();
    }
  });
});
