import { ContentExistsQuery, ContentExistsResponse } from '$lib/schemas/uploads';
import { endpoint, operation } from '$lib/server/http/endpoint';
import { db } from '$lib/server/runtime';
import { findExistingContent } from '$lib/server/uploads/service';

export const _operations = {
	GET: operation({
		summary: 'Does the user already have this content?',
		description:
			'Asked before uploading, with the file’s SHA-256: `exists: true` names the asset (and whether it is in the trash). Nothing is created either way; the upload paths check again when the bytes arrive.',
		tags: ['uploads'],
		auth: 'user',
		query: ContentExistsQuery,
		success: { status: 200, description: 'Whether the content exists', schema: ContentExistsResponse }
	})
};

export const GET = endpoint(_operations.GET, async ({ user, query }): Promise<ContentExistsResponse> => {
	const found = await findExistingContent(db(), user, query.sha256);
	return found ? { exists: true, asset_id: found.assetId, in_trash: found.inTrash } : { exists: false };
});
