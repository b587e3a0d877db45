// Facts of legacy service account tokens shared by their writer (the serviceaccount-token controller) and
// their reader (the API server's authenticator): the issuer and the claims.

/** The issuer of legacy (Secret-based, never expiring) service account tokens. */
export const legacyServiceAccountIssuer = 'kubernetes/serviceaccount';
/** The prefix of a legacy token's private claims. */
export const legacyClaimPrefix = 'kubernetes.io/serviceaccount/';

/** The user name of a service account (upstream's MakeUsername). */
export function serviceAccountUsername(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

/** The claims of a legacy token for the service account, held by the Secret `secretName`. */
export function legacyServiceAccountClaims(sa: { namespace: string; name: string; uid: string }, secretName: string): Record<string, unknown> {
  return {
    iss: legacyServiceAccountIssuer,
    [`${legacyClaimPrefix}namespace`]: sa.namespace,
    [`${legacyClaimPrefix}secret.name`]: secretName,
    [`${legacyClaimPrefix}service-account.name`]: sa.name,
    [`${legacyClaimPrefix}service-account.uid`]: sa.uid,
    sub: serviceAccountUsername(sa.namespace, sa.name),
  };
}
