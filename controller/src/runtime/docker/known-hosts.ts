import { createHmac } from 'node:crypto';

/**
 * OpenSSH known_hosts, enough to verify an engine's sshd (pure): plain and hashed (`|1|salt|hash`)
 * host patterns, `[host]:port` for ports other than 22, `*`/`?` wildcards and `!` negation.
 * Markers (`@cert-authority`, `@revoked`) are skipped: a revoked key is never trusted here.
 */
export interface KnownHostEntry {
  patterns: string[];
  keyType: string;
  /** The key blob, base64 as in the file. */
  key: string;
}

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('@')) continue;
    const [hosts, keyType, key] = line.split(/\s+/);
    if (!hosts || !keyType || !key) continue;
    entries.push({ patterns: hosts.split(','), keyType, key });
  }
  return entries;
}

function globMatch(pattern: string, name: string): boolean {
  const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return regex.test(name);
}

function patternMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) {
    const [, , salt, hash] = pattern.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  return globMatch(pattern, name);
}

/** The name known_hosts files use for a host and port. */
export function knownHostName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** Keys (base64 blobs) the file trusts for `host:port`. */
export function trustedKeys(entries: readonly KnownHostEntry[], host: string, port: number): string[] {
  const name = knownHostName(host, port);
  return entries
    .filter((entry) => {
      const negated = entry.patterns.some((p) => p.startsWith('!') && patternMatches(p.slice(1), name));
      return !negated && entry.patterns.some((p) => !p.startsWith('!') && patternMatches(p, name));
    })
    .map((entry) => entry.key);
}
