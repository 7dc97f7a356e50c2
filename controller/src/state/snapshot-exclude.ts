/**
 * Which source paths a snapshot leaves out. An entry names a file or a folder, relative to the
 * source root with `/` separators: a folder excludes everything under it. Matching is at a
 * path-segment boundary, so `runtime` excludes `runtime/lanes/a.json` but not `runtime-notes.txt`.
 */
export function excludedPaths(entries: readonly string[]): (relPath: string) => boolean {
  const names = entries.map((entry) => entry.replace(/\\/g, '/').replace(/^\.\/+/, '').replace(/\/+$/, '')).filter((entry) => entry !== '');
  return (relPath) => names.some((name) => relPath === name || relPath.startsWith(`${name}/`));
}
