// Image references as distribution/reference parses and normalises them (ParseNormalizedNamed,
// ParseDockerRef, FamiliarString): the same grammar, the same Docker Hub defaults and the same error texts,
// so that a reference the kubelet, Docker or containerd accepts is accepted here and means the same image.
import { digestProblem } from './digest.js';
import { ImageError } from './errors.js';

/** A parsed, normalised image reference. */
export interface ImageReference {
  /** The registry host, with its port: "docker.io", "127.0.0.1:5000", "[::1]:5000". */
  domain: string;
  /** The repository path inside the registry: "library/busybox". */
  path: string;
  tag?: string;
  digest?: string;
}

/** The registry of references that name none. */
export const defaultDomain = 'docker.io';
const legacyDefaultDomain = 'index.docker.io';
const officialRepoPrefix = 'library/';
const defaultTag = 'latest';
const maxPathLength = 255;

const alphanumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const domainNameComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const ipv6Address = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainName = `${domainNameComponent}(?:\\.${domainNameComponent})*`;
const domainAndPort = `(?:${domainName}|${ipv6Address})(?::[0-9]+)?`;
const tagPattern = '[\\w][\\w.-]{0,127}';
const digestPattern = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const remoteName = `${pathComponent}(?:/${pathComponent})*`;
const namePattern = `(?:${domainAndPort}/)?${remoteName}`;

const referenceRegexp = new RegExp(`^(${namePattern})(?::(${tagPattern}))?(?:@(${digestPattern}))?$`);
const anchoredNameRegexp = new RegExp(`^(?:(${domainAndPort})/)?(${remoteName})$`);
const anchoredIdentifierRegexp = /^[a-f0-9]{64}$/;
const anchoredTagRegexp = new RegExp(`^${tagPattern}$`);

function invalid(message: string, input: string): ImageError {
  return new ImageError(
    'InvalidReference',
    `failed to parse image reference ${JSON.stringify(input)}: ${message}`,
  );
}

/** distribution/reference's Parse: the grammar, without normalisation. */
function parse(input: string, original: string): ImageReference {
  if (input === '') throw invalid('repository name must have at least one component', original);
  const match = referenceRegexp.exec(input);
  if (match === null) {
    const lower = input.toLowerCase();
    if (lower !== input && referenceRegexp.test(lower))
      throw invalid('repository name must be lowercase', original);
    throw invalid('invalid reference format', original);
  }
  const [, name = '', tag, digest] = match;
  const nameMatch = anchoredNameRegexp.exec(name);
  const domain = nameMatch?.[1] ?? '';
  const path = nameMatch?.[2] ?? name;
  if (path.length > maxPathLength) {
    throw invalid(`repository name must not be more than ${maxPathLength} characters`, original);
  }
  const ref: ImageReference = { domain, path };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) {
    const problem = digestProblem(digest);
    if (problem !== undefined) throw invalid(problem, original);
    ref.digest = digest;
  }
  return ref;
}

/** Splits a familiar name into registry and remainder, with Docker Hub's defaults. */
function splitDockerDomain(name: string): [domain: string, remainder: string] {
  const slash = name.indexOf('/');
  if (slash === -1) return [defaultDomain, officialRepoPrefix + name];
  const maybeDomain = name.slice(0, slash);
  let domain: string;
  let remainder: string;
  if (maybeDomain === legacyDefaultDomain) {
    [domain, remainder] = [defaultDomain, name.slice(slash + 1)];
  } else if (
    maybeDomain === 'localhost' ||
    /[.:]/.test(maybeDomain) ||
    maybeDomain.toLowerCase() !== maybeDomain
  ) {
    [domain, remainder] = [maybeDomain, name.slice(slash + 1)];
  } else {
    [domain, remainder] = [defaultDomain, name];
  }
  if (domain === defaultDomain && !remainder.includes('/')) remainder = officialRepoPrefix + remainder;
  return [domain, remainder];
}

/**
 * Parses a reference as Docker and the kubelet write it and normalises it: "busybox" becomes
 * docker.io/library/busybox, "user/app" docker.io/user/app. Tag and digest stay as given (none are added).
 * Throws ImageError InvalidReference.
 */
export function parseNormalizedNamed(input: string): ImageReference {
  if (anchoredIdentifierRegexp.test(input)) {
    throw invalid(`invalid repository name (${input}), cannot specify 64-byte hexadecimal strings`, input);
  }
  const [domain, remainder] = splitDockerDomain(input);
  const tagSep = remainder.indexOf(':');
  const remote = tagSep > -1 ? remainder.slice(0, tagSep) : remainder;
  if (remote.toLowerCase() !== remote) {
    throw invalid(`invalid reference format: repository name (${remote}) must be lowercase`, input);
  }
  const ref = parse(`${domain}/${remainder}`, input);
  if (ref.domain === '') throw invalid('reference has no name', input);
  return ref;
}

/**
 * ParseDockerRef: parseNormalizedNamed, then the tag "latest" when neither tag nor digest is given, and only
 * the digest when both are (the digest names the content; the tag would be ignored by a pull anyway).
 */
export function parseDockerRef(input: string): ImageReference {
  const ref = parseNormalizedNamed(input);
  if (ref.digest !== undefined) return { domain: ref.domain, path: ref.path, digest: ref.digest };
  return { domain: ref.domain, path: ref.path, tag: ref.tag ?? defaultTag };
}

/** True when `tag` is a valid tag. */
export function isValidTag(tag: string): boolean {
  return anchoredTagRegexp.test(tag);
}

/** "docker.io/library/busybox". */
export function referenceName(ref: ImageReference): string {
  return `${ref.domain}/${ref.path}`;
}

function withTagAndDigest(name: string, ref: ImageReference): string {
  let s = name;
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** The full normalised string: "docker.io/library/busybox:latest", "host:5000/a/b@sha256:...". */
export function referenceString(ref: ImageReference): string {
  return withTagAndDigest(referenceName(ref), ref);
}

/** The short form Docker shows: "busybox:latest", "user/app:1", "host:5000/a/b:tag". */
export function familiarString(ref: ImageReference): string {
  if (ref.domain !== defaultDomain) return referenceString(ref);
  const rest = ref.path.startsWith(officialRepoPrefix)
    ? ref.path.slice(officialRepoPrefix.length)
    : undefined;
  return withTagAndDigest(rest !== undefined && !rest.includes('/') ? rest : ref.path, ref);
}
