import type { TlsOptions } from 'node:tls';

/**
 * What one client may cost the server, and for how long. Every value is bounded by something
 * the API server does (see the README's "Limits and timeouts" table); tests shrink them.
 */
export interface ServerLimits {
  /**
   * The request line and headers must arrive within this, from the start of the message (for a
   * new connection: from the end of the TLS handshake). The API server sends them at once.
   */
  headersTimeoutMs: number;
  /**
   * A whole request, body included, must arrive within this; a slow body is answered 408 and
   * the connection closed. Node refuses a headers timeout above it (checked below).
   */
  requestTimeoutMs: number;
  /** Idle time between two requests on a keep-alive connection before the server closes it. */
  keepAliveTimeoutMs: number;
  /** A TLS handshake not finished within this is dropped. */
  handshakeTimeoutMs: number;
  /** Open connections accepted at once; above it, new connections are closed at accept. */
  maxConnections: number;
}

export const DEFAULT_LIMITS: Readonly<ServerLimits> = Object.freeze({
  // The API server writes a review's headers in one go; 10 s is generous and bounds a client
  // that opens a connection and sends nothing (or headers byte by byte).
  headersTimeoutMs: 10_000,
  // The API server waits at most 30 s for a webhook (timeoutSeconds is capped at 30), so a
  // request still incomplete after that is not worth finishing.
  requestTimeoutMs: 30_000,
  // The API server's webhook client (Go's http.Transport) closes idle connections after 90 s;
  // keeping ours open a little longer means the client always closes first, so it never sends
  // a review on a connection the server is closing at that very moment.
  keepAliveTimeoutMs: 95_000,
  // Node's default is 120 s: a client that starts a handshake and stalls would hold a
  // connection slot that long. A handshake takes milliseconds.
  handshakeTimeoutMs: 10_000,
  // An idle TLS connection costs about 60 KB of memory (5,000 took RSS from 170 to 462 MiB);
  // 1,000 stay near 60 MiB, well inside the Deployment's 512 Mi, and far above what the API
  // servers hold open (one connection per review in flight, reused).
  maxConnections: 1_000,
});

/**
 * The limits must reach Node at server creation: Fastify assigns requestTimeout after the
 * server exists, which skips Node's check that headersTimeout ≤ requestTimeout, and with Node's
 * default 60 s headersTimeout above a 30 s requestTimeout the request timeout never fires
 * (measured on Node 24.21: a body sent at 2 bytes/s with requestTimeout 3 s was still open after
 * 70 s). Passing both here makes Node validate and apply them.
 */
export function limitsTlsOptions(limits: ServerLimits): Record<string, number> {
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    throw new Error(`headers timeout (${limits.headersTimeoutMs} ms) must not exceed the request timeout (${limits.requestTimeoutMs} ms)`);
  }
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    handshakeTimeout: limits.handshakeTimeoutMs,
    // Node checks header and request deadlines on this interval (default 30 s, which would let
    // a 30 s timeout fire anywhere up to 60 s). The check walks only connections with a
    // request in progress.
    connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 4))),
  };
}

/**
 * TLS 1.2 with forward secrecy and authenticated encryption only (ECDHE with AES-GCM or
 * ChaCha20-Poly1305), and the TLS 1.3 suites. Every Kubernetes API server (Go's crypto/tls)
 * offers these; nothing else is worth accepting from anyone.
 */
export const CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** The TLS settings of the server: applied at start and again on every certificate reload. */
export function secureContextOptions(pair: { cert: string; key: string }, clientCA: string | undefined): TlsOptions {
  return {
    ...pair,
    minVersion: 'TLSv1.2',
    ciphers: CIPHERS,
    honorCipherOrder: true,
    // The client CA is what verifies client certificates: it must survive certificate reloads.
    ...(clientCA !== undefined ? { ca: clientCA } : {}),
  };
}
