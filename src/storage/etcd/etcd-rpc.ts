// The part of etcd's v3 gRPC API this backend speaks, as a protobufjs JSON descriptor (so that nothing has to
// be copied next to the compiled code), with TypeScript shapes of the messages as @grpc/proto-loader hands
// them over under the options below. Package, service, message names and field numbers are etcd's
// (etcdserverpb and mvccpb of etcd 3.4+); fields this backend never sets or reads are left out, which
// protobuf allows: unknown fields are skipped on decode.
import { fromJSON } from '@grpc/proto-loader';
import type { Options, PackageDefinition } from '@grpc/proto-loader';

/** A protobufjs JSON namespace, as fromJSON takes it. */
type NamespaceSpec = Parameters<typeof fromJSON>[0];
type FieldSpec = { type: string; id: number; rule?: 'repeated' };
type MessageSpec = {
  fields: Record<string, FieldSpec>;
  oneofs?: Record<string, { oneof: string[] }>;
  nested?: Record<string, { values: Record<string, number> }>;
};

const one = (type: string, id: number): FieldSpec => ({ type, id });
const many = (type: string, id: number): FieldSpec => ({ type, id, rule: 'repeated' });
const message = (
  fields: Record<string, FieldSpec>,
  extra: Omit<MessageSpec, 'fields'> = {},
): MessageSpec => ({
  fields,
  ...extra,
});
// protobufjs' typings demand a comment on every method.
const unary = (requestType: string, responseType: string) => ({ requestType, responseType, comment: '' });

const mvccpb: NamespaceSpec = {
  nested: {
    KeyValue: message({
      key: one('bytes', 1),
      create_revision: one('int64', 2),
      mod_revision: one('int64', 3),
      version: one('int64', 4),
      value: one('bytes', 5),
      lease: one('int64', 6),
    }),
    Event: message(
      { type: one('EventType', 1), kv: one('KeyValue', 2), prev_kv: one('KeyValue', 3) },
      { nested: { EventType: { values: { PUT: 0, DELETE: 1 } } } },
    ),
  },
};

const etcdserverpb: NamespaceSpec = {
  nested: {
    KV: {
      methods: {
        Range: unary('RangeRequest', 'RangeResponse'),
        Put: unary('PutRequest', 'PutResponse'),
        DeleteRange: unary('DeleteRangeRequest', 'DeleteRangeResponse'),
        Txn: unary('TxnRequest', 'TxnResponse'),
        Compact: unary('CompactionRequest', 'CompactionResponse'),
      },
    },
    Watch: {
      methods: {
        Watch: { ...unary('WatchRequest', 'WatchResponse'), requestStream: true, responseStream: true },
      },
    },
    Lease: { methods: { LeaseGrant: unary('LeaseGrantRequest', 'LeaseGrantResponse') } },

    ResponseHeader: message({
      cluster_id: one('uint64', 1),
      member_id: one('uint64', 2),
      revision: one('int64', 3),
      raft_term: one('uint64', 4),
    }),
    RangeRequest: message(
      {
        key: one('bytes', 1),
        range_end: one('bytes', 2),
        limit: one('int64', 3),
        revision: one('int64', 4),
        sort_order: one('SortOrder', 5),
        sort_target: one('SortTarget', 6),
        serializable: one('bool', 7),
        keys_only: one('bool', 8),
        count_only: one('bool', 9),
      },
      {
        nested: {
          SortOrder: { values: { NONE: 0, ASCEND: 1, DESCEND: 2 } },
          SortTarget: { values: { KEY: 0, VERSION: 1, CREATE: 2, MOD: 3, VALUE: 4 } },
        },
      },
    ),
    RangeResponse: message({
      header: one('ResponseHeader', 1),
      kvs: many('mvccpb.KeyValue', 2),
      more: one('bool', 3),
      count: one('int64', 4),
    }),
    PutRequest: message({
      key: one('bytes', 1),
      value: one('bytes', 2),
      lease: one('int64', 3),
      prev_kv: one('bool', 4),
    }),
    PutResponse: message({ header: one('ResponseHeader', 1), prev_kv: one('mvccpb.KeyValue', 2) }),
    DeleteRangeRequest: message({
      key: one('bytes', 1),
      range_end: one('bytes', 2),
      prev_kv: one('bool', 3),
    }),
    DeleteRangeResponse: message({
      header: one('ResponseHeader', 1),
      deleted: one('int64', 2),
      prev_kvs: many('mvccpb.KeyValue', 3),
    }),
    RequestOp: message(
      {
        request_range: one('RangeRequest', 1),
        request_put: one('PutRequest', 2),
        request_delete_range: one('DeleteRangeRequest', 3),
      },
      { oneofs: { request: { oneof: ['request_range', 'request_put', 'request_delete_range'] } } },
    ),
    ResponseOp: message(
      {
        response_range: one('RangeResponse', 1),
        response_put: one('PutResponse', 2),
        response_delete_range: one('DeleteRangeResponse', 3),
      },
      { oneofs: { response: { oneof: ['response_range', 'response_put', 'response_delete_range'] } } },
    ),
    Compare: message(
      {
        result: one('CompareResult', 1),
        target: one('CompareTarget', 2),
        key: one('bytes', 3),
        version: one('int64', 4),
        create_revision: one('int64', 5),
        mod_revision: one('int64', 6),
        value: one('bytes', 7),
        lease: one('int64', 8),
        range_end: one('bytes', 64),
      },
      {
        oneofs: { target_union: { oneof: ['version', 'create_revision', 'mod_revision', 'value', 'lease'] } },
        nested: {
          CompareResult: { values: { EQUAL: 0, GREATER: 1, LESS: 2, NOT_EQUAL: 3 } },
          CompareTarget: { values: { VERSION: 0, CREATE: 1, MOD: 2, VALUE: 3, LEASE: 4 } },
        },
      },
    ),
    TxnRequest: message({
      compare: many('Compare', 1),
      success: many('RequestOp', 2),
      failure: many('RequestOp', 3),
    }),
    TxnResponse: message({
      header: one('ResponseHeader', 1),
      succeeded: one('bool', 2),
      responses: many('ResponseOp', 3),
    }),
    CompactionRequest: message({ revision: one('int64', 1), physical: one('bool', 2) }),
    CompactionResponse: message({ header: one('ResponseHeader', 1) }),
    WatchRequest: message(
      {
        create_request: one('WatchCreateRequest', 1),
        cancel_request: one('WatchCancelRequest', 2),
        progress_request: one('WatchProgressRequest', 3),
      },
      { oneofs: { request_union: { oneof: ['create_request', 'cancel_request', 'progress_request'] } } },
    ),
    WatchCreateRequest: message({
      key: one('bytes', 1),
      range_end: one('bytes', 2),
      start_revision: one('int64', 3),
      progress_notify: one('bool', 4),
      prev_kv: one('bool', 6),
      watch_id: one('int64', 7),
      fragment: one('bool', 8),
    }),
    WatchCancelRequest: message({ watch_id: one('int64', 1) }),
    WatchProgressRequest: message({}),
    WatchResponse: message({
      header: one('ResponseHeader', 1),
      watch_id: one('int64', 2),
      created: one('bool', 3),
      canceled: one('bool', 4),
      compact_revision: one('int64', 5),
      cancel_reason: one('string', 6),
      fragment: one('bool', 7),
      events: many('mvccpb.Event', 11),
    }),
    LeaseGrantRequest: message({ TTL: one('int64', 1), ID: one('int64', 2) }),
    LeaseGrantResponse: message({
      header: one('ResponseHeader', 1),
      ID: one('int64', 2),
      TTL: one('int64', 3),
      error: one('string', 4),
    }),
  },
};

