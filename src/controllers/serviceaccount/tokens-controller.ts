// The service account tokens controller (upstream's serviceaccount-token, TokensController): a Secret of type
// kubernetes.io/service-account-token that names a ServiceAccount gets a legacy token (no expiry), the
// cluster CA and the namespace in its data; a Secret whose ServiceAccount is gone (or was recreated) is
// deleted, and deleting a ServiceAccount deletes its token Secrets.
import { legacyServiceAccountClaims } from '../../api/service-account-tokens.js';
import type { Logger } from '../../base/log.js';
import type { KubeObject, RESTClient, SharedInformer } from '../../client/index.js';
import { isStatus } from '../../client/index.js';
import type { Controller, ControllerContext } from '../common/controller.js';
import { newQueue, runWorkers } from '../common/controller.js';

const secretsRef = { group: '', version: 'v1', resource: 'secrets' };
const serviceAccountsRef = { group: '', version: 'v1', resource: 'serviceaccounts' };
const tokenSecretType = 'kubernetes.io/service-account-token';
const nameAnnotation = 'kubernetes.io/service-account.name';
const uidAnnotation = 'kubernetes.io/service-account.uid';

interface SecretLike extends KubeObject {
  type?: string;
  data?: Record<string, string>;
}

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const unb64 = (text: string | undefined): string => Buffer.from(text ?? '', 'base64').toString('utf8');

/** Fills and cleans up service account token Secrets. */
export class TokensController implements Controller {
  readonly name = 'serviceaccount-token';
  private readonly client: RESTClient;
  private readonly secrets: SharedInformer<SecretLike>;
  private readonly serviceAccounts: SharedInformer;
  private readonly queue = newQueue('serviceaccount_tokens_secret');
  private readonly log: Logger;
  private readonly sign: ((claims: Record<string, unknown>) => string | Promise<string>) | undefined;
  private readonly rootCA: string | undefined;

  constructor(ctx: ControllerContext) {
    this.client = ctx.client;
    this.log = ctx.log.with({ controller: this.name });
    this.sign = ctx.config?.serviceAccountTokenSigner;
    this.rootCA = ctx.config?.rootCA ?? ctx.client.config.ca;
    this.secrets = ctx.informers.informerFor<SecretLike>(secretsRef);
    this.serviceAccounts = ctx.informers.informerFor(serviceAccountsRef);
    const bySecret = (s: SecretLike): void => {
      if (s.type === tokenSecretType) this.queue.add(`${s.metadata?.namespace ?? ''}/${s.metadata?.name ?? ''}`);
    };
    this.secrets.addEventHandler({ onAdd: bySecret, onUpdate: (_o, s) => bySecret(s) });
    // A ServiceAccount that goes (or comes back with a new uid) takes its token Secrets with it.
    const byAccount = (sa: KubeObject): void => {
      const ns = sa.metadata?.namespace ?? '';
      for (const s of this.secrets.lister.list(ns)) {
        if (s.type === tokenSecretType && s.metadata?.annotations?.[nameAnnotation] === sa.metadata?.name) bySecret(s);
      }
    };
    this.serviceAccounts.addEventHandler({
      onAdd: byAccount,
      onUpdate: (_o, sa) => byAccount(sa),
      onDelete: (sa) => byAccount('obj' in sa ? (sa.obj as KubeObject) : sa),
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    await Promise.all([this.secrets.waitForSync(signal), this.serviceAccounts.waitForSync(signal)]).catch(() => undefined);
    if (signal.aborted) return;
    if (!this.sign) {
      this.log.info('no service account private key: idle', {}, 1);
      this.queue.shutDown();
      return;
    }
    await runWorkers(this.queue, 5, (key) => this.sync(key), signal, this.log);
  }

  /** Level-triggered on one Secret. */
  async sync(key: string): Promise<void> {
    const [namespace = '', name = ''] = key.split('/');
    const secret = this.secrets.lister.get(namespace, name);
    if (!secret || secret.type !== tokenSecretType || secret.metadata?.deletionTimestamp || !this.sign) return;
    const annotations = secret.metadata?.annotations ?? {};
    const saName = annotations[nameAnnotation] ?? '';
    const sa = this.serviceAccounts.lister.get(namespace, saName) ?? (await this.liveServiceAccount(namespace, saName));
    const wantedUID = annotations[uidAnnotation];
    if (!sa || (wantedUID !== undefined && wantedUID !== '' && wantedUID !== sa.metadata?.uid)) {
      try {
        await this.client.delete({ ...secretsRef, namespace }, name, { preconditions: { uid: secret.metadata?.uid ?? '' } });
      } catch (err) {
        if (!isStatus(err, 'NotFound') && !isStatus(err, 'Conflict')) throw err;
      }
      return;
    }
    const uid = sa.metadata?.uid ?? '';
    const data = { ...(secret.data ?? {}) };
    let changed = false;
    if (unb64(data.token) === '') {
      data.token = b64(await this.sign(legacyServiceAccountClaims({ namespace, name: saName, uid }, name)));
      changed = true;
    }
    if (this.rootCA !== undefined && unb64(data['ca.crt']) !== this.rootCA) {
      data['ca.crt'] = b64(this.rootCA);
      changed = true;
    }
    if (unb64(data.namespace) !== namespace) {
      data.namespace = b64(namespace);
      changed = true;
    }
    if (annotations[uidAnnotation] !== uid) changed = true;
    if (!changed) return;
    try {
      await this.client.update({ ...secretsRef, namespace }, { ...secret, metadata: { ...secret.metadata, annotations: { ...annotations, [uidAnnotation]: uid } }, data });
    } catch (err) {
      // A newer version of the Secret brings its own event.
      if (!isStatus(err, 'Conflict') && !isStatus(err, 'NotFound')) throw err;
    }
  }

  /** The informer may not have seen a ServiceAccount made a moment ago: ask the API before deleting. */
  private async liveServiceAccount(namespace: string, name: string): Promise<KubeObject | undefined> {
    if (name === '') return undefined;
    try {
      return await this.client.get({ ...serviceAccountsRef, namespace }, name);
    } catch (err) {
      if (isStatus(err, 'NotFound')) return undefined;
      throw err;
    }
  }
}
