// The service account issuer's OpenID Connect discovery (upstream's ServiceAccountIssuerDiscovery): the
// provider configuration at /.well-known/openid-configuration and the verifying keys at /openid/v1/jwks,
// so that relying parties outside the cluster can check tokens without asking the API server.
import type { JwtKey } from './jwt.js';
import { publicJwk } from './jwt.js';

export const openIDConfigurationPath = '/.well-known/openid-configuration';
export const jwksPath = '/openid/v1/jwks';

/** The two documents, made once (the keys do not change while the server runs). */
export interface IssuerDiscoveryDocuments {
  configuration: string;
  jwks: string;
}

/**
 * The documents of an issuer. `jwksURI` defaults to https://<external address>/openid/v1/jwks, as
 * upstream derives it when --service-account-jwks-uri is not given.
 */
export function issuerDiscoveryDocuments(issuer: string, keys: readonly JwtKey[], jwksURI: string): IssuerDiscoveryDocuments {
  const configuration = {
    issuer,
    jwks_uri: jwksURI,
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
  };
  // Keys sorted by ID, one entry per distinct key.
  const unique = new Map(keys.map((k) => [k.keyId, k]));
  const jwks = { keys: [...unique.values()].sort((a, b) => (a.keyId < b.keyId ? -1 : 1)).map(publicJwk) };
  return { configuration: JSON.stringify(configuration), jwks: JSON.stringify(jwks) };
}
