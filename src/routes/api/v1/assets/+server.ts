import { AssetPage, ListAssetsQuery } from '$lib/schemas/assets';
import { assetJson } from '$lib/server/assets/json';
import { listAssets } from '$lib/server/assets/service';
import { endpoint, operation } from '$lib/server/http/endpoint';
import { db } from '$lib/server/runtime';

export const _operations = {
	GET: operation({
		summary: 'List my assets',
		description:
			'Newest first, `limit` per page (default 60, at most 200). Pass `next_cursor` back as `cursor` for the next page; pages stay exact while new assets arrive. Trashed assets appear only with `trash=true`.',
		tags: ['assets'],
		auth: 'user',
		query: ListAssetsQuery,
		success: { status: 200, description: 'A page of assets', schema: AssetPage },
		errors: ['not_found']
	})
};

export const GET = endpoint(_operations.GET, async ({ user, query }) => {
	const page = await listAssets(db(), user, {
		mediaType: query.media_type,
		workspaceId: query.workspace_id,
		status: query.status,
		providerId: query.provider_id,
		q: query.q || undefined,
		trash: query.trash,
		cursor: query.cursor,
		limit: query.limit
	});
	return { items: page.items.map((i) => assetJson(i.asset, i.variants, i.operationType)), next_cursor: page.nextCursor };
});
