import { z } from 'zod';
import { variantResponse } from '$lib/server/assets/variant-response';
import { getAssetVariant } from '$lib/server/assets/service';
import { endpoint, operation } from '$lib/server/http/endpoint';
import { db, storage } from '$lib/server/runtime';

export const _operations = {
	GET: operation({
		summary: 'The poster frame of a video',
		description: 'A still from the video (image/webp). 404 for images and until the asset is ready.',
		tags: ['assets'],
		auth: 'user',
		params: z.object({ id: z.uuid() }),
		success: { status: 200, description: 'The poster (image/webp)' },
		otherResponses: [{ status: 304, description: 'Not modified (If-None-Match matched the ETag)' }],
		errors: ['not_found']
	})
};

export const GET = endpoint(_operations.GET, async ({ user, params, event }) =>
	variantResponse(storage(), await getAssetVariant(db(), user, params.id, 'poster', 0), event.request)
);
