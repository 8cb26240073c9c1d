import { ListAssetsQuery } from '$lib/schemas/assets';
import { GALLERY_FILTER_KEYS } from '$lib/gallery';
import { assetJson } from '$lib/server/assets/json';
import { listAssets } from '$lib/server/assets/service';
import { requireUser } from '$lib/server/http/pages';
import { db } from '$lib/server/runtime';
import { workspaceJson } from '$lib/server/workspaces/json';
import { listWorkspaces } from '$lib/server/workspaces/service';

export const load = async (event) => {
	const { user } = requireUser(event);
	// Only the filter keys are read, so opening the viewer (`?asset=`) does not reload the list.
	const raw = Object.fromEntries(GALLERY_FILTER_KEYS.map((k) => [k, event.url.searchParams.get(k) ?? undefined]));
	// A malformed filter is dropped rather than answered with an error page.
	const filters = Object.fromEntries(
		Object.entries(raw).filter(([k, v]) => v !== undefined && v !== '' && ListAssetsQuery.shape[k as keyof typeof ListAssetsQuery.shape].safeParse(v).success)
	);
	const query = ListAssetsQuery.parse(filters);
	const workspaces = await listWorkspaces(db(), user);
	const workspaceId = workspaces.some((w) => w.id === query.workspace_id) ? query.workspace_id : undefined;
	const page = await listAssets(db(), user, {
		mediaType: query.media_type,
		workspaceId,
		status: query.status,
		providerId: query.provider_id,
		q: query.q || undefined,
		trash: query.trash,
		limit: query.limit
	});
	return {
		items: page.items.map((i) => assetJson(i.asset, i.variants, i.operationType)),
		nextCursor: page.nextCursor,
		workspaces: workspaces.map(workspaceJson),
		filters: {
			media_type: query.media_type ?? '',
			workspace_id: workspaceId ?? '',
			status: query.status ?? '',
			provider_id: query.provider_id ?? '',
			q: query.q ?? '',
			trash: query.trash
		}
	};
};
