import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { defaultConfig } from '../../src/config/default.ts';
import { configHash, loadConfigFile } from '../../src/config/load.ts';
import { ConfigStore } from '../../src/config/store.ts';
import { review, startTestServer, tempDir, type TestServer } from '../helpers/server.ts';

/** Replaces the file in one step, as a ConfigMap volume update does (a plain write is seen half done). */
function replaceFile(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('config hot reload', () => {
  let server: TestServer;
  let file: string;

  beforeAll(async () => {
    file = join(tempDir(), 'netfence.yaml');
    writeFileSync(file, stringify(defaultConfig()));
    const store = new ConfigStore(loadConfigFile(file), file);
    store.watch({ debounceMs: 50, pollMs: 200 });
    server = await startTestServer({ config: store });
  });
  afterAll(async () => server.close());

  it('a good new file takes effect, and decisions carry its hash', async () => {
    const first = server.config.current().hash;
    const next = { ...defaultConfig(), decisionLog: { logAllowed: true } };
    replaceFile(file, stringify(next));
    await until(() => server.config.current().hash === configHash(next));
    expect(server.config.current().hash).not.toBe(first);

    const body = review({ kind: { group: 'apps', version: 'v1', kind: 'Deployment' }, namespace: 'a' });
    await server.post('/validate', body).expect(200);
    // logAllowed came with the new config: the allow decision is now in the log, with the new hash.
    const record = server.logs().find((l) => l.uid === (body.request as { uid: string }).uid);
    expect(record).toMatchObject({ decision: 'allow', configHash: configHash(next) });
    const metrics = await server.get('/metrics').expect(200);
    expect(metrics.text).toMatch(/netfence_config_reloads_total\{result="success"\} 1/);
    expect(metrics.text).toContain(`netfence_config_info{hash="${configHash(next)}",source="${file}"} 1`);
  });

  it('a bad file is refused, logged with its paths and counted; the last good config stays', async () => {
    const good = server.config.current().hash;
    replaceFile(file, 'apiVersion: netfence.io/v1alpha1\nkind: NetfenceConfig\nrules:\n  - { id: x, type: nope }\n');
    await until(() => server.logs().some((l) => l.event === 'config.reload_failed'));
    expect(server.config.current().hash).toBe(good);
    const failure = server.logs().find((l) => l.event === 'config.reload_failed');
    expect(failure?.errors).toEqual([expect.objectContaining({ path: 'rules[0].type' })]);
    const metrics = await server.get('/metrics').expect(200);
    expect(metrics.text).toMatch(/netfence_config_reloads_total\{result="failure"\} 1/);
    await server.get('/readyz').expect(200);
  });

  it('a file rewritten with the same content is not a reload', () => {
    writeFileSync(file, stringify(defaultConfig()));
    const store = new ConfigStore(loadConfigFile(file), file);
    const next = stringify({ ...defaultConfig(), excludedNamespaces: ['other'] });
    writeFileSync(file, next);
    expect(store.reload().result).toBe('success');
    writeFileSync(file, next);
    expect(store.reload().result).toBe('unchanged');
    // A bad file noticed twice (the directory watch and the stat poll) is judged once.
    const failures: string[] = [];
    store.on('reload', (r) => failures.push(r.result));
    writeFileSync(file, 'kind: Nope\n');
    expect(store.reload().result).toBe('failure');
    expect(store.reload().result).toBe('unchanged');
    expect(failures).toEqual(['failure', 'unchanged']);
  });
});
