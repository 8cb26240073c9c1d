import { json } from '@sveltejs/kit';
import { z } from 'zod';
import { DuplicateUploadResponse, ProcessingUploadResponse } from '$lib/schemas/uploads';
import { endpoint, operation } from '$lib/server/http/endpoint';
import { readMultipartUpload } from '$lib/server/http/multipart';
import { uploadDeps } from '$lib/server/runtime';
import { duplicateJson } from '$lib/server/uploads/json';
import { uploadFile } from '$lib/server/uploads/service';

export const _operations = {
	POST: operation({
		summary: 'Upload a file in one request',
		description:
			'multipart/form-data with a `file` field and an optional `workspace_id`. The file is streamed to disk, never held in memory.',
		tags: ['uploads'],
		auth: 'user',
		rawBody: {
			contentType: 'multipart/form-data',
			description: 'The file, and optionally the workspace to put it in',
			schema: z.object({ file: z.string().meta({ format: 'binary' }), workspace_id: z.uuid().optional() })
		},
		success: { status: 202, description: 'Accepted for processing', schema: ProcessingUploadResponse },
		otherResponses: [{ status: 200, description: 'The content already exists', schema: DuplicateUploadResponse }],
		errors: ['not_found', 'payload_too_large', 'unsupported_media_type', 'quota_exceeded']
	})
};

export const POST = endpoint(_operations.POST, async ({ user, event }) => {
	const result = await readMultipartUpload(event.request, (file, fields) =>
		uploadFile(uploadDeps(), user, file, fields)
	);
	if (result.duplicate) return json(duplicateJson(result), { status: 200 });
	event.locals.log.info({ asset_id: result.asset.id }, 'upload:multipart');
	return json({ asset_id: result.asset.id, status: 'processing' }, { status: 202 });
});
