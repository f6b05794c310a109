import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/server.ts';

describe('netfence certs never replaces a CA by accident', () => {
  it('refuses to overwrite an existing CA (exit 2, files untouched); --force replaces it', () => {
    const out = tempDir();
    expect(runCli(['certs', '--out', out]).status).toBe(0);
    const ca = readFileSync(join(out, 'ca.crt'), 'utf8');
    const key = readFileSync(join(out, 'ca.key'), 'utf8');
    const again = runCli(['certs', '--out', out]);
    expect(again.status).toBe(2);
    expect(again.stderr).toContain(`${join(out, 'ca.crt')} and ${join(out, 'ca.key')} already exist; a new CA would break every caBundle made from it`);
    expect(again.stderr).toContain('--force');
    expect(readFileSync(join(out, 'ca.crt'), 'utf8')).toBe(ca);
    expect(readFileSync(join(out, 'ca.key'), 'utf8')).toBe(key);
    const forced = runCli(['certs', '--out', out, '--force']);
    expect(forced.status).toBe(0);
    expect(readFileSync(join(out, 'ca.crt'), 'utf8')).not.toBe(ca);
  });
});

describe('netfence serve: certificate flags', () => {
  it('bad certificate flags are usage errors (exit 2) that say what to do', () => {
    const cases: Array<[string[], string]> = [
      [['--failure-policy', 'Maybe'], '--failure-policy Maybe: must be Fail or Ignore'],
      [['--ca-validity', '1h', '--serving-validity', '1h'], '--ca-validity 1h: must be at least twice --serving-validity 1h'],
      [['--serving-validity', '90'], '--serving-validity 90: not a duration (a number and a unit: ms, s, m, h or d, e.g. 2160h)'],
      [['--serving-validity', '5s'], '--serving-validity 5s: at least 10s'],
      [['--cert-secret', 'netfence-certs', '--snapshot', 'test/fixtures/manifests/shop.yaml'], '--cert-secret netfence-certs: self-managed certificates need a cluster'],
    ];
    for (const [flags, message] of cases) {
      const r = runCli(['serve', '--port', '0', ...flags]);
      expect(r.stderr, flags.join(' ')).toContain(message);
      expect(r.status, flags.join(' ')).toBe(2);
    }
  }, 120_000);
});
