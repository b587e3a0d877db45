// k8ts' own gRPC service beside CRI on the runtime's socket: importing an image archive into the running
// runtime's store (`k8ts images import`), since CRI has no call for it and only one process may own the store.
// Package k8ts.runtime.v1, service Images, method Import(ImportRequest{path=1}) returns
// ImportResponse{images=1 (ImportedImage{id=1, repo_tags=2})}.
import * as grpc from '@grpc/grpc-js';
import { fromJSON, type MethodDefinition, type ServiceDefinition } from '@grpc/proto-loader';
import { CriError, toCriError } from '../cri/errors.js';
import { grpcAddress } from '../cri/grpc.js';
import type { ImageService as ImageStore } from './images/image-service.js';

/** One imported image. */
export interface ImportedImageInfo {
  id: string;
  repoTags: string[];
}

const definition = fromJSON(
  {
    nested: {
      k8ts: {
        nested: {
          runtime: {
            nested: {
              v1: {
                nested: {
                  Images: {
                    methods: {
                      Import: { requestType: 'ImportRequest', responseType: 'ImportResponse', comment: '' },
                    },
                  },
                  ImportRequest: { fields: { path: { type: 'string', id: 1 } } },
                  ImportResponse: { fields: { images: { type: 'ImportedImage', id: 1, rule: 'repeated' } } },
                  ImportedImage: {
                    fields: {
                      id: { type: 'string', id: 1 },
                      repoTags: { type: 'string', id: 2, rule: 'repeated' },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
  { arrays: true },
)['k8ts.runtime.v1.Images'] as ServiceDefinition;

/** The Images service, importing into `store`, for serveCri's extraServices. */
export function importService(store: ImageStore): {
  definition: ServiceDefinition;
  implementation: grpc.UntypedServiceImplementation;
} {
  const handle: grpc.handleUnaryCall<{ path: string }, { images: ImportedImageInfo[] }> = (
    call,
    callback,
  ) => {
    store.import(call.request.path).then(
      (records) => callback(null, { images: records.map((r) => ({ id: r.id, repoTags: r.repoTags })) }),
      (err: unknown) => {
        const e = toCriError(err);
        callback({
          code: e.code as number as grpc.status,
          details: e.message,
          name: e.name,
          message: e.message,
        });
      },
    );
  };
  return { definition, implementation: { Import: handle } };
}

/** Imports an archive (a path the runtime can read) through a running runtime's socket. */
export function importThroughRuntime(address: string, file: string): Promise<ImportedImageInfo[]> {
  const client = new grpc.Client(grpcAddress(address), grpc.credentials.createInsecure());
  const m = definition.Import as MethodDefinition<{ path: string }, { images: ImportedImageInfo[] }>;
  return new Promise<ImportedImageInfo[]>((resolve, reject) => {
    client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, { path: file }, (err, res) => {
      client.close();
      if (err) reject(new CriError(err.code as number as CriError['code'], err.details || err.message));
      else resolve(res?.images ?? []);
    });
  });
}
