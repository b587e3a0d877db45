// The key that signs service account tokens, kept as k3s keeps it (DATA_DIR/tls/service.key, an RSA key in
// PKCS#1 PEM): made on the first start, read on later ones, so tokens issued before a restart stay valid.
import { generateKeyPair } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { writeFileAtomic } from './write-file-atomic.js';

const generate = promisify(generateKeyPair);

/** The signing key's file under the TLS folder. */
export function serviceAccountKeyFile(tlsDir: string): string {
  return path.join(tlsDir, 'service.key');
}

/** Reads the PEM key at `file`, or makes a 2048-bit RSA key there first. Returns the PEM and whether it was made. */
export async function ensureServiceAccountKey(file: string): Promise<{ pem: string; created: boolean }> {
  try {
    return { pem: await readFile(file, 'utf8'), created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const { privateKey } = await generate('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFileAtomic(file, pem, 0o600);
  return { pem, created: true };
}
