import { isPlainObject } from './json-path.js';

/**
 * Values as a person reads them in the report: objects become labelled fields (nested keys
 * joined with dots), short lists are joined, everything is escaped. Raw JSON only where the
 * structure is the point (an answer shown side by side).
 */

export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

export function esc(value: unknown): string {
  return escapeHtml(String(value));
}

/** `{a: {b: 1}, c: [1, 2]}` → rows `a.b = 1`, `c = 1, 2` as a definition list. */
export function fieldsHtml(value: unknown): string {
  if (value === undefined || value === null || value === '') return '';
  if (!isPlainObject(value)) return `<span>${esc(scalar(value))}</span>`;
  const rows = flatten(value, '');
  if (rows.length === 0) return '';
  return `<dl class="fields">${rows.map(([key, text]) => `<dt>${esc(key)}</dt><dd>${esc(text)}</dd>`).join('')}</dl>`;
}

function flatten(value: Record<string, unknown>, prefix: string): [string, string][] {
  const out: [string, string][] = [];
  for (const [key, child] of Object.entries(value)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (isPlainObject(child) && Object.keys(child).length > 0) out.push(...flatten(child, name));
    else out.push([name, scalar(child)]);
  }
  return out;
}

function scalar(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) {
    if (value.every((item) => !isPlainObject(item) && !Array.isArray(item))) return value.length === 0 ? '(none)' : value.map(scalar).join(', ');
    return JSON.stringify(value);
  }
  if (isPlainObject(value)) return Object.keys(value).length === 0 ? '(empty)' : JSON.stringify(value);
  return String(value);
}

/** A lane's value for a diff or an example: JSON (strings quoted) or an explicit absence. */
export function valueHtml(holder: object, key: string): string {
  if (!Object.hasOwn(holder, key)) return '<span class="absent">(absent)</span>';
  return `<pre>${esc(json((holder as Record<string, unknown>)[key]))}</pre>`;
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2) ?? String(value);
}
