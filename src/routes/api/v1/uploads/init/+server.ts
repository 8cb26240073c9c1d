import { json } from '@sveltejs/kit';
import { DuplicateUploadResponse, InitUploadRequest, InitUploadResponse } from '$lib/schemas/uploads';
import { config } from '$lib/server/config';
import { endpoint, operation } from '$lib/server/http/endpoint';
import { db } from '$lib/server/runtime';
import { duplicateJson } from '$lib/server/uploads/json';
import { initUpload } from '$lib/server/uploads/service';

export const _operations = {
	POST: operation({
		summary: 'Start an upload',
		description:
			'Answers an upload token and URL for the bytes. With `sha256`, content the user already has answers 200 with the existing asset and `duplicate: true` (and `in_trash` when it is in the trash): nothing to upload.',
		tags: ['uploads'],
		auth: 'user',
		body: InitUploadRequest,
		success: { status: 201, description: 'Upload started', schema: InitUploadResponse },
		otherResponses: [{ status: 200, description: 'The content already exists', schema: DuplicateUploadResponse }],
		errors: ['not_found', 'payload_too_large', 'unsupported_media_type', 'quota_exceeded']
	})
};

export const POST = endpoint(_operations.POST, async ({ user, body, event }) => {
	const result = await initUpload(db(), user, body, config());
	if (result.duplicate) return json(duplicateJson(result), { status: 200 });
	event.locals.log.info({ asset_id: result.asset.id, size_bytes: body.size_bytes }, 'upload:init');
	return { asset_id: result.asset.id, upload_token: result.uploadToken, upload_url: `/api/v1/uploads/${result.asset.id}` };
});
