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
