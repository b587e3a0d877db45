import type { Descriptor, Platform } from './oci.js';

const nodeArchToGo: Readonly<Record<string, string>> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
  mips: 'mips',
  mipsel: 'mipsle',
};

/** The platform of this host in OCI (Go) words: linux/amd64, linux/arm64, linux/arm/v7, ... */
export function hostPlatform(): Platform {
  const architecture = nodeArchToGo[process.arch] ?? process.arch;
  const platform: Platform = {
    os: process.platform === 'win32' ? 'windows' : process.platform,
    architecture,
  };
  if (architecture === 'arm') platform.variant = 'v7';
  return platform;
}

/** The variant a platform means when it names none, as containerd's platform normalisation does. */
function normalVariant(architecture: string, variant: string | undefined): string {
  if (variant !== undefined && variant !== '') return variant;
  if (architecture === 'arm64') return 'v8';
  if (architecture === 'arm') return 'v7';
  return '';
}

/** True when an image built for `candidate` runs on `wanted`. */
export function platformMatches(wanted: Platform, candidate: Platform): boolean {
  if (candidate.os !== wanted.os || candidate.architecture !== wanted.architecture) return false;
  const want = normalVariant(wanted.architecture, wanted.variant);
  const have = normalVariant(candidate.architecture, candidate.variant);
  if (want === have || have === '') return true;
  // An arm/v7 machine also runs arm/v6 and arm/v5 code.
  if (wanted.architecture === 'arm' && /^v\d$/.test(want) && /^v\d$/.test(have)) return have < want;
  return false;
}

/**
 * Picks the manifest for `wanted` from an index: exact variant first, then a compatible one, in the order
 * the index lists them.
 */
export function selectPlatformManifest(manifests: Descriptor[], wanted: Platform): Descriptor | undefined {
  const candidates = manifests.filter((m) => m.platform !== undefined && platformMatches(wanted, m.platform));
  const exact = candidates.find(
    (m) =>
      normalVariant(m.platform!.architecture, m.platform!.variant) ===
      normalVariant(wanted.architecture, wanted.variant),
  );
  return exact ?? candidates[0];
}

/** "linux/arm64/v8" for a platform. */
export function formatPlatform(platform: Platform): string {
  return [platform.os, platform.architecture, platform.variant]
    .filter((p) => p !== undefined && p !== '')
    .join('/');
}
