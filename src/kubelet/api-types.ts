// kubernetes-types' objects as the client library's KubeObject, so that they pass through RESTClient.
import type { KubeObject } from '../client/index.js';

/** An API type usable with RESTClient and informers. */
export type Kube<T> = T & KubeObject;
