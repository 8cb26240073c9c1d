import type { z } from 'zod';
import type { LineageGraphJson } from '$lib/schemas/assets';
import { errorMessage, type Asset } from './asset-feed.svelte';

export type LineageGraph = z.infer<typeof LineageGraphJson>;

/**
 * The asset open in the viewer and its lineage. The asset comes from the loaded list when it is
 * there, else from `/api/v1/assets/{id}` (a deep link, or a lineage node outside the filters).
 */
export class ViewerState {
	id = $state<string | null>(null);
	fetched = $state<Asset | null>(null);
	lineage = $state<LineageGraph | null>(null);
	error = $state<string | null>(null);
	showHelp = $state(false);
	showDetails = $state(true);
	#lineageFor: string | null = null;

	/** Follows the URL's `?asset=`; `fromList` finds it among the loaded assets. */
	async sync(id: string | null, fromList: (id: string) => Asset | undefined, fetcher: typeof fetch = fetch) {
		if (id === this.id) return;
		this.id = id;
		this.error = null;
		this.fetched = null;
		if (!id) {
			this.lineage = null;
			this.#lineageFor = null;
			this.showHelp = false;
			return;
		}
		if (!fromList(id)) {
			const res = await fetcher(`/api/v1/assets/${id}`, { headers: { accept: 'application/json' } });
			if (this.id !== id) return;
			if (res.ok) this.fetched = (await res.json()) as Asset;
			else this.error = res.status === 404 ? 'This asset no longer exists.' : await errorMessage(res);
		}
		await this.loadLineage(id, fetcher);
	}

	async loadLineage(id: string, fetcher: typeof fetch = fetch) {
		if (this.#lineageFor === id) return;
		this.#lineageFor = id;
		this.lineage = null;
		const res = await fetcher(`/api/v1/assets/${id}/lineage?depth=2`, { headers: { accept: 'application/json' } });
		if (this.id === id && res.ok) this.lineage = (await res.json()) as LineageGraph;
	}
}
