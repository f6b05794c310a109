import type { Violation } from '../admission/context.ts';
import type { NetfenceConfig } from '../config/types.ts';
import { describeSource } from '../cluster/manifests.ts';
import type { CheckReport, CheckResult } from './check.ts';
import { VERSION } from './version.ts';

// `check` for CI: SARIF 2.1.0 for code-scanning UIs, JUnit XML in the common Jenkins/Surefire
// shape for test-report UIs.

const LEVEL: Record<Violation['mode'], 'error' | 'warning' | 'note'> = { enforce: 'error', warn: 'warning', audit: 'note' };

/** A file path as a relative URI reference (SARIF artifactLocation.uri). */
function fileUri(file: string): string {
  return file.split(/[\\/]/).map(encodeURIComponent).join('/');
}

function objectName(r: CheckResult): string {
  return `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
}

export function sarifReport(report: CheckReport, config: NetfenceConfig): unknown {
  const rules = config.rules.map((rule) => ({
    id: rule.id,
    name: rule.type,
    shortDescription: { text: `${rule.type} (${rule.mode})` },
    defaultConfiguration: { level: LEVEL[rule.mode] },
  }));
  const ruleIndex = new Map(rules.map((r, i) => [r.id, i]));
  const results = report.results.flatMap((r) =>
    r.violations.map((v) => ({
      ruleId: v.rule,
      ...(ruleIndex.has(v.rule) ? { ruleIndex: ruleIndex.get(v.rule)! } : {}),
      level: LEVEL[v.mode],
      message: { text: `${objectName(r)}: ${v.path ? `${v.path}: ` : ''}${v.message}` },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: fileUri(r.source.file) },
            region: { startLine: r.source.line ?? 1 },
          },
          logicalLocations: [{ fullyQualifiedName: `${r.namespace ? `${r.namespace}/` : ''}${r.kind}/${r.name}${v.path ? `/${v.path}` : ''}`, kind: 'object' }],
        },
      ],
    })),
  );
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'netfence', version: VERSION, rules } },
        results,
        properties: { cluster: report.cluster, ...(report.baseline ? { baseline: report.baseline } : {}) },
      },
    ],
  };
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;')
    // Characters XML 1.0 cannot carry at all.
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '\ufffd');
}

function notesOf(r: CheckResult): string[] {
  return [
    ...r.violations.filter((v) => v.mode !== 'enforce').map((v) => `${v.mode}: [${v.rule}] ${v.path ? `${v.path}: ` : ''}${v.message}`),
    ...r.warnings.map((w) => `warning: ${w}`),
    ...r.exemptions.map((e) => `exemption ${e.id} ${e.status} for [${e.rule}]: ${e.reason}`),
  ];
}

/** One testsuite per file, one testcase per object; a denial is a failure, warnings go to system-out. */
export function junitReport(report: CheckReport): string {
  const byFile = new Map<string, CheckResult[]>();
  for (const r of report.results) {
    const list = byFile.get(r.source.file);
    if (list) list.push(r);
    else byFile.set(r.source.file, [r]);
  }
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
  lines.push(`<testsuites name="netfence check" tests="${report.results.length}" failures="${report.summary.denied}" errors="0" skipped="0" time="0">`);
  for (const [file, results] of byFile) {
    const failures = results.filter((r) => r.decision === 'deny').length;
    lines.push(`  <testsuite name="${xml(file)}" tests="${results.length}" failures="${failures}" errors="0" skipped="0" time="0">`);
    for (const r of results) {
      const name = `${objectName(r)} (${describeSource(r.source).slice(file.length + 2, -1)})`;
      const open = `    <testcase classname="${xml(`netfence.check.${file}`)}" name="${xml(name)}" time="0"`;
      const enforced = r.violations.filter((v) => v.mode === 'enforce');
      if (r.decision !== 'deny' && notesOf(r).length === 0) {
        lines.push(`${open}/>`);
        continue;
      }
      lines.push(`${open}>`);
      if (r.decision === 'deny') {
        const text = enforced.map((v) => `[${v.rule}] ${v.path ? `${v.path}: ` : ''}${v.message}`).join('\n');
        lines.push(`      <failure message="${xml(`denied by ${[...new Set(enforced.map((v) => v.rule))].join(', ')}`)}" type="netfence.deny">${xml(text)}</failure>`);
      }
      const notes = notesOf(r);
      if (notes.length) lines.push(`      <system-out>${xml(notes.join('\n'))}</system-out>`);
      lines.push('    </testcase>');
    }
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>');
  return lines.join('\n');
}
