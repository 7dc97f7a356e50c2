import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../controller/src/config/index.js';
import { SwarmRuntime, assertRuntimeKind, createRuntime } from '../../controller/src/runtime/index.js';

/** `--runtime swarm` is a choice like the others; a swarm without nodes is a coded config error. */
describe('runtime selection: swarm', () => {
  it('accepts every config runtime as a flag and refuses others naming --runtime', () => {
    for (const kind of ['auto', 'docker', 'local', 'swarm']) expect(() => assertRuntimeKind(kind)).not.toThrow();
    expect(() => assertRuntimeKind('kubernetes')).toThrow(expect.objectContaining({ code: 'WVO_RUNTIME_UNAVAILABLE', subject: '--runtime', exitCode: 2 }));
  });

  it('runtime swarm from config opens a SwarmRuntime over the configured nodes', async () => {
    const config = parseConfig({ runtime: 'swarm', swarm: { manager: 'local', nodes: [{ label: 'a', host: 'local' }] } });
    const selected = await createRuntime(config);
    try {
      expect(selected.kind).toBe('swarm');
      expect(selected.runtime).toBeInstanceOf(SwarmRuntime);
      expect((selected.runtime as SwarmRuntime).node().label).toBe('a');
    } finally {
      await selected.runtime.close();
    }
  });

  it('--runtime swarm over a config with no swarm section: WVO_SWARM_NODE_UNKNOWN naming swarm.nodes, nothing opened', async () => {
    const config = { ...parseConfig({}), runtime: 'swarm' as const };
    await expect(createRuntime(config)).rejects.toMatchObject({ code: 'WVO_SWARM_NODE_UNKNOWN', subject: 'swarm.nodes', exitCode: 2 });
  });
});
