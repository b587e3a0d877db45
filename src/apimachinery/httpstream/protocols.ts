// Protocol names, headers and negotiation shared by the streaming endpoints (exec, attach, port-forward),
// as k8s.io/apimachinery/pkg/util/httpstream, util/remotecommand and util/portforward define them.
import type { IncomingMessage } from 'node:http';
import type { Status } from '../errors/status-error.js';

/** The header a SPDY client lists its stream protocols in, and the server answers its choice in. */
export const headerProtocolVersion = 'X-Stream-Protocol-Version';
/** The header listing what the server accepts, when negotiation fails. */
export const headerAcceptedProtocolVersions = 'X-Accepted-Stream-Protocol-Versions';

/** remotecommand (exec and attach) protocol versions. */
export const remoteCommandProtocol = {
  v1: 'channel.k8s.io',
  v2: 'v2.channel.k8s.io',
  v3: 'v3.channel.k8s.io',
  v4: 'v4.channel.k8s.io',
  v5: 'v5.channel.k8s.io',
} as const;
/** The base64 (text message) flavour of the WebSocket channel protocols. */
export const base64ChannelProtocol = 'base64.channel.k8s.io';
/** The port-forward protocol over SPDY. */
export const portForwardProtocolV1 = 'portforward.k8s.io';
/** The WebSocket subprotocol prefix for SPDY tunnelled in a WebSocket (kubectl 1.31+ port-forward). */
export const spdyTunnelPrefix = 'SPDY/3.1+';

/** SPDY stream types of remotecommand (the streamType header). */
export const streamType = { error: 'error', stdin: 'stdin', stdout: 'stdout', stderr: 'stderr', resize: 'resize', data: 'data' } as const;
/** The header names of remotecommand and port-forward streams. */
export const streamHeader = { type: 'streamtype', port: 'port', requestID: 'requestid' } as const;

/** The v5 WebSocket channel that carries "close this channel" signals. */
export const closeChannel = 255;

/** The values of a request header that lists protocols, split on commas, in order. */
export function requestedProtocols(req: IncomingMessage, header = headerProtocolVersion): string[] {
  const raw: string | string[] | undefined = req.headers[header.toLowerCase()];
  const values: string[] = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return values.flatMap((v) => v.split(',')).map((s) => s.trim()).filter((s) => s !== '');
}

/** The first protocol the client asked for that the server supports (the client's order decides), or ''. */
export function negotiateProtocol(client: readonly string[], server: readonly string[]): string {
  return client.find((p) => server.includes(p)) ?? '';
}

/** The message of a failed negotiation, in upstream's words (Go prints string slices as [a b]). */
export function negotiationFailure(client: readonly string[], server: readonly string[]): string {
  return `unable to upgrade: unable to negotiate protocol: client supports [${client.join(' ')}], server accepts [${server.join(' ')}]`;
}

/** A terminal size from a resize stream (remotecommand.TerminalSize's JSON). */
export interface TerminalSize {
  Width: number;
  Height: number;
}

/** The v4+ error stream's Status for a command that ran to completion. */
export function exitStatus(code: number, description: string): Partial<Status> & { status: 'Success' | 'Failure' } {
  if (code === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: ${description}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

/** The v4+ error stream's Status for a failure to run the command at all. */
export function internalErrorStatus(message: string): Partial<Status> & { status: 'Failure' } {
  return {
    metadata: {},
    status: 'Failure',
    message: `Internal error occurred: ${message}`,
    reason: 'InternalError',
    details: { causes: [{ message }] },
    code: 500,
  };
}
