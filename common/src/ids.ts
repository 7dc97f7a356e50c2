import { randomBytes } from 'node:crypto';

/** A sortable id: UTC time to the second plus 6 random hex chars, e.g. 20261128-201502-a1b2c3. */
export function newRunId(now: Date = new Date()): string {
  const iso = now.toISOString();
  const stamp = `${iso.slice(0, 10).replaceAll('-', '')}-${iso.slice(11, 19).replaceAll(':', '')}`;
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}
