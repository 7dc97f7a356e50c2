import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

interface LogRecord {
  level?: number;
  msg?: string;
  from?: string;
  to?: string;
  event?: string;
  effect?: string;
  deployment?: string;
}

/** One reconciler/executor log record → one progress line, or nothing (debug noise). */
export function progressLine(prefix: string, record: LogRecord): string | undefined {
  const msg = record.msg ?? '';
  if (record.from && record.to && record.event) return `${prefix} ${record.from} → ${record.to} (${record.event}): ${msg}`;
  if ((record.level ?? 30) >= 40) return `${prefix} warning: ${msg}`;
  if (record.effect || msg.startsWith('skip:') || msg === 'deployment created') return `${prefix} ${msg}${msg === 'deployment created' && record.deployment ? ` ${record.deployment}` : ''}`;
  return undefined;
}

/**
 * A logger for the reconciler and the executor that prints progress lines (one per transition,
 * effect and skipped decision) instead of JSON: the reconciler already logs exactly these.
 */
export function progressLogger(prefix: string, write: (line: string) => void): Logger {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const text of chunk.toString('utf8').split('\n')) {
        if (!text.trim()) continue;
        try {
          const line = progressLine(prefix, JSON.parse(text) as LogRecord);
          if (line) write(line);
        } catch {
          write(`${prefix} ${text}`);
        }
      }
      callback();
    },
  });
  return pino({ level: 'info' }, sink);
}
