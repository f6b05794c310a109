import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ClientIdentity } from '../audit/decision-log.ts';

export type { ClientIdentity };

export const UNAUTHENTICATED: ClientIdentity = Object.freeze({ authenticated: false });

// A connection's identity cannot change, so it is read once per connection, not per request.
const identities = new WeakMap<Socket, ClientIdentity>();

/**
 * The identity of the TLS client on this socket, written into decision records so that a review
 * posted by anyone who can reach the port never looks like one from the API server:
 * authenticated only by a certificate verified against `--client-ca`, with its subject common
 * name (cut to 256 characters).
 */
export function clientIdentity(socket: Socket): ClientIdentity {
  let identity = identities.get(socket);
  if (identity) return identity;
  const tls = socket as TLSSocket;
  if (tls.authorized !== true) {
    identity = UNAUTHENTICATED;
  } else {
    const cn = tls.getPeerCertificate()?.subject?.CN;
    const subject = Array.isArray(cn) ? cn.join(',') : cn;
    identity = subject ? { authenticated: true, subject: subject.slice(0, 256) } : { authenticated: true };
  }
  identities.set(socket, identity);
  return identity;
}
