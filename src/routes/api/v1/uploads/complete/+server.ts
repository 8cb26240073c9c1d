import { json } from '@sveltejs/kit';
import { CompleteUploadRequest, DuplicateUploadResponse, ProcessingUploadResponse } from '$lib/schemas/uploads';
import { endpoint, operation } from '$lib/server/http/endpoint';
import { uploadDeps } from '$lib/server/runtime';
import { duplicateJson } from '$lib/server/uploads/json';
import { completeUpload } from '$lib/server/uploads/service';

export const _operations = {
	POST: operation({
		summary: 'Complete an upload',
		description:
			'Checks the content, charges the storage quota and queues ingest (thumbnails, dimensions). Bytes that duplicate an asset the user already has answer 200 with that asset, and the new copy is discarded.',
		tags: ['uploads'],
		auth: 'user',
		body: CompleteUploadRequest,
		success: { status: 202, description: 'Accepted for processing', schema: ProcessingUploadResponse },
		otherResponses: [{ status: 200, description: 'The content already exists', schema: DuplicateUploadResponse }],
		errors: ['not_found', 'conflict', 'unsupported_media_type', 'quota_exceeded']
	})
};

export const POST = endpoint(_operations.POST, async ({ user, body, event }) => {
	const result = await completeUpload(uploadDeps(), user, body.asset_id);
	if (result.duplicate) return json(duplicateJson(result), { status: 200 });
	event.locals.log.info({ asset_id: result.asset.id }, 'upload:complete');
	return { asset_id: result.asset.id, status: 'processing' as const };
});
