// Client-certificate authentication on a TLS connection. Node's TLS server verifies the client's chain
// during the handshake against the client CA (requestCert: true, rejectUnauthorized: false, ca: [clientCa]);
// this turns its verdict into what upstream's x509 authenticator decides: no certificate leaves the request
// to other authenticators (and finally anonymous), a certificate that does not verify fails the request
// with 401, and a verified one names the user by CN and the groups by O.
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { CertificateUser } from './certificate-authority.js';
import { certificateIdentifier } from './certificate-authority.js';

/** What the client certificate of a TLS connection says about who is asking. */
export type TlsPeerAuthentication =
  { kind: 'none' } | { kind: 'user'; user: CertificateUser } | { kind: 'invalid'; message: string };

/** OpenSSL's verification codes, in Go crypto/x509's words, as upstream's authenticator reports them. */
const verifyErrors: Record<string, string> = {
  UNABLE_TO_GET_ISSUER_CERT: 'x509: certificate signed by unknown authority',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'x509: certificate signed by unknown authority',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'x509: certificate signed by unknown authority',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'x509: certificate signed by unknown authority',
  SELF_SIGNED_CERT_IN_CHAIN: 'x509: certificate signed by unknown authority',
  CERT_SIGNATURE_FAILURE: 'x509: certificate signed by unknown authority',
  CERT_HAS_EXPIRED: 'x509: certificate has expired or is not yet valid',
  CERT_NOT_YET_VALID: 'x509: certificate has expired or is not yet valid',
  INVALID_PURPOSE: 'x509: certificate specifies an incompatible key usage',
  UNSUPPORTED_CERTIFICATE_PURPOSE: 'x509: certificate specifies an incompatible key usage',
};

/** Authenticates the peer of a TLS connection whose server asked for a client certificate. */
export function authenticateTlsPeer(socket: TLSSocket): TlsPeerAuthentication {
  const peer = socket.getPeerCertificate();
  // Node gives an empty object when the client sent no certificate.
  if (peer === null || Object.keys(peer).length === 0) return { kind: 'none' };
  if (!socket.authorized) {
    const error = socket.authorizationError as (Error & { code?: string }) | string | null | undefined;
    const code = typeof error === 'string' ? error : (error?.code ?? error?.message ?? 'unknown');
    const reason = verifyErrors[code] ?? `x509: ${code}`;
    return {
      kind: 'invalid',
      message: `verifying certificate ${certificateIdentifier(peer.raw)} failed: ${reason}`,
    };
  }
  const user = userFromPeerCertificate(peer);
  return user === undefined ? { kind: 'none' } : { kind: 'user', user };
}

/**
 * The user and groups of a certificate as Node's getPeerCertificate() describes it: CN is the user (the last
 * one when there are several, as Go reads it), every O is a group. Undefined without a CN. It does not
 * verify anything: only call it for a socket that is `authorized`.
 */
export function userFromPeerCertificate(peer: PeerCertificate): CertificateUser | undefined {
  // Node types subject fields as strings, but gives an array when a field occurs more than once.
  const subject = (peer.subject ?? {}) as unknown as Record<string, string | string[] | undefined>;
  const values = (field: string): string[] => {
    const v = subject[field];
    return v === undefined ? [] : Array.isArray(v) ? v : [v];
  };
  const user = values('CN').at(-1);
  if (user === undefined || user === '') return undefined;
  return { user, groups: values('O') };
}
