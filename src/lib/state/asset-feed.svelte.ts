import type { z } from 'zod';
import type { AssetJson } from '$lib/schemas/assets';

export type Asset = z.infer<typeof AssetJson>;

/**
 * The assets the gallery has loaded for one set of filters: the server's first page, then keyset
 * pages from `/api/v1/assets?cursor=…` (the session cookie authenticates). Assets still
 * processing are polled one by one until they settle, so thumbnails appear without a reload.
 */
export class AssetFeed {
	items = $state<Asset[]>([]);
	nextCursor = $state<string | null>(null);
	loading = $state(false);
	error = $state<string | null>(null);
	/** The list's query without cursor (filters and trash), e.g. `media_type=video&trash=true`. */
	query = '';

	ids = $derived(this.items.map((a) => a.id));

	reset(items: Asset[], nextCursor: string | null, query: string) {
		this.items = items;
		this.nextCursor = nextCursor;
		this.query = query;
		this.error = null;
		this.loading = false;
	}

	indexOf(id: string): number {
		return this.items.findIndex((a) => a.id === id);
	}

	get(id: string): Asset | undefined {
		return this.items.find((a) => a.id === id);
	}

	async loadMore(fetcher: typeof fetch = fetch): Promise<void> {
		if (this.loading || !this.nextCursor) return;
		const query = this.query;
		this.loading = true;
		this.error = null;
		try {
			const params = new URLSearchParams(query);
			params.set('cursor', this.nextCursor);
			const res = await fetcher(`/api/v1/assets?${params}`, { headers: { accept: 'application/json' } });
			if (!res.ok) throw new Error(await errorMessage(res));
			const page = (await res.json()) as { items: Asset[]; next_cursor: string | null };
			if (query !== this.query) return; // the filters changed meanwhile
			const known = new Set(this.ids);
			this.items.push(...page.items.filter((a) => !known.has(a.id)));
			this.nextCursor = page.next_cursor;
		} catch (err) {
			if (query === this.query) this.error = err instanceof Error ? err.message : 'Could not load more.';
		} finally {
			if (query === this.query) this.loading = false;
		}
	}

	/** A new asset (just uploaded) goes first; the list is newest first. */
	async addNew(id: string, fetcher: typeof fetch = fetch): Promise<void> {
		if (this.indexOf(id) >= 0) return;
		const res = await fetcher(`/api/v1/assets/${id}`, { headers: { accept: 'application/json' } });
		if (!res.ok || this.indexOf(id) >= 0) return;
		this.items.unshift((await res.json()) as Asset);
	}

	replace(asset: Asset) {
		const i = this.indexOf(asset.id);
		if (i >= 0) this.items[i] = asset;
	}

	remove(ids: Iterable<string>) {
		const gone = new Set(ids);
		this.items = this.items.filter((a) => !gone.has(a.id));
	}

	/** Re-reads assets still processing (at most `max` per call); answers how many are left. */
	async refreshProcessing(fetcher: typeof fetch = fetch, max = 24): Promise<number> {
		const pending = this.items.filter((a) => a.status === 'processing');
		await Promise.all(
			pending.slice(0, max).map(async (a) => {
				const res = await fetcher(`/api/v1/assets/${a.id}`, { headers: { accept: 'application/json' } });
				if (res.ok) this.replace((await res.json()) as Asset);
			})
		);
		return this.items.filter((a) => a.status === 'processing').length;
	}
}

/** The API's error message, or a generic one. */
export async function errorMessage(res: Response): Promise<string> {
	try {
		const body = (await res.json()) as { error?: { message?: string } };
		return body.error?.message ?? `Request failed (${res.status}).`;
	} catch {
		return `Request failed (${res.status}).`;
	}
}
