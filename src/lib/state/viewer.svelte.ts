import type { z } from 'zod';
import type { LineageGraphJson } from '$lib/schemas/assets';
import { errorMessage, type Asset } from './asset-feed.svelte';
import type { Job } from './job-events.svelte';

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
	/** The job that generated the open asset (its operation and prompt), when it was generated. */
	sourceJob = $state<Job | null>(null);
	showHelp = $state(false);
	showDetails = $state(true);
	#lineageFor: string | null = null;

	/** Follows the URL's `?asset=`; `fromList` finds it among the loaded assets. */
	async sync(id: string | null, fromList: (id: string) => Asset | undefined, fetcher: typeof fetch = fetch) {
		if (id === this.id) return;
		this.id = id;
		this.error = null;
		this.fetched = null;
		this.sourceJob = null;
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
		await Promise.all([this.loadLineage(id, fetcher), this.loadSourceJob(id, fromList(id) ?? this.fetched, fetcher)]);
	}

	async loadLineage(id: string, fetcher: typeof fetch = fetch) {
		if (this.#lineageFor === id) return;
		this.#lineageFor = id;
		this.lineage = null;
		const res = await fetcher(`/api/v1/assets/${id}/lineage?depth=2`, { headers: { accept: 'application/json' } });
		if (this.id === id && res.ok) this.lineage = (await res.json()) as LineageGraph;
	}

	async loadSourceJob(id: string, asset: Asset | null | undefined, fetcher: typeof fetch = fetch) {
		const jobId = asset?.source_job_id;
		if (!jobId) return;
		const res = await fetcher(`/api/v1/jobs/${jobId}`, { headers: { accept: 'application/json' } });
		if (this.id === id && res.ok) this.sourceJob = (await res.json()) as Job;
	}
}
