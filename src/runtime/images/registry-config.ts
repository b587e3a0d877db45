// Registry mirrors and per-host settings in the shape of k3s's registries.yaml: `mirrors` maps a registry
// name (or "*") to endpoint URLs tried in order, with optional repository rewrites; `configs` maps an
// endpoint host (or "*") to credentials and TLS settings. The registry's own endpoint is tried last, without
// rewrites, as containerd's "default endpoint". Reading the file is the caller's business (cli/); this module
// checks the parsed document and works out the endpoints of one registry.
import { yaml } from '../../base/lazy-yaml.js';
import { ImageError } from './errors.js';

/** Credentials for one host, as k3s names them. */
export interface RegistryAuthConfig {
  username?: string;
  password?: string;
  /** base64 of "username:password". */
  auth?: string;
  /** An OAuth2 refresh token, exchanged at the token service. */
  identitytoken?: string;
}

/** TLS settings for one host. */
export interface RegistryTLSConfig {
  cert_file?: string;
  key_file?: string;
  ca_file?: string;
  insecure_skip_verify?: boolean;
}

/** One entry of `mirrors`. */
export interface RegistryMirror {
  endpoint?: string[];
  /** Regular expression on the repository path → replacement ($1...), applied for mirror endpoints only. */
  rewrite?: Record<string, string>;
}

/** One entry of `configs`. */
export interface RegistryHostConfig {
  auth?: RegistryAuthConfig;
  tls?: RegistryTLSConfig;
}

/** The whole registries.yaml document. */
export interface RegistriesConfig {
  mirrors?: Record<string, RegistryMirror>;
  configs?: Record<string, RegistryHostConfig>;
}

/** One place a repository can be fetched from. */
export interface RegistryEndpoint {
  /** "https:" or "http:". */
  protocol: 'https:' | 'http:';
  /** host[:port], as in a URL. */
  host: string;
  /** The API root, "/v2" unless a mirror endpoint names another path. */
  apiRoot: string;
  /** The repository path to ask this endpoint for (after rewrites). */
  repository: string;
  /** True for the registry itself, false for a mirror. */
  isDefault: boolean;
  /** Try plain HTTP when HTTPS fails to connect (loopback registries, as Docker does for insecure ones). */
  httpFallback: boolean;
  tls: RegistryTLSConfig;
  auth: RegistryAuthConfig | undefined;
}

