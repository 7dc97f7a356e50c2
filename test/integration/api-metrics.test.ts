import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeUpgradeShadowSummary } from '../../controller/src/shadow/index.js';
import { http, startApiRig } from '../helpers/api-rig.js';
import { cleanupAfterEach } from '../helpers/cleanup.js';

const defer = cleanupAfterEach();

describe('controller /metrics', () => {
  it('exposes the last shadow diff count from upgrade_shadow.json (-1 before any run)', async () => {
    const rig = await startApiRig();
    defer(() => rig.close());
    const before = await http(rig.url, 'GET', '/metrics');
    expect(String(before.body)).toMatch(/^wvo_controller_shadow_diffs -1$/m);
    await writeUpgradeShadowSummary({
      stateRoot: rig.stateRoot,
      count: 7,
      shadowJsonPath: join(rig.projectRoot, 'experiments/mcp/upgrade/x/shadow.json'),
      relativeTo: rig.projectRoot,
      recordedAt: new Date(),
    });
    const after = await http(rig.url, 'GET', '/metrics');
    expect(String(after.body)).toMatch(/^wvo_controller_shadow_diffs 7$/m);
  });
});
