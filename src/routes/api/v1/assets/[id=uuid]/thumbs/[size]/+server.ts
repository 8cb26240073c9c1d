import { z } from 'zod';
import { variantResponse } from '$lib/server/assets/variant-response';
import { getAssetVariant } from '$lib/server/assets/service';
import { endpoint, operation } from '$lib/server/http/endpoint';
import { db, storage } from '$lib/server/runtime';

export const _operations = {
	GET: operation({
		summary: 'A thumbnail of an asset',
		description: 'image/webp, the longest edge at most `size` pixels (one of the configured sizes). 404 until the asset is ready.',
		tags: ['assets'],
		auth: 'user',
		params: z.object({ id: z.uuid(), size: z.coerce.number().int().min(1).max(100_000) }),
		success: { status: 200, description: 'The thumbnail (image/webp)' },
		otherResponses: [{ status: 304, description: 'Not modified (If-None-Match matched the ETag)' }],
		errors: ['not_found']
	})
};

export const GET = endpoint(_operations.GET, async ({ user, params, event }) =>
	variantResponse(storage(), await getAssetVariant(db(), user, params.id, 'thumb', params.size), event.request)
);
