import { z } from 'zod';
import { AssetDetailJson, DeleteAssetQuery } from '$lib/schemas/assets';
import { assetDetailJson } from '$lib/server/assets/json';
import { getAsset, purgeAsset, trashAsset } from '$lib/server/assets/service';
import { endpoint, operation } from '$lib/server/http/endpoint';
import { db, storage } from '$lib/server/runtime';

const params = z.object({ id: z.uuid() });

export const _operations = {
	GET: operation({
		summary: 'One of my assets',
		description: 'With thumbnail and poster URLs and how many parents and children it has.',
		tags: ['assets'],
		auth: 'user',
		params,
		success: { status: 200, description: 'The asset', schema: AssetDetailJson },
		errors: ['not_found']
	}),
	DELETE: operation({
		summary: 'Move an asset to the trash, or purge it',
		description: 'With `permanent=true` the asset is purged: its files are removed and its storage released.',
		tags: ['assets'],
		auth: 'user',
		params,
		query: DeleteAssetQuery,
		success: { status: 204, description: 'Trashed (or purged)' },
		errors: ['not_found']
	})
};

export const GET = endpoint(_operations.GET, async ({ user, params }) => {
	const { asset, variants, lineage, operationType } = await getAsset(db(), user, params.id);
	return assetDetailJson(asset, variants, lineage, operationType);
});

export const DELETE = endpoint(_operations.DELETE, async ({ user, params, query, event }) => {
	if (query.permanent) await purgeAsset(db(), storage(), user, params.id);
	else await trashAsset(db(), user, params.id);
	event.locals.log.info({ asset_id: params.id }, query.permanent ? 'assets:purged' : 'assets:trashed');
});
