import { Readable } from 'node:stream';
import { z } from 'zod';
import { PutUploadResponse } from '$lib/schemas/uploads';
import { ValidationError } from '$lib/server/errors';
import { endpoint, operation } from '$lib/server/http/endpoint';
import { db, storage } from '$lib/server/runtime';
import { receiveUploadBytes } from '$lib/server/uploads/service';

export const _operations = {
	PUT: operation({
		summary: 'Send the bytes of an upload',
		description:
			'The body is the file, streamed to disk while hashed. Authorised by the `X-Upload-Token` from /uploads/init (a bearer token is not needed). A body longer than the declared size answers 413; sending again replaces what arrived.',
		tags: ['uploads'],
		auth: 'public',
		params: z.object({ id: z.uuid() }),
		headers: z.object({ 'x-upload-token': z.string() }),
		rawBody: {
			contentType: 'application/octet-stream',
			description: 'The file’s bytes',
			schema: z.string().meta({ format: 'binary' })
		},
		success: { status: 200, description: 'All bytes received', schema: PutUploadResponse },
		errors: ['forbidden', 'conflict', 'payload_too_large']
	})
};

export const PUT = endpoint(_operations.PUT, async ({ params, event }) => {
	const body = event.request.body;
	if (!body) throw new ValidationError('The request has no body: PUT the file’s bytes.');
	const staged = await receiveUploadBytes(
		{ db: db(), storage: storage() },
		params.id,
		event.request.headers.get('x-upload-token'),
		Readable.fromWeb(body as import('node:stream/web').ReadableStream<Uint8Array>)
	);
	event.locals.log.info({ asset_id: params.id, received_bytes: staged.size }, 'upload:received');
	return { asset_id: params.id, received_bytes: staged.size, sha256: staged.sha256 };
});
