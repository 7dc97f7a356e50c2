import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RegisteredError } from '../../common/src/error-catalogue.js';
import { CATALOGUE_MODULES, PROJECT_ROOT, loadCatalogues, readSource, sourceFiles } from '../helpers/error-catalogues.js';

const ENV_HEADING = '## Environment variables';

/** The codes in the first column of docs/errors.md's tables: errors above the env-var heading, env vars below. */
function documented(): { errors: Set<string>; env: Set<string> } {
  const doc = readFileSync(join(PROJECT_ROOT, 'docs/errors.md'), 'utf8');
  const at = doc.indexOf(ENV_HEADING);
  expect(at, `docs/errors.md has a "${ENV_HEADING}" section`).toBeGreaterThan(0);
  const rows = (text: string) => new Set([...text.matchAll(/^\| `(WVO_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]!));
  return { errors: rows(doc.slice(0, at)), env: rows(doc.slice(at)) };
}

const sorted = (codes: Iterable<string>) => [...codes].sort();

describe('error catalogues ↔ docs/errors.md', () => {
  let registered: RegisteredError[];
  let codes: Set<string>;
  beforeAll(async () => {
    registered = await loadCatalogues();
    codes = new Set(registered.map((e) => e.code));
  });

  it('loads every module that declares a catalogue', () => {
    const declaring = sourceFiles().filter((file) => file !== 'common/src/error-catalogue.ts' && /\bdefineErrors\(/.test(readSource(file)));
    expect(sorted(declaring)).toEqual(sorted(CATALOGUE_MODULES));
    // Each listed module registers something (a module that stopped declaring is taken off the list).
    expect(new Set(registered.map((e) => e.room)).size).toBeGreaterThanOrEqual(11); // promotion/analysis shares the promotion room
  });

  it('documents every catalogued code', () => {
    const { errors } = documented();
    expect(codes.size).toBeGreaterThan(100);
    expect(sorted([...codes].filter((code) => !errors.has(code))), 'catalogued but missing from docs/errors.md').toEqual([]);
  });

  it('declares every documented code in a catalogue', () => {
    const { errors } = documented();
    expect(sorted([...errors].filter((code) => !codes.has(code))), 'documented but declared by no catalogue').toEqual([]);
  });

  it('every WVO_ literal in the sources is a catalogued code or a documented env var', () => {
    const { env } = documented();
    const loose = new Set<string>();
    for (const file of sourceFiles()) {
      for (const match of readSource(file).matchAll(/['"`](WVO_[A-Z0-9_]+)['"`]/g)) {
        if (!codes.has(match[1]!) && !env.has(match[1]!)) loose.add(`${match[1]} (${file})`);
      }
    }
    expect(sorted(loose), 'declare the code in its room\'s errors.ts, or list the env var in docs/errors.md').toEqual([]);
  });

  it('no env var shares a name with an error code', () => {
    const { env } = documented();
    expect(sorted([...env].filter((name) => codes.has(name)))).toEqual([]);
  });
});
