// `k8ts server`'s service account token flags, named as kube-apiserver names them, and the ApiServer options
// they make: the signing key (made on first start as k3s's tls/service.key), issuers, audiences.
import { readFile } from 'node:fs/promises';
import type { ApiServerOptions } from '../../apiserver/api-server.js';
import { admissionPluginNames } from '../../apiserver/api-server.js';
import { ensureServiceAccountKey, serviceAccountKeyFile } from '../../apiserver/pki/service-account-key.js';
import { signingKeyFromPem, signJwt } from '../../apiserver/serviceaccount/jwt.js';
import { defaultServiceAccountIssuer } from '../../apiserver/serviceaccount/tokens.js';
import type { Logger } from '../../base/log.js';
import { formatIP, parseCIDR } from '../../api/ip.js';
import type { FlagSpec } from '../flags.js';

export const serviceAccountFlags: FlagSpec = {
  'service-account-issuer': {
    type: 'string',
    help: 'issuer of service account tokens, comma-separated: the first names new tokens, all are accepted',
    default: defaultServiceAccountIssuer,
  },
  'api-audiences': { type: 'string', help: 'audiences of the API, comma-separated (default: the first issuer)', default: '' },
  'service-account-signing-key-file': {
    type: 'string',
    help: 'PEM private key that signs service account tokens (default: tls/service.key in the data directory, made on first start)',
    default: '',
  },
  'service-account-key-file': { type: 'string', help: 'more PEM keys whose service account tokens are accepted, comma-separated', default: '' },
  'service-account-max-token-expiration': { type: 'string', help: 'the longest lifetime a TokenRequest gets, a duration such as 48h (default: no limit)', default: '' },
  'service-account-jwks-uri': { type: 'string', help: 'jwks_uri in the issuer discovery document (default: https://<advertise address>:<port>/openid/v1/jwks)', default: '' },
  'disable-admission-plugins': {
    type: 'string',
    help: `admission plugins to turn off, comma-separated (${admissionPluginNames.join(', ')})`,
    default: '',
  },
};

const list = (v: string | boolean | undefined): string[] =>
  String(v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** The ApiServer options of the flags; reads (or makes) the signing key. */
export async function serviceAccountOptions(
  values: Record<string, string | boolean | undefined>,
  tlsDir: string,
  log: Logger,
  /** The server's parser of Go-style durations ("48h"), in milliseconds. */
  durationMs: (value: string, flag: string) => number,
): Promise<Pick<ApiServerOptions, 'serviceAccounts' | 'disabledAdmissionPlugins'>> {
  const disabled = list(values['disable-admission-plugins']);
  for (const name of disabled) {
    if (!(admissionPluginNames as readonly string[]).includes(name)) {
      throw new Error(`invalid --disable-admission-plugins: admission plugin "${name}" is unknown (known: ${admissionPluginNames.join(', ')})`);
    }
  }
  const issuers = list(values['service-account-issuer']);
  if (issuers.length === 0) throw new Error('invalid --service-account-issuer: at least one issuer is needed');
  for (const i of issuers) {
    if (i.includes(':') && !/^https:\/\//.test(i)) throw new Error(`invalid --service-account-issuer: ${i} (a URL must use the https scheme)`);
  }
  const maxText = String(values['service-account-max-token-expiration'] ?? '');
  const maxExpiration = maxText === '' ? 0 : Math.floor(durationMs(maxText, 'service-account-max-token-expiration') / 1000);
  if (maxExpiration > 0 && maxExpiration < 3600) throw new Error('invalid --service-account-max-token-expiration: should be at least 1 hour');
  const keyFile = (values['service-account-signing-key-file'] as string) || '';
  let signingKeyPem: string | Promise<string>;
  if (keyFile !== '') signingKeyPem = await readFile(keyFile, 'utf8');
  else {
    // A first start makes an RSA key (a few hundred ms, off the main thread): the server gets ready meanwhile.
    signingKeyPem = ensureServiceAccountKey(serviceAccountKeyFile(tlsDir)).then((key) => {
      if (key.created) log.info('made the service account signing key', { file: serviceAccountKeyFile(tlsDir) });
      return key.pem;
    });
  }
  const extraKeyPems = await Promise.all(list(values['service-account-key-file']).map((f) => readFile(f, 'utf8')));
  const audiences = list(values['api-audiences']);
  const jwksURI = (values['service-account-jwks-uri'] as string) || '';
  return {
    serviceAccounts: {
      signingKeyPem,
      extraKeyPems,
      issuers,
      ...(audiences.length > 0 ? { audiences } : {}),
      ...(maxExpiration > 0 ? { maxExpirationSeconds: maxExpiration } : {}),
      ...(jwksURI !== '' ? { jwksURI } : {}),
    },
    ...(disabled.length > 0 ? { disabledAdmissionPlugins: disabled } : {}),
  };
}

/**
 * The kubernetes Service's cluster IPs (the first address of each service CIDR): in-cluster clients dial
 * KUBERNETES_SERVICE_HOST and check the serving certificate against the kube-root-ca.crt they were given,
 * so the certificate must name these addresses, as k3s's does.
 */
export function kubernetesServiceIPs(serviceCIDRs: readonly string[]): string[] {
  return serviceCIDRs.flatMap((c) => {
    const cidr = parseCIDR(c);
    return cidr ? [formatIP({ family: cidr.family, value: cidr.base + 1n })] : [];
  });
}

/** Signs legacy token claims with the service account key, for the serviceaccount-token controller. */
export function legacyTokenSigner(signingKeyPem: string | Promise<string>): (claims: Record<string, unknown>) => Promise<string> {
  const key = Promise.resolve(signingKeyPem).then(signingKeyFromPem);
  key.catch(() => undefined);
  return async (claims) => signJwt(claims, await key);
}
