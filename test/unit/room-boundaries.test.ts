import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Room boundaries (STYLE habit 11): a room is a folder of controller/src (or the worker, or
 * common); another room is used only through its index.ts, and rooms import each other without
 * cycles. No lint plugin: the imports are read from the sources.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const CONTROLLER = join(ROOT, 'controller', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** `controller/<room>`, `worker`, `common`; undefined for anything else (node_modules, tests). */
function roomOf(file: string): string | undefined {
  const parts = relative(ROOT, file).split(sep);
  if (parts[0] === 'controller' && parts[1] === 'src' && parts.length > 3) return `controller/${parts[2]}`;
  if (parts[0] === 'worker') return 'worker';
  if (parts[0] === 'common') return 'common';
  return undefined;
}

/** The file other rooms must import: the room's index.ts (common is a kernel of small modules). */
function entryOf(room: string): string | undefined {
  if (room === 'common') return undefined;
  if (room === 'worker') return join(ROOT, 'worker', 'src', 'index.ts');
  return join(CONTROLLER, room.slice('controller/'.length), 'index.ts');
}

interface Import {
  from: string;
  to: string;
  fromRoom: string;
  toRoom: string;
}

function imports(): Import[] {
  const files = [...sourceFiles(CONTROLLER), ...sourceFiles(join(ROOT, 'worker', 'src')), ...sourceFiles(join(ROOT, 'common', 'src'))];
  const found: Import[] = [];
  for (const from of files) {
    const source = readFileSync(from, 'utf8');
    for (const match of source.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const to = resolve(dirname(from), match[1]!).replace(/\.js$/, '.ts');
      const fromRoom = roomOf(from);
      const toRoom = roomOf(to);
      if (fromRoom && toRoom && fromRoom !== toRoom) found.push({ from, to, fromRoom, toRoom });
    }
  }
  return found;
}

/** Room-level cycles, each as `a → b → … → a` (depth-first search over the room graph). */
function roomCycles(edges: Import[]): string[] {
  const graph = new Map<string, Set<string>>();
  for (const edge of edges) {
    if (!graph.has(edge.fromRoom)) graph.set(edge.fromRoom, new Set());
    graph.get(edge.fromRoom)!.add(edge.toRoom);
  }
  const cycles = new Set<string>();
  const visit = (room: string, path: string[]) => {
    for (const next of graph.get(room) ?? []) {
      const at = path.indexOf(next);
      if (at >= 0) {
        const cycle = path.slice(at);
        const start = cycle.indexOf([...cycle].sort()[0]!);
        cycles.add([...cycle.slice(start), ...cycle.slice(0, start), cycle[start]!].join(' → '));
      } else visit(next, [...path, next]);
    }
  };
  for (const room of graph.keys()) visit(room, [room]);
  return [...cycles].sort();
}

describe('room boundaries', () => {
  const all = imports();

  it('finds the cross-room imports it checks', () => {
    expect(all.length).toBeGreaterThan(20);
  });

  it('every controller room has an index.ts (demo is a program: nothing may import it)', () => {
    expect(all.filter((edge) => edge.toRoom === 'controller/demo')).toEqual([]);
    const rooms = readdirSync(CONTROLLER).filter((name) => name !== 'demo' && statSync(join(CONTROLLER, name)).isDirectory());
    const missing = rooms.filter((room) => {
      try {
        return !statSync(join(CONTROLLER, room, 'index.ts')).isFile();
      } catch {
        return true;
      }
    });
    expect(missing).toEqual([]);
  });

  it('uses another room only through its index.ts', () => {
    const bypassing = all
      .filter((edge) => {
        const entry = entryOf(edge.toRoom);
        return entry !== undefined && edge.to !== entry;
      })
      .map((edge) => `${relative(ROOT, edge.from)} → ${relative(ROOT, edge.to)}`);
    expect(bypassing).toEqual([]);
  });

  it('has no import cycles between rooms', () => {
    expect(roomCycles(all)).toEqual([]);
  });

  it('fleet/ drives promotions through operations/ and promotion/ indexes; only the adapters (cli, api) use it', () => {
    const fleetUses = new Set(all.filter((edge) => edge.fromRoom === 'controller/fleet').map((edge) => edge.toRoom));
    expect(fleetUses.has('controller/operations')).toBe(true);
    expect(all.filter((edge) => edge.toRoom === 'controller/fleet').map((edge) => edge.fromRoom).filter((room) => !['controller/cli', 'controller/api'].includes(room))).toEqual([]);
  });

  it('the check itself sees a bypass and a cycle', () => {
    const a = join(CONTROLLER, 'alpha', 'x.ts');
    const b = join(CONTROLLER, 'beta', 'y.ts');
    const edges: Import[] = [
      { from: a, to: b, fromRoom: 'controller/alpha', toRoom: 'controller/beta' },
      { from: b, to: join(CONTROLLER, 'alpha', 'index.ts'), fromRoom: 'controller/beta', toRoom: 'controller/alpha' },
    ];
    expect(roomCycles(edges)).toEqual(['controller/alpha → controller/beta → controller/alpha']);
    expect(entryOf('controller/beta')).not.toBe(b);
  });
});
