import { BulkAssetRequest, BulkAssetResult } from '$lib/schemas/assets';
import { bulkUpdateAssets } from '$lib/server/assets/service';
import { endpoint, operation } from '$lib/server/http/endpoint';
import { db, storage } from '$lib/server/runtime';

export const _operations = {
	POST: operation({
		summary: 'Trash, restore, purge or move many assets',
		description:
			'Ids that are not yours, unknown, or already in that state are skipped; `updated` counts the assets changed. `move` needs `workspace_id` (null: no workspace), which must be yours (404 otherwise).',
		tags: ['assets'],
		auth: 'user',
		body: BulkAssetRequest,
		success: { status: 200, description: 'How many assets changed', schema: BulkAssetResult },
		errors: ['not_found']
	})
};

export const POST = endpoint(_operations.POST, async ({ user, body, event }) => {
	const result = await bulkUpdateAssets(db(), storage(), user, { ids: body.ids, action: body.action, workspaceId: body.workspace_id });
	event.locals.log.info({ action: body.action, requested: body.ids.length, updated: result.updated }, 'assets:bulk');
	return result;
});
