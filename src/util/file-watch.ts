import { statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

export interface FileWatch {
  close(): void;
}

export interface FileWatchOptions {
  /** Coalesces the bursts of events that one write or one Secret rotation produces. */
  debounceMs?: number;
  /** Safety net for file systems where directory events go missing (some network and overlay mounts). */
  pollMs?: number;
}

/**
 * Calls onChange when any of the files may have changed. Kubernetes updates mounted Secrets
 * and ConfigMaps by swapping a `..data` symlink in the directory, which a watch on the file
 * itself never sees, so the directories are watched, and their stat signatures are polled.
 * onChange must be idempotent: it compares contents itself.
 */
export function watchFiles(files: readonly string[], onChange: () => void, options: FileWatchOptions = {}): FileWatch {
  const debounceMs = options.debounceMs ?? 100;
  const pollMs = options.pollMs ?? 10_000;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const schedule = (): void => {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      if (!closed) onChange();
    }, debounceMs);
    timer.unref();
  };
  const names = new Set(files.map((f) => basename(f)));
  const watchers: FSWatcher[] = [];
  for (const dir of new Set(files.map((f) => dirname(f)))) {
    try {
      const w = watch(dir, { persistent: false }, (_event, name) => {
        // Secret volumes announce changes on `..data`; plain files on their own names.
        if (name === null || names.has(String(name)) || String(name).startsWith('..')) schedule();
      });
      w.on('error', () => undefined);
      watchers.push(w);
    } catch {
      // A directory that cannot be watched is still polled.
    }
  }
  let signature = statSignature(files);
  const poll = setInterval(() => {
    const next = statSignature(files);
    if (next !== signature) {
      signature = next;
      schedule();
    }
  }, pollMs);
  poll.unref();
  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      clearInterval(poll);
      for (const w of watchers) w.close();
    },
  };
}

function statSignature(files: readonly string[]): string {
  return files
    .map((f) => {
      try {
        const s = statSync(f);
        return `${s.ino}:${s.size}:${s.mtimeMs}`;
      } catch {
        return 'missing';
      }
    })
    .join('|');
}
