// The review resources kubectl asks about its own permissions and identity (`auth can-i`, `auth can-i
// --list`, `auth whoami`): created, answered, never stored. Until authorization lands every authenticated
// user may do everything, so the answers say so, as upstream's AlwaysAllow authorizer would.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResourceInfo } from '../../api/resources.js';
import { apiErrors } from '../../apimachinery/errors/status-error.js';
import { readBody, writeJson } from '../http/respond.js';
import { decodeObjectBody } from './resource-handler.js';

/** Who is asking. */
export interface ReviewUser {
  name: string;
  groups: string[];
  uid?: string;
  extra?: Record<string, string[]>;
}

/** Answers a create of selfsubjectaccessreviews, selfsubjectrulesreviews or selfsubjectreviews. */
export async function serveReview(req: IncomingMessage, res: ServerResponse, info: ResourceInfo, verb: string, user: ReviewUser): Promise<void> {
  if (verb !== 'create') throw apiErrors.methodNotSupported({ group: info.group, resource: info.plural }, verb);
  const body = decodeObjectBody(await readBody(req), req.headers['content-type'], info);
  const apiVersion = info.group === '' ? info.version : `${info.group}/${info.version}`;
  const base = { ...body, apiVersion, kind: info.kind, metadata: { ...(body.metadata ?? {}), creationTimestamp: null } };
  switch (info.plural) {
    case 'selfsubjectaccessreviews':
      return writeJson(res, 201, { ...base, status: { allowed: true } });
    case 'selfsubjectrulesreviews':
      return writeJson(res, 201, {
        ...base,
        status: {
          resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
          nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
          incomplete: false,
        },
      });
    case 'selfsubjectreviews':
      return writeJson(res, 201, {
        ...base,
        status: {
          userInfo: {
            username: user.name,
            ...(user.uid ? { uid: user.uid } : {}),
            groups: user.groups,
            ...(user.extra && Object.keys(user.extra).length > 0 ? { extra: user.extra } : {}),
          },
        },
      });
    default:
      throw apiErrors.methodNotSupported({ group: info.group, resource: info.plural }, verb);
  }
}
