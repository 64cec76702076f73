import busboy from 'busboy';
import getRawBody from 'raw-body';
import type { Context } from 'koa';
import { HttpError } from '../shared/errors.js';

export interface BodyLimits {
  /** Largest image accepted, raw or as the multipart file, bytes. */
  readonly maxImageBytes: number;
  /** Largest JSON body (KServe v1, Open Inference v2, feedback), bytes. */
  readonly maxJsonBytes: number;
}

/**
 * Reads the one image of a `POST /predict`: either a multipart/form-data upload whose file field
 * is `file` (exactly one file, few small fields), or a raw body with an `image/*` (or
 * application/octet-stream) content type. Enforces the size limit while streaming, so an
 * oversized upload is refused without being buffered.
 */
export async function readImageBody(ctx: Context, limits: BodyLimits): Promise<Buffer> {
  const type = ctx.request.type;
  if (type === 'multipart/form-data') return readMultipartFile(ctx, limits.maxImageBytes);
  if (type.startsWith('image/') || type === 'application/octet-stream') {
    const body = await readRaw(ctx, limits.maxImageBytes);
    if (body.length === 0) throw new HttpError(400, 'EmptyBody', 'request body is empty');
    return body;
  }
  throw new HttpError(415, 'UnsupportedMediaType', 'send the image as multipart/form-data (field "file") or as a raw image/* body');
}

/** Reads and parses a JSON body (content type application/json) within the size limit. */
export async function readJsonBody(ctx: Context, limits: BodyLimits): Promise<unknown> {
  if (ctx.request.type !== 'application/json') {
    throw new HttpError(415, 'UnsupportedMediaType', 'send a JSON body with content type application/json');
  }
  const raw = await readRaw(ctx, limits.maxJsonBytes);
  if (raw.length === 0) throw new HttpError(400, 'EmptyBody', 'request body is empty');
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    throw new HttpError(400, 'MalformedJson', 'request body is not valid JSON');
  }
}

async function readRaw(ctx: Context, limit: number): Promise<Buffer> {
  const length = ctx.request.length;
  if (length !== undefined && length > limit) {
    // Refuse before reading; the connection is closed after the answer so the body is not drained.
    throw tooLarge(limit);
  }
  try {
    return await getRawBody(ctx.req, { limit, ...(length !== undefined ? { length } : {}) });
  } catch (err) {
    throw mapRawBodyError(err, limit);
  }
}

function mapRawBodyError(err: unknown, limit: number): Error {
  const type = (err as { type?: string } | undefined)?.type;
  if (type === 'entity.too.large') return tooLarge(limit);
  if (type === 'request.aborted' || type === 'request.size.invalid') {
    return new HttpError(400, 'InvalidRequest', 'request body ended before its declared length', { cause: err });
  }
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    return new HttpError(415, 'UnsupportedMediaType', 'unsupported content encoding', { cause: err });
  }
  return err instanceof Error ? err : new Error(String(err));
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, 'BodyTooLarge', `request body is larger than the limit of ${limit} bytes`);
}

function readMultipartFile(ctx: Context, maxBytes: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: ctx.req.headers,
        limits: { files: 1, fileSize: maxBytes, fields: 10, fieldSize: 1024, fieldNameSize: 100, parts: 12, headerPairs: 20 },
      });
    } catch (err) {
      reject(new HttpError(400, 'MalformedMultipart', 'malformed multipart/form-data request (missing boundary?)', { cause: err }));
      return;
    }
    let settled = false;
    let file: Buffer | undefined;
    let fileError: HttpError | undefined;
    const fail = (err: HttpError): void => {
      if (settled) return;
      settled = true;
      ctx.req.unpipe(parser);
      ctx.req.resume(); // discard the rest of the upload
      reject(err);
    };
    // An exception inside a parser event handler would escape to the process: turn it into a
    // rejected request instead.
    const guard =
      <A extends unknown[]>(fn: (...args: A) => void) =>
      (...args: A): void => {
        try {
          fn(...args);
        } catch (err) {
          fail(err instanceof HttpError ? err : new HttpError(500, 'Internal', 'multipart parsing failed', { cause: err }));
        }
      };
    parser.on(
      'file',
      guard((name: string | undefined, stream: NodeJS.ReadableStream & { truncated?: boolean }) => {
        // A form cut short errors the open file stream too; without a listener that would throw.
        stream.on('error', (err: unknown) => fail(new HttpError(400, 'MalformedMultipart', 'malformed or truncated multipart/form-data body', { cause: err })));
        if (name !== 'file') {
          stream.resume();
          fileError ??= new HttpError(400, 'MissingFile', `unexpected file field "${String(name ?? '').slice(0, 40)}"; send the image in the field "file"`);
          return;
        }
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('limit', () => fail(tooLarge(maxBytes)));
        stream.on(
          'end',
          guard(() => {
            if (!settled && !stream.truncated) file = Buffer.concat(chunks);
          }),
        );
      }),
    );
    parser.on('filesLimit', () => fail(new HttpError(400, 'TooManyFiles', 'send exactly one file')));
    parser.on('partsLimit', () => fail(new HttpError(400, 'MalformedMultipart', 'too many parts in the multipart body')));
    parser.on('fieldsLimit', () => fail(new HttpError(400, 'MalformedMultipart', 'too many fields in the multipart body')));
    parser.on('error', (err: unknown) => fail(new HttpError(400, 'MalformedMultipart', 'malformed multipart/form-data body', { cause: err })));
    parser.on('close', () => {
      if (settled) return;
      settled = true;
      if (file === undefined) reject(fileError ?? new HttpError(400, 'MissingFile', 'no file in the multipart body; send the image in the field "file"'));
      else if (file.length === 0) reject(new HttpError(400, 'EmptyBody', 'the uploaded file is empty'));
      else resolve(file);
    });
    ctx.req.on('aborted', () => fail(new HttpError(400, 'InvalidRequest', 'upload aborted')));
    ctx.req.pipe(parser);
  });
}
