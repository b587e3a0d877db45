// The certificates `k8ts server` needs, kept in one folder (DATA_DIR/tls) under k3s's file names. On the
// first start they are made; on later starts they are loaded, and the leaves re-issued when they no longer
// fit (a name missing, close to expiry, signed by another CA). The CAs themselves are never replaced here:
// the join token carries the server CA's hash, and every kubeconfig trusts it.
//
// Two CAs, as k3s keeps: the server CA signs serving certificates (clients trust it; its hash is in join
// tokens), the client CA signs client identities (the API server trusts it). Keeping them apart lets the
// client CA later be handed to a CSR signer (kubernetes.io/kube-apiserver-client) or rotated without
// changing what every agent pinned, and a serving certificate can never pass as a client identity.
import { mkdir, readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import path from 'node:path';
import type { CertificateAndKey, CertificateInfo } from './certificate-authority.js';
import {
  CertificateAuthority,
  canonicalIp,
  inspectCertificate,
  keyMatchesCertificate,
} from './certificate-authority.js';
import { writeFileAtomic } from './write-file-atomic.js';

/** Where each certificate and key lives, k3s's names under the folder given. */
export interface ServerCertFiles {
  serverCaCert: string;
  serverCaKey: string;
  clientCaCert: string;
  clientCaKey: string;
  servingCert: string;
  servingKey: string;
  adminCert: string;
  adminKey: string;
  /** The API server's client certificate towards kubelets. */
  kubeletClientCert: string;
  kubeletClientKey: string;
}

/** The names the serving certificate must cover besides the built-in ones. */
export interface ServerCertsOptions {
  /** DNS names (an IP address given here counts as an address). */
  hostnames: readonly string[];
  /** IPv4 and IPv6 addresses. */
  addresses: readonly string[];
  /** For the kubernetes.default.svc.<domain> name; default "cluster.local". */
  clusterDomain?: string;
  /** The time to check and issue at (default: now). */
  now?: Date;
}

/** The loaded (or new) CAs and leaf certificates. */
export interface ServerCerts {
  files: ServerCertFiles;
  serverCA: CertificateAuthority;
  clientCA: CertificateAuthority;
  serving: CertificateAndKey;
  admin: CertificateAndKey;
  /** The API server's identity when it calls kubelets (logs, exec, attach, port-forward). */
  kubeletClient: CertificateAndKey;
  /** The subject alternative names that the serving certificate carries. */
  servingNames: { dnsNames: string[]; ipAddresses: string[] };
  /** The files this call (re)wrote, so that the caller can say what changed; empty when all were reused. */
  written: string[];
}

/** The admin identity k3s gives its admin kubeconfig: member of system:masters, which RBAC lets do anything. */
export const adminUser = { user: 'system:admin', groups: ['system:masters'] } as const;
/** The API server's identity towards kubelets, as k3s names it (client-kube-apiserver.crt). */
export const kubeletClientUser = { user: 'system:apiserver', groups: ['system:masters'] } as const;
/** The serving certificate's CN, as k3s names it. */
const servingCommonName = 'kube-apiserver';
/** Leaves are re-issued this long before they expire, as k3s does (its CertificateRenewDays). */
const renewBeforeDays = 90;
const dayMs = 24 * 60 * 60 * 1000;
const keyMode = 0o600;
const certMode = 0o644;

/** The files of the certificates under `dir`. */
export function serverCertFiles(dir: string): ServerCertFiles {
  const f = (name: string): string => path.join(dir, name);
  return {
    serverCaCert: f('server-ca.crt'),
    serverCaKey: f('server-ca.key'),
    clientCaCert: f('client-ca.crt'),
    clientCaKey: f('client-ca.key'),
    servingCert: f('serving-kube-apiserver.crt'),
    servingKey: f('serving-kube-apiserver.key'),
    adminCert: f('client-admin.crt'),
    adminKey: f('client-admin.key'),
    kubeletClientCert: f('client-kube-apiserver.crt'),
    kubeletClientKey: f('client-kube-apiserver.key'),
  };
}

/** Makes or loads the server's CAs, serving certificate and admin client certificate under `dir`. */
export async function ensureServerCerts(dir: string, options: ServerCertsOptions): Promise<ServerCerts> {
  const now = options.now ?? new Date();
  const files = serverCertFiles(dir);
  const written: string[] = [];
  await mkdir(dir, { recursive: true, mode: 0o700 });

  // Independent pairs are made and written at once (each write ends in an fsync, and a first start writes
  // ten files); `written` keeps a fixed order all the same.
  const w = { serverCA: [] as string[], clientCA: [] as string[], serving: [] as string[], admin: [] as string[], kubeletClient: [] as string[] };
  const [serverCA, clientCA] = await Promise.all([
    ensureCA('k8ts-server', files.serverCaCert, files.serverCaKey, now, w.serverCA),
    ensureCA('k8ts-client', files.clientCaCert, files.clientCaKey, now, w.clientCA),
  ]);

  const wanted = servingNames(options);
  // A client certificate of the client CA for one user: kept while it names that user and those groups.
  const clientLeaf = (cert: string, key: string, user: { user: string; groups: readonly string[] }, out: string[]) =>
    ensureLeaf(
      cert,
      key,
      clientCA,
      now,
      out,
      (info) => info.extKeyUsages.includes('clientAuth') && info.commonName === user.user && sameSet(info.organizations, user.groups),
      () => clientCA.issueClientCertificate({ ...user, now }),
    );
  const [serving, admin, kubeletClient] = await Promise.all([
    ensureLeaf(
      files.servingCert,
      files.servingKey,
      serverCA,
      now,
      w.serving,
      (info) =>
        info.extKeyUsages.includes('serverAuth') &&
        wanted.dnsNames.every((n) => info.dnsNames.includes(n)) &&
        wanted.ipAddresses.every((a) => info.ipAddresses.includes(a)),
      () => serverCA.issueServingCertificate({ commonName: servingCommonName, ...wanted, now }),
    ),
    clientLeaf(files.adminCert, files.adminKey, adminUser, w.admin),
    clientLeaf(files.kubeletClientCert, files.kubeletClientKey, kubeletClientUser, w.kubeletClient),
  ]);
  written.push(...w.serverCA, ...w.clientCA, ...w.serving, ...w.admin, ...w.kubeletClient);
  const info = inspectCertificate(serving.certPem);
  return {
    files,
    serverCA,
    clientCA,
    serving,
    admin,
    kubeletClient,
    servingNames: { dnsNames: info.dnsNames, ipAddresses: info.ipAddresses },
    written,
  };
}

/**
 * This host's name and addresses, for the serving certificate: os.hostname() and every interface address
 * except link-local ones (which need a zone to be reached, and change with the interface).
 */
export function hostSubjectAltNames(): { hostnames: string[]; addresses: string[] } {
  const addresses: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family === 'IPv6' && (a.scopeid !== 0 || /^fe[89ab]/i.test(a.address))) continue;
      if (a.family === 'IPv4' && a.address.startsWith('169.254.')) continue;
      addresses.push(a.address);
    }
  }
  return { hostnames: [hostname()], addresses };
}

