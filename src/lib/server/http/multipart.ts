/**
 * Streaming multipart/form-data for the one-request upload: the file part is handed on as a
 * stream (never buffered), and the other fields are available once the whole form is parsed.
 */
import { PassThrough, Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import busboy from 'busboy';
import { ValidationError } from '../errors';

export interface FilePart {
	filename: string;
	declaredMime: string;
	stream: Readable;
}

type Fields = { workspace_id?: string | null };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function readMultipartUpload<T>(
	request: Request,
	onFile: (file: FilePart, fields: () => Promise<Fields>) => Promise<T>
): Promise<T> {
	const contentType = request.headers.get('content-type') ?? '';
	if (!contentType.startsWith('multipart/form-data') || !request.body) {
		throw new ValidationError('Send multipart/form-data with a `file` field.', { file: ['A file is required.'] });
	}
	const parser = busboy({ headers: { 'content-type': contentType }, limits: { files: 1, fields: 10, fieldSize: 1024 } });
	const fields: Fields = {};
	let badWorkspace = false;
	let result: Promise<T> | undefined;
	const parsed = new Promise<void>((resolve, reject) => {
		parser.on('field', (name, value) => {
			if (name !== 'workspace_id') return;
			const id = value.trim();
			if (id && !UUID.test(id)) badWorkspace = true;
			fields.workspace_id = id || null;
		});
		parser.on('file', (name, stream, info) => {
			if (name !== 'file' || result) {
				stream.resume();
				return;
			}
			// The consumer gets a PassThrough, not busboy's own stream: a consumer that fails
			// destroys what it was given, and a destroyed busboy stream stalls the whole parse
			// (nothing reads the rest of the part, so the form never closes). The PassThrough is
			// unpiped when it is destroyed, and the part is then drained below.
			const part = stream.pipe(new PassThrough());
			result = onFile({ filename: info.filename ?? 'upload', declaredMime: info.mimeType, stream: part }, async () => {
				await parsed;
				if (badWorkspace) throw new ValidationError('Some fields are not valid.', { workspace_id: ['Must be a workspace id.'] });
				return fields;
			});
			// A failure while storing must not leave the body unread (busboy would stall).
			result.catch(() => stream.resume());
		});
		parser.on('close', resolve);
		parser.on('error', reject);
	});
	Readable.fromWeb(request.body as WebReadableStream<Uint8Array>).pipe(parser);
	await parsed.catch((err: unknown) => {
		throw new ValidationError(`The form could not be read: ${err instanceof Error ? err.message : String(err)}`);
	});
	if (!result) throw new ValidationError('The form has no `file` field.', { file: ['A file is required.'] });
	return result;
}
