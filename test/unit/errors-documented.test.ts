import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const SOURCE_DIRS = ['common/src', 'controller/src', 'worker/src'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** Every `'WVO_…'` string literal in the sources is an error code (or an env var, listed apart). */
function codesInSources(): Set<string> {
  const codes = new Set<string>();
  for (const dir of SOURCE_DIRS) {
    for (const file of sourceFiles(join(ROOT, dir))) {
      for (const match of readFileSync(file, 'utf8').matchAll(/['"`](WVO_[A-Z0-9_]+)['"`]/g)) {
        codes.add(match[1]!);
      }
    }
  }
  return codes;
}

describe('docs/errors.md', () => {
  it('documents every error code the sources use', () => {
    const doc = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');
    const documented = new Set([...doc.matchAll(/`(WVO_[A-Z0-9_]+)`/g)].map((m) => m[1]!));
    const codes = codesInSources();
    expect(codes.size).toBeGreaterThan(0);
    const missing = [...codes].filter((code) => !documented.has(code)).sort();
    expect(missing, `codes used in sources but missing from docs/errors.md`).toEqual([]);
  });
});
