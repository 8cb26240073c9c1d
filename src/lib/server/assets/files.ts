/**
 * Serving stored files over HTTP: conditional requests (ETag / If-None-Match), byte ranges for
 * video seeking, streamed from storage so a large original is never held in memory.
 */
import { Readable } from 'node:stream';
import { NotFoundError } from '../errors';
import type { Storage } from '../storage/local';

export interface ServedFile {
	key: string;
	contentType: string;
	/** A strong validator for the bytes, quoted (e.g. the content's sha256). */
	etag: string;
	cacheControl: string;
	filename?: string | null;
}

export type ByteRange = { start: number; end: number };

/**
 * The one range a `Range` header asks for: a range, 'unsatisfiable' (416), or null to send the
 * whole file (no header, a syntax we ignore as RFC 9110 allows, or several ranges).
 */
export function parseRange(header: string | null, size: number): ByteRange | 'unsatisfiable' | null {
	if (!header) return null;
	const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
	if (!m || (m[1] === '' && m[2] === '')) return null;
	if (m[1] === '') {
		const suffix = Number(m[2]);
		if (suffix === 0 || size === 0) return 'unsatisfiable';
		return { start: Math.max(0, size - suffix), end: size - 1 };
	}
	const start = Number(m[1]);
	const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
	if (m[2] !== '' && Number(m[2]) < start) return null;
	if (start >= size) return 'unsatisfiable';
	return { start, end };
}

function matchesEtag(header: string | null, etag: string): boolean {
	if (!header) return false;
	if (header.trim() === '*') return true;
	return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

function contentDisposition(filename: string): string {
	const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
	return `inline; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

export async function fileResponse(storage: Storage, file: ServedFile, request: Request): Promise<Response> {
	let size: number;
	try {
		size = await storage.size(file.key);
	} catch {
		throw new NotFoundError('Asset file');
	}
	const headers = new Headers({
		etag: file.etag,
		'cache-control': file.cacheControl,
		'accept-ranges': 'bytes',
		// The type comes from sniffing at upload; never let a browser guess another one.
		'x-content-type-options': 'nosniff'
	});
	if (matchesEtag(request.headers.get('if-none-match'), file.etag)) return new Response(null, { status: 304, headers });

	headers.set('content-type', file.contentType);
	if (file.filename) headers.set('content-disposition', contentDisposition(file.filename));
	const ifRange = request.headers.get('if-range');
	const range = ifRange && ifRange !== file.etag ? null : parseRange(request.headers.get('range'), size);
	if (range === 'unsatisfiable') {
		const body = {
			error: { code: 'range_not_satisfiable', message: `The range is outside the file (${size} bytes).`, details: { size } }
		};
		return new Response(JSON.stringify(body), {
			status: 416,
			headers: { 'content-type': 'application/json', 'content-range': `bytes */${size}`, 'accept-ranges': 'bytes' }
		});
	}
	if (range) {
		headers.set('content-range', `bytes ${range.start}-${range.end}/${size}`);
		headers.set('content-length', String(range.end - range.start + 1));
		return new Response(toWeb(storage, file.key, range), { status: 206, headers });
	}
	headers.set('content-length', String(size));
	return new Response(size === 0 ? null : toWeb(storage, file.key), { status: 200, headers });
}

function toWeb(storage: Storage, key: string, range?: ByteRange): ReadableStream<Uint8Array> {
	return Readable.toWeb(storage.readStream(key, range)) as ReadableStream<Uint8Array>;
}