function fail(message: string): never {
  throw new ImageError('InvalidConfig', `invalid registries config: ${message}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(value: unknown, path: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') fail(`${path}: must be a string`);
  return value;
}

/** Parses and checks registries.yaml text (YAML or JSON). */
export function parseRegistriesConfig(text: string): RegistriesConfig {
  let doc: unknown;
  try {
    doc = yaml().parse(text);
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
  if (doc === null || doc === undefined) return {};
  if (!isRecord(doc)) fail('the document must be a mapping');
  const config: RegistriesConfig = {};
  if (doc.mirrors !== undefined && doc.mirrors !== null) {
    if (!isRecord(doc.mirrors)) fail('mirrors: must be a mapping');
    config.mirrors = {};
    for (const [name, value] of Object.entries(doc.mirrors)) {
      if (!isRecord(value)) fail(`mirrors.${name}: must be a mapping`);
      const mirror: RegistryMirror = {};
      if (value.endpoint !== undefined && value.endpoint !== null) {
        if (!Array.isArray(value.endpoint)) fail(`mirrors.${name}.endpoint: must be a list`);
        mirror.endpoint = value.endpoint.map((e, i) => {
          const s =
            optionalString(e, `mirrors.${name}.endpoint[${i}]`) ??
            fail(`mirrors.${name}.endpoint[${i}]: empty`);
          parseEndpointUrl(s, `mirrors.${name}.endpoint[${i}]`);
          return s;
        });
      }
      if (value.rewrite !== undefined && value.rewrite !== null) {
        if (!isRecord(value.rewrite)) fail(`mirrors.${name}.rewrite: must be a mapping`);
        mirror.rewrite = {};
        for (const [pattern, replacement] of Object.entries(value.rewrite)) {
          try {
            new RegExp(pattern);
          } catch {
            fail(`mirrors.${name}.rewrite: invalid regular expression ${JSON.stringify(pattern)}`);
          }
          mirror.rewrite[pattern] = optionalString(replacement, `mirrors.${name}.rewrite[${pattern}]`) ?? '';
        }
      }
      config.mirrors[name] = mirror;
    }
  }
  if (doc.configs !== undefined && doc.configs !== null) {
    if (!isRecord(doc.configs)) fail('configs: must be a mapping');
    config.configs = {};
    for (const [host, value] of Object.entries(doc.configs)) {
      if (!isRecord(value)) fail(`configs.${host}: must be a mapping`);
      const entry: RegistryHostConfig = {};
      if (value.auth !== undefined && value.auth !== null) {
        if (!isRecord(value.auth)) fail(`configs.${host}.auth: must be a mapping`);
        const auth: RegistryAuthConfig = {};
        for (const key of ['username', 'password', 'auth', 'identitytoken'] as const) {
          const v = optionalString(value.auth[key], `configs.${host}.auth.${key}`);
          if (v !== undefined) auth[key] = v;
        }
        entry.auth = auth;
      }
      if (value.tls !== undefined && value.tls !== null) {
        if (!isRecord(value.tls)) fail(`configs.${host}.tls: must be a mapping`);
        const tls: RegistryTLSConfig = {};
        for (const key of ['cert_file', 'key_file', 'ca_file'] as const) {
          const v = optionalString(value.tls[key], `configs.${host}.tls.${key}`);
          if (v !== undefined) tls[key] = v;
        }
        const insecure = value.tls.insecure_skip_verify;
        if (insecure !== undefined && insecure !== null) {
          if (typeof insecure !== 'boolean')
            fail(`configs.${host}.tls.insecure_skip_verify: must be a boolean`);
          tls.insecure_skip_verify = insecure;
        }
        entry.tls = tls;
      }
      config.configs[host] = entry;
    }
  }
  return config;
}

function parseEndpointUrl(value: string, path: string): URL {
  // k3s accepts a bare host as an endpoint and means HTTPS.
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `https://${value}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    fail(`${path}: invalid URL ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(`${path}: scheme must be http or https`);
  return url;
}

/** True for registry hosts on a loopback address, which Docker treats as insecure registries by default. */
export function isLoopbackHost(host: string): boolean {
  const hostname = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  if (hostname === 'localhost' || hostname === '::1' || hostname === '0:0:0:0:0:0:0:1') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

function hostConfig(config: RegistriesConfig, host: string): RegistryHostConfig {
  return config.configs?.[host] ?? config.configs?.['*'] ?? {};
}

function rewrite(repository: string, rules: Record<string, string> | undefined): string {
  for (const [pattern, replacement] of Object.entries(rules ?? {})) {
    const re = new RegExp(pattern);
    if (re.test(repository)) return repository.replace(re, replacement);
  }
  return repository;
}

/**
 * The endpoints to try, in order, for a repository of `registry` ("docker.io", "host:5000"): the mirrors'
 * endpoints, then the registry itself. Docker Hub is served by registry-1.docker.io.
 */
export function resolveEndpoints(
  config: RegistriesConfig,
  registry: string,
  repository: string,
): RegistryEndpoint[] {
  const endpoints: RegistryEndpoint[] = [];
  const mirror = config.mirrors?.[registry] ?? config.mirrors?.['*'];
  for (const [i, raw] of (mirror?.endpoint ?? []).entries()) {
    const url = parseEndpointUrl(raw, `mirrors.${registry}.endpoint[${i}]`);
    const path = url.pathname.replace(/\/+$/, '');
    const settings = hostConfig(config, url.host);
    endpoints.push({
      protocol: url.protocol as 'https:' | 'http:',
      host: url.host,
      apiRoot: path === '' ? '/v2' : path,
      repository: rewrite(repository, mirror?.rewrite),
      isDefault: false,
      httpFallback: false,
      tls: settings.tls ?? {},
      auth: settings.auth,
    });
  }
  const host = registry === 'docker.io' ? 'registry-1.docker.io' : registry;
  const settings = hostConfig(config, registry);
  const alreadyListed = endpoints.some(
    (e) => e.host === host && e.apiRoot === '/v2' && e.repository === repository,
  );
  if (!alreadyListed) {
    endpoints.push({
      protocol: 'https:',
      host,
      apiRoot: '/v2',
      repository,
      isDefault: true,
      httpFallback: isLoopbackHost(host),
      tls: isLoopbackHost(host) ? { insecure_skip_verify: true, ...settings.tls } : (settings.tls ?? {}),
      auth: settings.auth,
    });
  }
  return endpoints;
}
