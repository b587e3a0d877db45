// CRI's ImageService over the image store (images/image-service.ts). Errors become gRPC codes as containerd
// answers them: an unknown image NotFound, a reference that does not parse InvalidArgument, any other pull
// failure Unknown with the registry's message (the kubelet turns every pull error into ErrImagePull).
import type * as cri from '../cri/types.js';
import { Code, CriError } from '../cri/errors.js';
import type { ImageRecord } from './images/content-store.js';
import { isImageError } from './images/errors.js';
import type { ImageService as ImageStore } from './images/image-service.js';
import type { RegistryCredentials } from './images/registry-client.js';

/** The CRI Image message of a stored image. */
export function criImage(record: ImageRecord): cri.Image {
  const user = record.user?.split(':')[0] ?? '';
  const image: cri.Image = {
    id: record.id,
    repoTags: record.repoTags,
    repoDigests: record.repoDigests,
    size: record.size,
    spec: { image: record.id },
    pinned: record.pinned,
  };
  // As containerd: a numeric user becomes uid, a name becomes username; no user means uid 0.
  if (/^\d+$/.test(user)) image.uid = { value: Number(user) };
  else if (user !== '') image.username = user;
  else image.uid = { value: 0 };
  return image;
}

function translate(err: unknown): CriError {
  if (err instanceof CriError) return err;
  if (isImageError(err, 'InvalidReference'))
    return new CriError(Code.InvalidArgument, err.message, { cause: err });
  if (isImageError(err, 'ImageNotKnown')) return new CriError(Code.NotFound, err.message, { cause: err });
  if (isImageError(err, 'NotFound')) return new CriError(Code.NotFound, err.message, { cause: err });
  return new CriError(Code.Unknown, err instanceof Error ? err.message : String(err), { cause: err });
}

/** CRI's ImageService backed by the k8ts image store. */
export class CriImageService implements cri.ImageService {
  readonly store: ImageStore;

  constructor(store: ImageStore) {
    this.store = store;
  }

  listImages(request: cri.ListImagesRequest): Promise<cri.ListImagesResponse> {
    const wanted = request.filter?.image?.image;
    const records = wanted ? [this.store.status(wanted)].filter((r) => r !== undefined) : this.store.list();
    return Promise.resolve({ images: records.map(criImage) });
  }

  imageStatus(request: cri.ImageStatusRequest): Promise<cri.ImageStatusResponse> {
    const name = request.image?.image ?? '';
    if (!name) return Promise.reject(new CriError(Code.InvalidArgument, 'ImageSpec image is required'));
    const record = this.store.status(name);
    return Promise.resolve(record === undefined ? {} : { image: criImage(record) });
  }

  async pullImage(request: cri.PullImageRequest): Promise<cri.PullImageResponse> {
    const name = request.image?.image ?? '';
    if (!name) throw new CriError(Code.InvalidArgument, 'ImageSpec image is required');
    // Empty strings are proto3's "unset".
    const auth = Object.fromEntries(
      Object.entries(request.auth ?? {}).filter(([, v]) => typeof v === 'string' && v !== ''),
    ) as RegistryCredentials;
    try {
      const record = await this.store.pull(name, Object.keys(auth).length > 0 ? { auth } : {});
      return { imageRef: record.id };
    } catch (err) {
      throw translate(err);
    }
  }

  async removeImage(request: cri.RemoveImageRequest): Promise<cri.RemoveImageResponse> {
    const name = request.image?.image ?? '';
    if (!name) throw new CriError(Code.InvalidArgument, 'ImageSpec image is required');
    try {
      await this.store.remove(name);
    } catch (err) {
      throw translate(err);
    }
    return {};
  }

  async imageFsInfo(_request: cri.ImageFsInfoRequest): Promise<cri.ImageFsInfoResponse> {
    const info = await this.store.fsInfo();
    const usage: cri.FilesystemUsage = {
      timestamp: Number(info.timestamp),
      fsId: { mountpoint: info.mountpoint },
      usedBytes: { value: info.usedBytes },
      inodesUsed: { value: info.inodesUsed },
    };
    return { imageFilesystems: [usage], containerFilesystems: [usage] };
  }
}
