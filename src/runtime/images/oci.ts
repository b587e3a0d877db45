// The OCI image formats (image-spec v1.1) and Docker's image manifest v2 schema 2, as far as a runtime reads
// them, with checks that turn a malformed document into an InvalidManifest error instead of a TypeError later.
import { digestProblem } from './digest.js';
import { imageErrors, ImageError } from './errors.js';

/** Media types of manifests, configs and layers. */
export const mediaTypes = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayerNondistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  ociLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  ociLayerNondistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestV1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerManifestV1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerLayerForeignGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const;

/** What a manifest request accepts: both indexes and both image manifests, the OCI ones first. */
export const manifestAccept = [
  mediaTypes.ociIndex,
  mediaTypes.ociManifest,
  mediaTypes.dockerManifestList,
  mediaTypes.dockerManifest,
].join(', ');

/** How a layer blob is compressed, judged from its media type. */
export type LayerCompression = 'none' | 'gzip' | 'zstd';

/** The compression of a layer media type, or undefined when the type is not a layer we know. */
export function layerCompression(mediaType: string): LayerCompression | undefined {
  switch (mediaType) {
    case mediaTypes.ociLayer:
    case mediaTypes.ociLayerNondistributable:
    case mediaTypes.dockerLayer:
      return 'none';
    case mediaTypes.ociLayerGzip:
    case mediaTypes.ociLayerNondistributableGzip:
    case mediaTypes.dockerLayerGzip:
    case mediaTypes.dockerLayerForeignGzip:
      return 'gzip';
    case mediaTypes.ociLayerZstd:
    case mediaTypes.ociLayerNondistributableZstd:
      return 'zstd';
    default:
      return undefined;
  }
}

/** The platform a manifest is built for. */
export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

/** A content descriptor: what a blob is, its digest and size. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
}

/** An OCI image index or a Docker manifest list. */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

/** An OCI image manifest or a Docker v2 schema 2 manifest. */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** The parts of an image config (OCI config, or Docker's container image JSON) a runtime reads. */
export interface ImageConfig {
  architecture: string;
  os: string;
  variant?: string;
  created?: string;
  config?: {
    User?: string;
    Env?: string[];
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
    ExposedPorts?: Record<string, object>;
    Volumes?: Record<string, object>;
    Labels?: Record<string, string>;
    StopSignal?: string;
  };
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: { created?: string; created_by?: string; empty_layer?: boolean; comment?: string }[];
}

/** A parsed manifest document: either an index (list) or an image manifest. */
export type ManifestDocument =
  { kind: 'index'; index: ImageIndex } | { kind: 'manifest'; manifest: ImageManifest };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseJson(what: string, body: Buffer): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw imageErrors.invalidManifest(what, err instanceof Error ? err.message : String(err));
  }
  if (!isRecord(value)) throw imageErrors.invalidManifest(what, 'not a JSON object');
  return value;
}

function stringMap(what: string, value: unknown): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    throw imageErrors.invalidManifest(what, 'annotations must map strings to strings');
  }
  return value as Record<string, string>;
}

/** Checks one descriptor of a manifest or index. */
export function checkDescriptor(what: string, value: unknown): Descriptor {
  if (!isRecord(value)) throw imageErrors.invalidManifest(what, 'descriptor is not an object');
  const { mediaType, digest, size, urls, platform } = value;
  if (typeof mediaType !== 'string' || mediaType === '')
    throw imageErrors.invalidManifest(what, 'descriptor has no mediaType');
  if (typeof digest !== 'string') throw imageErrors.invalidManifest(what, 'descriptor has no digest');
  const problem = digestProblem(digest);
  if (problem !== undefined) throw imageErrors.invalidManifest(what, `${problem}: ${digest}`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw imageErrors.invalidManifest(what, `descriptor ${digest} has an invalid size`);
  }
  const descriptor: Descriptor = { mediaType, digest, size };
  if (Array.isArray(urls) && urls.every((u) => typeof u === 'string')) descriptor.urls = urls;
  const annotations = stringMap(what, value.annotations);
  if (annotations !== undefined) descriptor.annotations = annotations;
  if (platform !== undefined && platform !== null) {
    if (!isRecord(platform) || typeof platform.architecture !== 'string' || typeof platform.os !== 'string') {
      throw imageErrors.invalidManifest(what, `descriptor ${digest} has an invalid platform`);
    }
    descriptor.platform = { architecture: platform.architecture, os: platform.os };
    if (typeof platform.variant === 'string' && platform.variant !== '')
      descriptor.platform.variant = platform.variant;
    if (typeof platform['os.version'] === 'string')
      descriptor.platform['os.version'] = platform['os.version'];
  }
  return descriptor;
}

