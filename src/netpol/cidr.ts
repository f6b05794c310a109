import { isIPv4, isIPv6 } from 'node:net';

// IP addresses as bigints and CIDR sets as sorted, disjoint, inclusive intervals, per family.
// Sets are what the symbolic questions need: "does this union of ipBlocks, minus its excepts,
// cover every public address?" is interval arithmetic, exact for any prefix.

export type Family = 4 | 6;

export interface Cidr {
  family: Family;
  /** First address (the prefix with host bits cleared). */
  start: bigint;
  prefix: number;
  /** Last address. */
  end: bigint;
}

const BITS: Record<Family, number> = { 4: 32, 6: 128 };

export function parseIP(text: string): { family: Family; value: bigint } | undefined {
  if (isIPv4(text)) return { family: 4, value: parseIPv4(text) };
  if (isIPv6(text)) {
    const zone = text.indexOf('%');
    return { family: 6, value: parseIPv6(zone >= 0 ? text.slice(0, zone) : text) };
  }
  return undefined;
}

function parseIPv4(text: string): bigint {
  // Number arithmetic, one BigInt at the end: a policy may carry 80,000 addresses.
  let value = 0;
  for (const part of text.split('.')) value = value * 256 + Number(part);
  return BigInt(value);
}

function parseIPv6(text: string): bigint {
  let s = text;
  // An embedded IPv4 tail (::ffff:1.2.3.4) stands for the last two groups.
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = Number(parseIPv4(tail));
    s = `${s.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = s.split('::');
  const groupsOf = (h: string | undefined): number[] => (h ? h.split(':').map((g) => parseInt(g, 16)) : []);
  const left = groupsOf(halves[0]);
  const right = groupsOf(halves[1]);
  const zeros = halves.length > 1 ? 8 - left.length - right.length : 0;
  let value = 0n;
  for (const g of [...left, ...new Array<number>(zeros).fill(0), ...right]) value = (value << 16n) | BigInt(g);
  return value;
}

/**
 * Parses a CIDR as the API server does (net.ParseCIDR): host bits may be set and are
 * cleared. Returns undefined for anything that is not a CIDR.
 */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIP(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (!ip || !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  const bits = BITS[ip.family];
  if (prefix > bits) return undefined;
  const hostBits = BigInt(bits - prefix);
  const start = (ip.value >> hostBits) << hostBits;
  const end = start + (1n << hostBits) - 1n;
  return { family: ip.family, start, prefix, end };
}

export function formatIP(family: Family, value: bigint): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.');
  }
  const groups: string[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) groups.push(((value >> s) & 0xffffn).toString(16));
  // Compress the longest run of zero groups, as RFC 5952 asks.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/** An inclusive interval of addresses. */
export type Interval = readonly [bigint, bigint];

/** A set of addresses of one family: sorted, disjoint, non-adjacent intervals. */
export class AddressSet {
  readonly family: Family;
  readonly intervals: readonly Interval[];

  private constructor(family: Family, intervals: readonly Interval[]) {
    this.family = family;
    this.intervals = intervals;
  }

  static empty(family: Family): AddressSet {
    return new AddressSet(family, []);
  }

  static all(family: Family): AddressSet {
    return new AddressSet(family, [[0n, (1n << BigInt(BITS[family])) - 1n]]);
  }

  static of(family: Family, intervals: Iterable<Interval>): AddressSet {
    return new AddressSet(family, normalize([...intervals]));
  }

  static fromCidrs(family: Family, cidrs: Iterable<Cidr>): AddressSet {
    const intervals: Interval[] = [];
    for (const c of cidrs) if (c.family === family) intervals.push([c.start, c.end]);
    return AddressSet.of(family, intervals);
  }

  isEmpty(): boolean {
    return this.intervals.length === 0;
  }

  /** Every interval of both, merged in one linear pass (both lists are sorted). */
  union(other: AddressSet): AddressSet {
    const a = this.intervals;
    const b = other.intervals;
    const out: [bigint, bigint][] = [];
    let i = 0;
    let j = 0;
    while (i < a.length || j < b.length) {
      const next = j >= b.length || (i < a.length && a[i]![0] <= b[j]![0]) ? a[i++]! : b[j++]!;
      appendMerged(out, next[0], next[1]);
    }
    return new AddressSet(this.family, out);
  }

  /** The union of many sets: all their intervals, normalised once (n log n, never a union per set). */
  static unionAll(family: Family, sets: Iterable<AddressSet>): AddressSet {
    const intervals: Interval[] = [];
    for (const s of sets) for (const iv of s.intervals) intervals.push(iv);
    return AddressSet.of(family, intervals);
  }

  subtract(other: AddressSet): AddressSet {
    const out: Interval[] = [];
    let j = 0;
    const holes = other.intervals;
    for (const [lo0, hi] of this.intervals) {
      let lo = lo0;
      while (j < holes.length && holes[j]![1] < lo) j++;
      let k = j;
      while (lo <= hi && k < holes.length && holes[k]![0] <= hi) {
        const [hlo, hhi] = holes[k]!;
        if (hlo > lo) out.push([lo, hlo - 1n]);
        lo = hhi + 1n;
        k++;
      }
      if (lo <= hi) out.push([lo, hi]);
    }
    return new AddressSet(this.family, out);
  }

  /** Addresses in both, in one linear pass over the two sorted lists. */
  intersect(other: AddressSet): AddressSet {
    const a = this.intervals;
    const b = other.intervals;
    const out: Interval[] = [];
    let i = 0;
    let j = 0;
    while (i < a.length && j < b.length) {
      const lo = a[i]![0] > b[j]![0] ? a[i]![0] : b[j]![0];
      const hi = a[i]![1] < b[j]![1] ? a[i]![1] : b[j]![1];
      if (lo <= hi) out.push([lo, hi]);
      if (a[i]![1] < b[j]![1]) i++;
      else j++;
    }
    return new AddressSet(this.family, out);
  }

  /** True when every address of `other` is in this set: one linear pass, no set built. */
  covers(other: AddressSet): boolean {
    const mine = this.intervals;
    let i = 0;
    for (const [lo, hi] of other.intervals) {
      while (i < mine.length && mine[i]![1] < lo) i++;
      // Intervals are non-adjacent, so one of ours must hold the whole of [lo, hi].
      if (i >= mine.length || mine[i]![0] > lo || mine[i]![1] < hi) return false;
    }
    return true;
  }

  /** How many addresses the set holds. */
  size(): bigint {
    let n = 0n;
    for (const [lo, hi] of this.intervals) n += hi - lo + 1n;
    return n;
  }

  has(value: bigint): boolean {
    let lo = 0;
    let hi = this.intervals.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const [a, b] = this.intervals[mid]!;
      if (value < a) hi = mid - 1;
      else if (value > b) lo = mid + 1;
      else return true;
    }
    return false;
  }

  /** One address in the set, for explanations ("admits 8.8.8.8"). */
  sample(): bigint | undefined {
    return this.intervals[0]?.[0];
  }
}

function appendMerged(out: [bigint, bigint][], lo: bigint, hi: bigint): void {
  const last = out[out.length - 1];
  if (last && lo <= last[1] + 1n) {
    if (hi > last[1]) last[1] = hi;
  } else {
    out.push([lo, hi]);
  }
}

function normalize(intervals: Interval[]): Interval[] {
  intervals.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: [bigint, bigint][] = [];
  for (const [lo, hi] of intervals) appendMerged(out, lo, hi);
  return out;
}

function setOf(family: Family, cidrs: readonly string[]): AddressSet {
  return AddressSet.fromCidrs(family, cidrs.map((c) => parseCidr(c)!));
}

/** Addresses that are not public, as docs/concepts.md defines them. */
export const NON_PUBLIC_V4 = setOf(4, [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '0.0.0.0/8',
  '224.0.0.0/3',
]);
export const NON_PUBLIC_V6 = setOf(6, ['::1/128', 'fc00::/7', 'fe80::/10', 'ff00::/8']);
export const PUBLIC_V4 = AddressSet.all(4).subtract(NON_PUBLIC_V4);
export const PUBLIC_V6 = AddressSet.all(6).subtract(NON_PUBLIC_V6);

export function publicSpace(family: Family): AddressSet {
  return family === 4 ? PUBLIC_V4 : PUBLIC_V6;
}

const PUBLIC_SIZE: Record<Family, bigint> = { 4: PUBLIC_V4.size(), 6: PUBLIC_V6.size() };

/** How many public addresses a family has (fixed: computed once). */
export function publicSpaceSize(family: Family): bigint {
  return PUBLIC_SIZE[family];
}
