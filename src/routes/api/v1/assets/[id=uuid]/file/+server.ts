import { z } from 'zod';
import { fileResponse } from '$lib/server/assets/files';
import { getAssetFile, touchAsset } from '$lib/server/assets/service';
import { endpoint, operation } from '$lib/server/http/endpoint';
import { db, storage } from '$lib/server/runtime';

export const _operations = {
	GET: operation({
		summary: 'The original file',
		description:
			'The bytes with their Content-Type. Supports `Range: bytes=…` (206, or 416 past the end) and `If-None-Match` with the ETag (the sha256) for 304.',
		tags: ['assets'],
		auth: 'user',
		params: z.object({ id: z.uuid() }),
		success: { status: 200, description: 'The file (any media type)' },
		otherResponses: [
			{ status: 206, description: 'Part of the file, per the Range header' },
			{ status: 304, description: 'Not modified (If-None-Match matched the ETag)' },
			{ status: 416, description: 'The range is outside the file' }
		],
		errors: ['not_found']
	})
};

export const GET = endpoint(_operations.GET, async ({ user, params, event }) => {
	const asset = await getAssetFile(db(), user, params.id);
	const response = await fileResponse(
		storage(),
		{
			key: asset.storageKey,
			contentType: asset.mime,
			etag: `"${asset.sha256 ?? asset.id}"`,
			cacheControl: 'private, max-age=86400',
			filename: asset.originalFilename
		},
		event.request
	);
	await touchAsset(db(), asset.id);
	return response;
});