/** The serving certificate's names: the built-in ones k3s puts in, then the host's, without repeats. */
function servingNames(options: ServerCertsOptions): { dnsNames: string[]; ipAddresses: string[] } {
  const domain = options.clusterDomain ?? 'cluster.local';
  const dnsNames = new Set(['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc']);
  dnsNames.add(`kubernetes.default.svc.${domain}`);
  const ipAddresses = new Set(['127.0.0.1', '::1']);
  for (const name of options.hostnames) {
    const trimmed = name.trim().replace(/\.$/, '');
    if (trimmed === '') continue;
    // A --tls-san style list mixes names and addresses; an address must go in as an IP SAN to match.
    if (isIP(trimmed) !== 0) ipAddresses.add(canonicalIp(trimmed));
    else dnsNames.add(trimmed.toLowerCase());
  }
  for (const address of options.addresses) ipAddresses.add(canonicalIp(address));
  return { dnsNames: [...dnsNames], ipAddresses: [...ipAddresses] };
}

async function ensureCA(
  prefix: string,
  certFile: string,
  keyFile: string,
  now: Date,
  written: string[],
): Promise<CertificateAuthority> {
  const certPem = await readOptional(certFile);
  const keyPem = await readOptional(keyFile);
  if (certPem !== undefined && keyPem !== undefined) return CertificateAuthority.load(certPem, keyPem);
  if (certPem !== undefined) {
    // Replacing the CA would break every join token and kubeconfig that trusts it: leave that to a person.
    throw new Error(`${keyFile} is missing: the CA in ${certFile} cannot issue certificates without its key`);
  }
  // A key without its certificate is a first start that stopped half-way: nothing can trust it yet.
  const ca = await CertificateAuthority.create({ prefix, now });
  await writePair(ca, certFile, keyFile, written);
  return ca;
}

/** Loads a leaf pair, or issues and writes a new one when the old is missing or no longer fits. */
async function ensureLeaf(
  certFile: string,
  keyFile: string,
  ca: CertificateAuthority,
  now: Date,
  written: string[],
  wanted: (info: CertificateInfo) => boolean,
  issue: () => Promise<CertificateAndKey>,
): Promise<CertificateAndKey> {
  const existing = await readPair(certFile, keyFile);
  if (existing !== undefined && fits(existing, ca, now, wanted)) return existing;
  const pair = await issue();
  await writePair(pair, certFile, keyFile, written);
  return pair;
}

/** Whether an existing pair can stay: it parses, belongs together, comes from `ca`, and lives long enough. */
function fits(
  pair: CertificateAndKey,
  ca: CertificateAuthority,
  now: Date,
  wanted: (info: CertificateInfo) => boolean,
): boolean {
  try {
    const info = inspectCertificate(pair.certPem);
    return (
      keyMatchesCertificate(pair.keyPem, pair.certPem) &&
      ca.signed(pair.certPem) &&
      info.notBefore <= now &&
      info.notAfter.getTime() - now.getTime() > renewBeforeDays * dayMs &&
      wanted(info)
    );
  } catch {
    // Unreadable files are replaced like missing ones.
    return false;
  }
}

async function readPair(certFile: string, keyFile: string): Promise<CertificateAndKey | undefined> {
  const certPem = await readOptional(certFile);
  const keyPem = await readOptional(keyFile);
  return certPem === undefined || keyPem === undefined ? undefined : { certPem, keyPem };
}

/** Key first: a crash before the certificate is written leaves a mismatch that the next start repairs. */
async function writePair(
  pair: CertificateAndKey,
  certFile: string,
  keyFile: string,
  written: string[],
): Promise<void> {
  await writeFileAtomic(keyFile, pair.keyPem, keyMode);
  await writeFileAtomic(certFile, pair.certPem, certMode);
  written.push(certFile, keyFile);
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  const sb = new Set(b);
  return sa.size === sb.size && [...sa].every((x) => sb.has(x));
}
