// What makes one resource different from another in the generic registry store: upstream's
// RESTCreateStrategy, RESTUpdateStrategy and RESTDeleteStrategy, as one object per resource.
import type { ResourceInfo } from '../../api/resources.js';
import type { ErrorList } from '../../apimachinery/validation/field-errors.js';

/** Any Kubernetes object as the API server holds it: decoded JSON. */
export interface KObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [field: string]: unknown;
}

/** metav1.ObjectMeta, as much of it as the generic store reads and writes. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: {
    apiVersion: string;
    kind: string;
    name: string;
    uid: string;
    controller?: boolean;
    blockOwnerDeletion?: boolean;
  }[];
  finalizers?: string[];
  managedFields?: unknown[];
  [field: string]: unknown;
}

/** The per-resource behaviour of create, update and delete. Every hook is optional. */
export interface ResourceStrategy {
  readonly info: ResourceInfo;
  /**
   * True when the resource has a status subresource: writes to the main resource keep the stored status, and
   * writes to /status keep everything else (upstream's PrepareForUpdate pair).
   */
  readonly hasStatus: boolean;
  /** True when metadata.generation counts changes to the spec (everything but metadata and status). */
  readonly tracksGeneration: boolean;
  /** PUT of a missing object creates it (upstream's AllowCreateOnUpdate). */
  readonly allowCreateOnUpdate: boolean;
  /** PUT without metadata.resourceVersion overwrites (upstream's AllowUnconditionalUpdate). */
  readonly allowUnconditionalUpdate: boolean;
  /** Upstream's defaulting for this kind, applied to every object the API receives. */
  defaults?(obj: KObject): void;
  /** Clears or sets what a client may not choose on create (e.g. status). */
  prepareForCreate?(obj: KObject): void;
  /** Carries over what a client may not change on update. */
  prepareForUpdate?(obj: KObject, old: KObject): void;
  validate?(obj: KObject): ErrorList;
  validateUpdate?(obj: KObject, old: KObject): ErrorList;
  /**
   * The grace period a delete gets when the request names none (upstream's CheckGracefulDelete). When it
   * says 0 the object goes at once whatever the request asks (an unscheduled or finished pod).
   */
  defaultGracePeriodSeconds?(obj: KObject): number | undefined;
  /**
   * For kinds that terminate rather than go at once (namespaces): the object to store instead of deleting
   * it, or undefined when it may be removed now.
   */
  terminate?(obj: KObject, now: Date, propagationPolicy: 'Orphan' | 'Background' | 'Foreground' | undefined): KObject | undefined;
  /**
   * For resources stored in another version's shape (events.k8s.io Events as core Events, autoscaling/v1
   * HPAs as v2): the stored form of a served object, and back.
   */
  toStorage?(obj: KObject): KObject;
  fromStorage?(obj: KObject): KObject;
  /** How long objects live after each write (Events: one hour, as kube-apiserver's --event-ttl). */
  readonly ttlSeconds?: number;
  /** Field values the field selector can match, besides metadata.name and metadata.namespace. */
  selectableFields?(obj: KObject): Record<string, string>;
}
