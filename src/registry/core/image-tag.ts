// The tag an image reference names, as upstream's defaulting of imagePullPolicy reads it
// (pkg/util/parsers.ParseImageName over the distribution/reference grammar): "latest" when neither a tag nor
// a digest is given, undefined when the reference does not parse (and then the policy is IfNotPresent).

const alphanumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domainName = `${domainComponent}(?:\\.${domainComponent})*`;
const host = `(?:${domainName}|\\[(?:[a-fA-F0-9:]+)\\])`;
const domainAndPort = `${host}(?::[0-9]+)?`;
const tagPattern = '[\\w][\\w.-]{0,127}';
const digestPattern = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const referenceRegexp = new RegExp(
  `^((?:${domainAndPort}/)?${pathComponent}(?:/${pathComponent})*)(?::(${tagPattern}))?(?:@(${digestPattern}))?$`,
);
const identifierRegexp = /^[a-f0-9]{64}$/;
/** Hex lengths of the digest algorithms the reference library knows; others do not parse. */
const digestHexLength: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };
const nameTotalLengthMax = 255;

/** Docker Hub's implicit domain: a first component without '.', ':' or upper case, and not localhost. */
function splitDomain(name: string): { domain: string; remainder: string } {
  const i = name.indexOf('/');
  const first = i === -1 ? '' : name.slice(0, i);
  if (i === -1 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    return { domain: 'docker.io', remainder: name };
  }
  return { domain: first, remainder: name.slice(i + 1) };
}

/** The tag of an image reference ("latest" by default), or undefined when the reference is invalid. */
export function imageTag(image: string): string | undefined {
  if (identifierRegexp.test(image)) return undefined;
  const { domain, remainder } = splitDomain(image);
  const tagSep = remainder.indexOf(':');
  const remote = tagSep > -1 ? remainder.slice(0, tagSep) : remainder;
  if (remote.toLowerCase() !== remote) return undefined;
  const m = referenceRegexp.exec(`${domain}/${remainder}`);
  if (!m) return undefined;
  if (m[1]!.length > nameTotalLengthMax) return undefined;
  const digest = m[3];
  if (digest !== undefined) {
    const [algorithm, hex] = digest.split(':') as [string, string];
    if (digestHexLength[algorithm] !== hex.length || /[A-F]/.test(hex)) return undefined;
  }
  const tag = m[2];
  if (tag !== undefined) return tag;
  return digest === undefined ? 'latest' : '';
}
