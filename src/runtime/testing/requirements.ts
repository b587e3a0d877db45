import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** Debian packages that provide the commands the image tests run. */
const packageOf: Readonly<Record<string, string>> = {
  'docker-registry': 'docker-registry',
  skopeo: 'skopeo',
  umoci: 'umoci',
  busybox: 'busybox-static',
  setfattr: 'attr',
  getfattr: 'attr',
  openssl: 'openssl',
  mknod: 'coreutils',
  xargs: 'findutils',
  mount: 'mount',
  tar: 'tar',
  chroot: 'coreutils',
  mkfifo: 'coreutils',
  runc: 'runc',
  crun: 'crun',
  unshare: 'util-linux',
  nsenter: 'util-linux',
  ip: 'iproute2',
  nft: 'nftables',
  iptables: 'iptables',
  containerd: 'containerd',
  script: 'bsdutils',
  stty: 'coreutils',
  perl: 'perl-base',
};

/** Whether `command` is an executable on PATH. */
export function onPath(command: string): boolean {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    try {
      accessSync(path.join(dir, command), constants.X_OK);
      return true;
    } catch {
      // try the next directory
    }
  }
  return false;
}

/**
 * Throws, naming what to install, unless the tests run as root and every command is on PATH. Tests call it
 * first, so that a machine without the packages fails with a message instead of an obscure error.
 */
export function requireTools(commands: string[], options: { root?: boolean } = {}): void {
  const problems: string[] = [];
  if (options.root === true && process.getuid?.() !== 0) problems.push('these tests must run as root');
  const missing = commands.filter((c) => !onPath(c));
  if (missing.length > 0) {
    const packages = [...new Set(missing.map((c) => packageOf[c] ?? c))];
    problems.push(`missing commands ${missing.join(', ')}: apt-get install -y ${packages.join(' ')}`);
  }
  if (problems.length > 0) throw new Error(problems.join('; '));
}
