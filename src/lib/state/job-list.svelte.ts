import { errorMessage } from './asset-feed.svelte';
import type { Job, JobEventType } from './job-events.svelte';

export interface JobFilters {
	status: string;
	operation_type: string;
	workspace_id: string;
	q: string;
}

/** Whether a job belongs in a list with these filters (the same rules the API's list applies). */
export function matchesFilters(job: Job, filters: JobFilters): boolean {
	if (filters.status && job.status !== filters.status) return false;
	if (filters.operation_type && job.operation_type !== filters.operation_type) return false;
	if (filters.workspace_id && job.workspace_id !== filters.workspace_id) return false;
	if (filters.q) {
		const q = filters.q.toLowerCase();
		const prompt = typeof job.params.prompt === 'string' ? job.params.prompt : '';
		if (!(job.name ?? '').toLowerCase().includes(q) && !prompt.toLowerCase().includes(q)) return false;
	}
	return true;
}

/** An event's copy of a job over the one on screen; events do not compute the queue position, so it is kept. */
export function mergeJob(current: Job | undefined, next: Job): Job {
	if (!current) return next;
	const queuePosition = next.status === 'queued' ? (next.queue_position ?? current.queue_position) : null;
	return { ...next, queue_position: queuePosition };
}

/**
 * The jobs the list shows for one set of filters: the server's first page, keyset pages after
 * it, and the live events applied as they arrive (new jobs join at the top, changed ones update
 * in place, one that no longer matches the filters leaves).
 */
export class JobList {
	items = $state<Job[]>([]);
	nextCursor = $state<string | null>(null);
	loading = $state(false);
	error = $state<string | null>(null);
	filters: JobFilters = { status: '', operation_type: '', workspace_id: '', q: '' };
	#positionsTimer: ReturnType<typeof setTimeout> | undefined;

	reset(items: Job[], nextCursor: string | null, filters: JobFilters) {
		this.items = items;
		this.nextCursor = nextCursor;
		this.filters = filters;
		this.error = null;
		this.loading = false;
	}

	get(id: string): Job | undefined {
		return this.items.find((j) => j.id === id);
	}

	/** The list's query string (filters, no cursor). */
	query(): string {
		const params = new URLSearchParams();
		for (const [key, value] of Object.entries(this.filters)) if (value) params.set(key, value);
		return params.toString();
	}

	apply(type: JobEventType, job: Job) {
		const i = this.items.findIndex((j) => j.id === job.id);
		const matches = matchesFilters(job, this.filters);
		if (i >= 0) {
			if (matches) this.items[i] = mergeJob(this.items[i], job);
			else this.items.splice(i, 1);
		} else if (matches && (type === 'job.created' || this.isNewerThanLoaded(job))) {
			this.items.unshift(job);
		}
		// Any start or end moves the queue: re-read the positions shortly (one request per burst).
		if (type !== 'job.progress') this.refreshPositionsSoon();
	}

	/** A job not on screen belongs at the top only if it is newer than everything loaded (else it is on a later page). */
	private isNewerThanLoaded(job: Job): boolean {
		const newest = this.items[0];
		return !newest || job.created_at >= newest.created_at;
	}

	/** Catches up with the server (after connecting to the event stream): the first page, merged. */
	async refresh(fetcher: typeof fetch = fetch): Promise<void> {
		const filters = this.filters;
		const res = await fetcher(`/api/v1/jobs?${this.query()}`, { headers: { accept: 'application/json' } });
		if (!res.ok || filters !== this.filters) return;
		const page = (await res.json()) as { items: Job[]; next_cursor: string | null };
		const fresh = new Map(page.items.map((j) => [j.id, j]));
		const known = new Set(this.items.map((j) => j.id));
		this.items = [...page.items.filter((j) => !known.has(j.id)), ...this.items.map((j) => fresh.get(j.id) ?? j)];
		if (this.items.length === page.items.length) this.nextCursor = page.next_cursor;
	}

	async loadMore(fetcher: typeof fetch = fetch): Promise<void> {
		if (this.loading || !this.nextCursor) return;
		const filters = this.filters;
		this.loading = true;
		this.error = null;
		try {
			const params = new URLSearchParams(this.query());
			params.set('cursor', this.nextCursor);
			const res = await fetcher(`/api/v1/jobs?${params}`, { headers: { accept: 'application/json' } });
			if (!res.ok) throw new Error(await errorMessage(res));
			const page = (await res.json()) as { items: Job[]; next_cursor: string | null };
			if (filters !== this.filters) return;
			const known = new Set(this.items.map((j) => j.id));
			this.items.push(...page.items.filter((j) => !known.has(j.id)));
			this.nextCursor = page.next_cursor;
		} catch (err) {
			if (filters === this.filters) this.error = err instanceof Error ? err.message : 'Could not load more.';
		} finally {
			if (filters === this.filters) this.loading = false;
		}
	}

	replace(job: Job) {
		const i = this.items.findIndex((j) => j.id === job.id);
		if (i >= 0) this.items[i] = job;
	}

	refreshPositionsSoon(fetcher: typeof fetch = fetch) {
		if (typeof window === 'undefined' || !this.items.some((j) => j.status === 'queued')) return;
		clearTimeout(this.#positionsTimer);
		this.#positionsTimer = setTimeout(() => void this.refreshPositions(fetcher), 800);
	}

	/** Re-reads queued jobs (at most `max`) for their current place in the queue. */
	async refreshPositions(fetcher: typeof fetch = fetch, max = 20): Promise<void> {
		const queued = this.items.filter((j) => j.status === 'queued').slice(0, max);
		await Promise.all(
			queued.map(async (j) => {
				const res = await fetcher(`/api/v1/jobs/${j.id}`, { headers: { accept: 'application/json' } });
				if (res.ok) this.replace(mergeJob(this.get(j.id), (await res.json()) as Job));
			})
		);
	}

	stop() {
		clearTimeout(this.#positionsTimer);
	}
}
