import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';

/**
 * Edit one file of a test workspace's working tree (a mutation to upgrade to); returns the
 * function that restores it. An edit that changes nothing fails the test: the mutation no
 * longer applies to the source it was written against.
 */
export function editWorkspaceFile(dir: string, file: string, from: string | RegExp, to: string): () => void {
  const path = join(dir, file);
  const original = readFileSync(path, 'utf8');
  const changed = original.replace(from, to);
  expect(changed, `edit of ${file} changed nothing`).not.toBe(original);
  writeFileSync(path, changed);
  return () => writeFileSync(path, original);
}
