import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { watchFiles, type FileWatch, type FileWatchOptions } from '../util/file-watch.ts';
import { ConfigError, parseConfig, readConfigText, type LoadedConfig } from './load.ts';

export type ReloadResult =
  | { result: 'success'; config: LoadedConfig }
  | { result: 'unchanged' }
  | { result: 'failure'; error: ConfigError };

interface ConfigStoreEvents {
  /** A new config is in force. */
  change: [LoadedConfig];
  /** A reload was attempted (for metrics and logs). */
  reload: [ReloadResult];
}

/**
 * Holds the config in force. Readers take `current()` once per request, so a reload never
 * changes the config under a decision that is half made. A bad file on reload is refused and
 * the last good config stays.
 */
export class ConfigStore extends EventEmitter<ConfigStoreEvents> {
  private loaded: LoadedConfig;
  private readonly path: string | undefined;
  private watcher: FileWatch | undefined;
  /** Digest of the file text last tried: the same text is never judged (or counted) twice. */
  private lastAttempt: string | undefined;

  constructor(initial: LoadedConfig, path?: string) {
    super();
    this.loaded = initial;
    this.path = path;
  }

  current(): LoadedConfig {
    return this.loaded;
  }

  /** Re-reads the config file; a no-op for the built-in config. */
  reload(): ReloadResult {
    if (!this.path) return { result: 'unchanged' };
    let outcome: ReloadResult;
    try {
      const text = readConfigText(this.path);
      // The directory watch and the stat poll may both report one change: judge it once.
      const digest = createHash('sha256').update(text).digest('hex');
      const seen = digest === this.lastAttempt;
      this.lastAttempt = digest;
      const next = seen ? this.loaded : parseConfig(text, this.path);
      if (seen || next.hash === this.loaded.hash) {
        outcome = { result: 'unchanged' };
      } else {
        this.loaded = next;
        outcome = { result: 'success', config: next };
      }
    } catch (err) {
      const error = err instanceof ConfigError ? err : new ConfigError(this.path, [{ path: '', message: String(err) }]);
      outcome = { result: 'failure', error };
    }
    this.emit('reload', outcome);
    if (outcome.result === 'success') this.emit('change', outcome.config);
    return outcome;
  }

  watch(options?: FileWatchOptions): void {
    if (!this.path || this.watcher) return;
    this.watcher = watchFiles([this.path], () => this.reload(), options);
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}
