import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadClusterInput } from '../../src/cluster/input.ts';
import { loadConfigFile } from '../../src/config/load.ts';
import { decisionStatsFromLines } from '../../src/report/decisions.ts';
import { renderHtml } from '../../src/report/html.ts';
import { buildReport, type ReportData } from '../../src/report/model.ts';

// The HTML report opened in headless Chromium, as an auditor opens it on an air-gapped laptop:
// the numbers on the page are the JSON's, the page asks the network for nothing, and a
// screenshot is kept under test-results/ to look at.

const fixture = (f: string): string => new URL(`../fixtures/report/${f}`, import.meta.url).pathname;
const OUT = new URL('../../test-results/', import.meta.url).pathname;
const CHROMIUM = '/usr/bin/chromium';

let browser: Browser;
let data: ReportData;
let file: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM) && !process.env.CI) return;
  const { config, hash } = loadConfigFile(fixture('config.yaml'));
  const { view } = loadClusterInput([fixture('cluster.yaml')]);
  const decisions = decisionStatsFromLines(readFileSync(fixture('decisions.jsonl'), 'utf8').split('\n'), ['decisions.jsonl']);
  data = buildReport({ view, config, configHash: hash, now: new Date('2026-11-22T00:00:00Z'), netfenceNamespace: 'netfence-system', decisions });
  mkdirSync(OUT, { recursive: true });
  file = join(OUT, 'report.html');
  writeFileSync(file, renderHtml(data));
  writeFileSync(join(OUT, 'report.json'), JSON.stringify(data, null, 2));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

// Debian's chromium package (.ci/run installs it). On a developer machine without it the test
// is reported as skipped, never as passed; under CI it runs, and fails if Chromium is missing.
describe.skipIf(!existsSync(CHROMIUM) && !process.env.CI)('the HTML report in Chromium (/usr/bin/chromium)', () => {
  it('shows the numbers of the JSON, makes no network request, and prints', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    const url = pathToFileURL(file).href;
    await page.goto(url, { waitUntil: 'load' });

    // Only the file itself was loaded: no stylesheet, font, image or script from anywhere.
    expect(requests).toEqual([url]);
    expect(await page.locator('script').count()).toBe(0);

    const metrics = await page.$$eval('[data-metric]', (els) => Object.fromEntries(els.map((e) => [e.getAttribute('data-metric'), e.textContent])));
    const c = data.coverage;
    const expected: Record<string, string> = {
      'coverage.namespaces': '5',
      'coverage.excluded': '1',
      'coverage.judged': '4',
      'coverage.defaultDeny.both': '2',
      'coverage.defaultDeny.ingressOnly': '1',
      'coverage.defaultDeny.none': '1',
      'coverage.adopted': '2',
      'coverage.baselineInPlace': '1',
      'violations.total': '5',
      'exemptions.expired': '1',
      'exemptions.expiring': '1',
      'decisions.denials': '10',
      'decisions.warnings': '1',
      'decisions.rule.require-default-deny': '7',
      'decisions.user.alice': '6',
      'tiers.data.pods': '3',
      'tiers.data.fromNamespaces': '4',
    };
    expect(Object.fromEntries(Object.keys(expected).map((k) => [k, metrics[k]]))).toEqual(expected);
    // And the same figures straight from the JSON, so page and JSON cannot drift apart.
    expect(metrics['coverage.namespaces']).toBe(String(c.namespaces));
    expect(metrics['violations.total']).toBe(String(data.violations.total));
    for (const r of data.violations.byRule) expect(metrics[`violations.rule.${r.rule}.fail`]).toBe(String(r.fail));
    for (const n of data.violations.byNamespace) expect(metrics[`violations.namespace.${n.namespace}.fail`]).toBe(String(n.fail));
    for (const t of data.tiers) expect(metrics[`tiers.${t.tier}.unisolated`]).toBe(String(t.unisolated));
    expect(metrics['decisions.denials']).toBe(String(data.decisions!.denials));

    // Tables: one coverage row per namespace, the expired exemption flagged.
    expect(await page.locator('#coverage-table tbody tr').count()).toBe(c.list.length);
    expect(await page.locator('[data-exemption="payments-open"]').textContent()).toContain('EXPIRED');
    expect(await page.locator('#violations-list tbody tr').count()).toBe(data.violations.items.length);

    // One graph per drawn namespace, one box per node, one arrow per edge.
    const graphs = page.locator('svg.graph');
    expect(await graphs.count()).toBe(data.graphs.length);
    const shop = data.graphs.find((g) => g.namespace === 'shop')!;
    const svg = page.locator('svg.graph[data-namespace="shop"]');
    expect(await svg.locator('g.node').count()).toBe(shop.nodes.length);
    expect(await svg.locator('path.edge').count()).toBe(shop.edges.length);
    expect(await page.locator('svg.timeline rect.deny').count()).toBe(data.decisions!.overTime.length);

    await page.screenshot({ path: join(OUT, 'report.png'), fullPage: true });
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('nav').isVisible()).toBe(false);
    await page.pdf({ path: join(OUT, 'report.pdf'), format: 'A4' });
    await page.close();
  }, 60_000);
});
