/**
 * How the CLI talks to a running Muster server: JSON requests with a bearer token, and
 * file uploads streamed from disk with their progress reported as bytes go out.
 */
import { createReadStream } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Transform } from 'node:stream';

export interface ServerTarget {
  /** Base URL, e.g. http://localhost:8080. */
  url: string;
  token: string;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON body, or undefined when it was not JSON. */
  body: any;
  text: string;
}

/** A problem+json answer (or a network failure) turned into a message for the terminal. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly code?: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

function parse(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

/** The error an answer carries: its problem detail and per-field messages when it has them. */
export function apiError(res: ApiResponse): ApiError {
  const detail = typeof res.body?.detail === 'string' ? res.body.detail : res.text.slice(0, 500) || `HTTP ${res.status}`;
  const fields = Array.isArray(res.body?.errors) ? res.body.errors.filter((e: { field?: string }) => e.field).map((e: { field: string; message: string }) => `  ${e.field}: ${e.message}`) : [];
  const retryAfter = Number(res.headers['retry-after']);
  return new ApiError([`${detail}${res.body?.code ? ` (${res.body.code}, HTTP ${res.status})` : ''}`, ...fields].join('\n'), res.status, res.body?.code, Number.isFinite(retryAfter) ? retryAfter : undefined);
}

function endpoint(target: ServerTarget, path: string): URL {
  return new URL(path, target.url.endsWith('/') ? target.url : `${target.url}/`);
}

/** A JSON request; throws ApiError when the server cannot be reached. */
export async function callApi(target: ServerTarget, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
  let response: Response;
  try {
    response = await fetch(endpoint(target, path), {
      method,
      headers: { authorization: `Bearer ${target.token}`, accept: 'application/json', ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiError(`Cannot reach ${target.url}: ${(error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message}`);
  }
  const text = await response.text();
  return { status: response.status, headers: Object.fromEntries(response.headers), body: parse(text), text };
}

/** Like callApi, but any answer other than `expected` is thrown as an ApiError. */
export async function expectApi(target: ServerTarget, expected: number, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse> {
  const res = await callApi(target, method, path, body, headers);
  if (res.status !== expected) throw apiError(res);
  return res;
}

/** Streams a response body to a writable (a file), resolving when all of it is written. */
export async function download(target: ServerTarget, path: string, accept: string, sink: NodeJS.WritableStream): Promise<void> {
  const response = await fetch(endpoint(target, path), { headers: { authorization: `Bearer ${target.token}`, accept } });
  if (response.status !== 200 || !response.body) {
    const text = await response.text();
    throw apiError({ status: response.status, headers: Object.fromEntries(response.headers), body: parse(text), text });
  }
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    if (!sink.write(chunk)) await new Promise((resolve) => sink.once('drain', resolve));
  }
}

export interface UploadRequest {
  path: string;
  file: string;
  size: number;
  contentType: string;
  headers?: Record<string, string>;
  /** Called with the bytes sent so far. */
  onProgress?: (sent: number) => void;
}

/**
 * POSTs a file as the request body, streamed from disk. The server may answer before the
 * whole body is sent (a refusal): the answer wins over the broken pipe that follows it.
 */
export function uploadFile(target: ServerTarget, upload: UploadRequest): Promise<ApiResponse> {
  const url = endpoint(target, upload.path);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = send(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${target.token}`,
        accept: 'application/json',
        'content-type': upload.contentType,
        'content-length': String(upload.size),
        ...upload.headers,
      },
    });
    req.on('response', (res: IncomingMessage) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parse(text), text });
      });
      res.on('error', (error) => reject(new ApiError(`The answer to the upload broke off: ${error.message}`)));
    });
    req.on('error', (error) => {
      if (!answered) reject(new ApiError(`The upload to ${target.url} broke off: ${error.message}`));
    });
    let sent = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        sent += chunk.length;
        upload.onProgress?.(sent);
        done(null, chunk);
      },
    });
    const file = createReadStream(upload.file);
    file.on('error', (error) => {
      req.destroy();
      reject(new ApiError(`Cannot read ${upload.file}: ${error.message}`));
    });
    file.pipe(meter).pipe(req);
  });
}
