/**
 * What /readyz reports. Each check is a function read at request time, so readiness follows
 * the live state (cluster caches going stale, shutdown starting) without anyone pushing it.
 */
export class Readiness {
  private readonly checks = new Map<string, () => boolean>();
  private shuttingDown = false;

  add(name: string, check: () => boolean): this {
    this.checks.set(name, check);
    return this;
  }

  /** From SIGTERM on, the pod reports not ready so that no new traffic is sent to it. */
  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  report(): { ready: boolean; checks: Record<string, boolean> } {
    const checks: Record<string, boolean> = { notShuttingDown: !this.shuttingDown };
    for (const [name, check] of this.checks) {
      let ok = false;
      try {
        ok = check();
      } catch {
        ok = false;
      }
      checks[name] = ok;
    }
    return { ready: Object.values(checks).every(Boolean), checks };
  }
}
