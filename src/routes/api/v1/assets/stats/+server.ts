import { AssetStats } from '$lib/schemas/assets';
import { assetStats } from '$lib/server/assets/service';
import { endpoint, operation } from '$lib/server/http/endpoint';
import { db } from '$lib/server/runtime';

export const _operations = {
	GET: operation({
		summary: 'Count and bytes of my assets per media type',
		description: 'Ready and processing assets, not in the trash.',
		tags: ['assets'],
		auth: 'user',
		success: { status: 200, description: 'Per media type and in total', schema: AssetStats }
	})
};

export const GET = endpoint(_operations.GET, async ({ user }) => assetStats(db(), user));
