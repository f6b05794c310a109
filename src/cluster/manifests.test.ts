import { describe, expect, it } from 'vitest';
import { ManifestError, parseManifests } from './manifests.ts';

describe('parseManifests: lists as kubectl reads them', () => {
  const cases: Array<[string, string, Array<{ kind: string; apiVersion?: string; name: string; document: number; path: string }>]> = [
    [
      'typed list items without kind take the list kind and apiVersion',
      'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicyList\nitems:\n- metadata: {name: a}\n  spec: {podSelector: {}}\n',
      [{ kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1', name: 'a', document: 1, path: 'items[0]' }],
    ],
    [
      'a PodList item that names its kind keeps it',
      'apiVersion: v1\nkind: PodList\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: p}}\n- {metadata: {name: q}}\n',
      [
        { kind: 'Pod', apiVersion: 'v1', name: 'p', document: 1, path: 'items[0]' },
        { kind: 'Pod', apiVersion: 'v1', name: 'q', document: 1, path: 'items[1]' },
      ],
    ],
    [
      'documents are numbered from 1; empty ones count but yield nothing',
      'kind: Namespace\nmetadata: {name: a}\n---\n---\nkind: NamespaceList\napiVersion: v1\nitems: [{metadata: {name: b}}]\n',
      [
        { kind: 'Namespace', name: 'a', document: 1, path: '' },
        { kind: 'Namespace', apiVersion: 'v1', name: 'b', document: 3, path: 'items[0]' },
      ],
    ],
    [
      'JSON',
      '{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}}]}',
      [{ kind: 'Namespace', apiVersion: 'v1', name: 'x', document: 1, path: 'items[0]' }],
    ],
  ];
  it.each(cases)('%s', (_name, text, expected) => {
    const got = parseManifests(text, 'f.yaml').map(({ object, source }) => ({
      kind: object.kind!,
      ...(object.apiVersion ? { apiVersion: object.apiVersion } : {}),
      name: object.metadata!.name!,
      document: source.document,
      path: source.path,
    }));
    expect(got).toEqual(expected);
  });

  const bad: Array<[string, string, string]> = [
    ['an item of a plain List without kind', 'apiVersion: v1\nkind: List\nitems:\n- {metadata: {name: a}}\n', 'f.yaml (document 1, items[0]): items[0].kind: required'],
    ['a document without kind', 'a: 1\n---\nmetadata: {name: x}\n', 'f.yaml (document 1): kind: required'],
    ['a typed list without items', 'kind: PodList\n', 'f.yaml (document 1): items: PodList has no items list'],
    ['a scalar item', 'kind: PodList\nitems: [3]\n', 'f.yaml (document 1, items[0]): items[0]: expected a Kubernetes object'],
    [
      'an alias bomb',
      `a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n`,
      'f.yaml (document 1): invalid YAML: ',
    ],
    ['YAML that does not parse, in the second document', 'kind: Namespace\n---\nkind: [\n', 'f.yaml (document 2): invalid YAML at line'],
  ];
  it.each(bad)('refuses %s with file and document', (_name, text, message) => {
    let error: unknown;
    try {
      parseManifests(text, 'f.yaml');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as Error).message).toContain(message);
  });
});