/**
 * Parses a manifest body. `contentType` is the media type the registry or the referring descriptor gave; the
 * document's own mediaType field wins when present, as containerd does it.
 */
export function parseManifestDocument(body: Buffer, contentType: string | undefined): ManifestDocument {
  const doc = parseJson('manifest', body);
  const declared = typeof doc.mediaType === 'string' ? doc.mediaType : undefined;
  const type = declared ?? baseMediaType(contentType);
  if (
    doc.schemaVersion === 1 ||
    type === mediaTypes.dockerManifestV1 ||
    type === mediaTypes.dockerManifestV1Signed
  ) {
    throw new ImageError(
      'Unsupported',
      'Docker Image Format v1 and Docker Image manifest version 2, schema 1 are not supported: push the image again with a current client',
    );
  }
  if (doc.schemaVersion !== 2)
    throw imageErrors.invalidManifest('manifest', `unknown schemaVersion ${String(doc.schemaVersion)}`);
  const isIndex =
    type === mediaTypes.ociIndex ||
    type === mediaTypes.dockerManifestList ||
    (type === undefined && Array.isArray(doc.manifests) && doc.config === undefined);
  if (isIndex) {
    if (!Array.isArray(doc.manifests)) throw imageErrors.invalidManifest('index', 'manifests is not a list');
    const index: ImageIndex = {
      schemaVersion: 2,
      mediaType: type ?? mediaTypes.ociIndex,
      manifests: doc.manifests.map((d) => checkDescriptor('index', d)),
    };
    const annotations = stringMap('index', doc.annotations);
    if (annotations !== undefined) index.annotations = annotations;
    return { kind: 'index', index };
  }
  if (type !== undefined && type !== mediaTypes.ociManifest && type !== mediaTypes.dockerManifest) {
    throw new ImageError('Unsupported', `unsupported manifest media type ${type}`);
  }
  if (!Array.isArray(doc.layers)) throw imageErrors.invalidManifest('manifest', 'layers is not a list');
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: type ?? mediaTypes.ociManifest,
    config: checkDescriptor('manifest', doc.config),
    layers: doc.layers.map((d) => checkDescriptor('manifest', d)),
  };
  const annotations = stringMap('manifest', doc.annotations);
  if (annotations !== undefined) manifest.annotations = annotations;
  return { kind: 'manifest', manifest };
}

function stringList(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined;
}

/** Parses an image config blob and checks what the runtime depends on: platform and diff IDs. */
export function parseImageConfig(body: Buffer): ImageConfig {
  const doc = parseJson('image config', body);
  const rootfs = doc.rootfs;
  if (!isRecord(rootfs) || !Array.isArray(rootfs.diff_ids)) {
    throw imageErrors.invalidManifest('image config', 'rootfs.diff_ids is missing');
  }
  const diffIDs = rootfs.diff_ids.map((d) => {
    if (typeof d !== 'string' || digestProblem(d) !== undefined) {
      throw imageErrors.invalidManifest('image config', `invalid diff ID ${JSON.stringify(d)}`);
    }
    return d;
  });
  const config: ImageConfig = {
    architecture: typeof doc.architecture === 'string' ? doc.architecture : '',
    os: typeof doc.os === 'string' ? doc.os : '',
    rootfs: { type: 'layers', diff_ids: diffIDs },
  };
  if (typeof doc.variant === 'string' && doc.variant !== '') config.variant = doc.variant;
  if (typeof doc.created === 'string') config.created = doc.created;
  if (isRecord(doc.config)) {
    const c = doc.config;
    const run: NonNullable<ImageConfig['config']> = {};
    if (typeof c.User === 'string') run.User = c.User;
    const env = stringList(c.Env);
    if (env !== undefined) run.Env = env;
    const entrypoint = stringList(c.Entrypoint);
    if (entrypoint !== undefined) run.Entrypoint = entrypoint;
    const cmd = stringList(c.Cmd);
    if (cmd !== undefined) run.Cmd = cmd;
    if (typeof c.WorkingDir === 'string') run.WorkingDir = c.WorkingDir;
    if (isRecord(c.ExposedPorts)) run.ExposedPorts = c.ExposedPorts as Record<string, object>;
    if (isRecord(c.Volumes)) run.Volumes = c.Volumes as Record<string, object>;
    const labels = stringMap('image config', c.Labels);
    if (labels !== undefined) run.Labels = labels;
    if (typeof c.StopSignal === 'string') run.StopSignal = c.StopSignal;
    config.config = run;
  }
  if (Array.isArray(doc.history)) config.history = doc.history.filter(isRecord);
  return config;
}

/** The media type without parameters ("application/json; charset=utf-8" → "application/json"). */
export function baseMediaType(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const base = contentType.split(';')[0]?.trim().toLowerCase();
  return base === '' ? undefined : base;
}
