// Temporaries that carry their writer's process id in the name, so a later
// start can tell a kill -9's leftovers (writer gone) from a live writer's
// work in progress (writer still running) and remove only the former.

import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** Whether a process with this id is running (EPERM: it exists but is not ours). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the entries of `folder` whose name matches `pattern` (its first
 * capture group is the writer's pid) and whose writer is no longer running.
 * Returns the names removed. A missing folder has nothing to clean.
 */
export function removeStaleTemporaries(folder: string, pattern: RegExp): string[] {
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const match = pattern.exec(name);
    if (!match || isProcessAlive(Number(match[1]))) continue;
    try {
      rmSync(join(folder, name), { recursive: true, force: true });
      removed.push(name);
    } catch {
      // another process may be cleaning the same folder; what stays is retried next start
    }
  }
  return removed;
}
