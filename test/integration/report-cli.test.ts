import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/server.ts';

const F = 'test/fixtures/report';
const BASE = ['report', '-f', `${F}/cluster.yaml`, '--config', `${F}/config.yaml`, '--decisions', `${F}/decisions.jsonl`, '--now', '2026-11-22T00:00:00Z'];

describe('netfence report', () => {
  it('writes the same content as JSON, Markdown and one self-contained HTML file', () => {
    const dir = tempDir();
    const json = runCli([...BASE, '-o', 'json']);
    expect(json.status).toBe(0);
    const data = JSON.parse(json.stdout);
    expect(data.coverage.namespaces).toBe(5);
    expect(data.decisions.denials).toBe(10);
    const out = join(dir, 'r.html');
    const html = runCli([...BASE, '--out', out]);
    expect(html.status).toBe(0);
    expect(html.stderr).toContain(`report written to ${out} (html, 5 namespaces, 5 violations)`);
    const text = readFileSync(out, 'utf8');
    expect(text.startsWith('<!doctype html>')).toBe(true);
    expect(text).not.toMatch(/<script|<link|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    const md = runCli([...BASE, '-o', 'markdown']);
    expect(md.stdout).toContain('## Who can reach whom');
  });

  it.each([
    { args: ['report'], error: 'give manifests (-f FILE...) or a live cluster (--kubeconfig FILE)' },
    { args: ['report', '-f', `${F}/cluster.yaml`, '-o', 'pdf'], error: '-o pdf: use html, json or markdown' },
    { args: ['report', '-f', `${F}/cluster.yaml`, '--decisions', 'nope.log'], error: '--decisions nope.log: no such file' },
    { args: ['report', '-f', `${F}/cluster.yaml`, '--now', 'yesterday'], error: '--now yesterday: not an RFC 3339 time' },
    { args: ['report', '-f', 'missing.yaml'], error: 'missing.yaml (document 1): no such file or directory' },
  ])('bad input exits 2: $error', ({ args, error }) => {
    const r = runCli(args);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(error);
  });
});