/**
 * How messages are decoded: field names as in the .proto, 64-bit integers as decimal strings (lease IDs use
 * all 64 bits, so they must not pass through a JS number), enums by name, absent fields as their defaults.
 */
const loaderOptions: Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

/** The loaded etcd API: services under "etcdserverpb.KV", "etcdserverpb.Watch", "etcdserverpb.Lease". */
export const etcdRpc: PackageDefinition = fromJSON({ nested: { mvccpb, etcdserverpb } }, loaderOptions);

// Shapes of the messages. Outgoing 64-bit fields take a number or a decimal string; incoming ones are strings.

type Int64In = number | string;

export interface RpcKeyValue {
  key: Buffer;
  create_revision: string;
  mod_revision: string;
  version: string;
  value: Buffer;
  lease: string;
}

export interface RpcEvent {
  type: 'PUT' | 'DELETE';
  kv: RpcKeyValue | null;
  prev_kv: RpcKeyValue | null;
}

export interface RpcHeader {
  revision: string;
}

export interface RangeRequest {
  key: Uint8Array;
  range_end?: Uint8Array;
  limit?: Int64In;
  revision?: Int64In;
  keys_only?: boolean;
  count_only?: boolean;
}

export interface RangeResponse {
  header: RpcHeader;
  kvs: RpcKeyValue[];
  more: boolean;
  count: string;
}

export interface PutRequest {
  key: Uint8Array;
  value: Uint8Array;
  lease?: Int64In;
  prev_kv?: boolean;
}

export interface PutResponse {
  header: RpcHeader;
  prev_kv: RpcKeyValue | null;
}

export interface DeleteRangeRequest {
  key: Uint8Array;
  range_end?: Uint8Array;
  prev_kv?: boolean;
}

export interface DeleteRangeResponse {
  header: RpcHeader;
  deleted: string;
  prev_kvs: RpcKeyValue[];
}

export type RequestOp =
  | { request_range: RangeRequest }
  | { request_put: PutRequest }
  | { request_delete_range: DeleteRangeRequest };

export interface ResponseOp {
  response_range?: RangeResponse | null;
  response_put?: PutResponse | null;
  response_delete_range?: DeleteRangeResponse | null;
}

export interface Compare {
  result: 'EQUAL' | 'GREATER' | 'LESS' | 'NOT_EQUAL';
  target: 'VERSION' | 'CREATE' | 'MOD' | 'VALUE' | 'LEASE';
  key: Uint8Array;
  version?: Int64In;
  create_revision?: Int64In;
  mod_revision?: Int64In;
}

export interface TxnRequest {
  compare: Compare[];
  success: RequestOp[];
  failure: RequestOp[];
}

export interface TxnResponse {
  header: RpcHeader;
  succeeded: boolean;
  responses: ResponseOp[];
}

export interface CompactionRequest {
  revision: Int64In;
  physical?: boolean;
}

export interface CompactionResponse {
  header: RpcHeader;
}

export interface WatchCreateRequest {
  key: Uint8Array;
  range_end?: Uint8Array;
  start_revision?: Int64In;
  progress_notify?: boolean;
  prev_kv?: boolean;
}

export type WatchRequest = { create_request: WatchCreateRequest } | { cancel_request: { watch_id: Int64In } };

export interface WatchResponse {
  header: RpcHeader | null;
  watch_id: string;
  created: boolean;
  canceled: boolean;
  compact_revision: string;
  cancel_reason: string;
  fragment: boolean;
  events: RpcEvent[];
}

export interface LeaseGrantRequest {
  TTL: Int64In;
  ID?: Int64In;
}

export interface LeaseGrantResponse {
  header: RpcHeader;
  ID: string;
  TTL: string;
  error: string;
}
