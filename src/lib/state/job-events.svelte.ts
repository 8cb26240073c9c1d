import type { z } from 'zod';
import type { JobJson } from '$lib/schemas/jobs';

export type Job = z.infer<typeof JobJson>;

export const JOB_EVENT_TYPES = ['job.created', 'job.queued', 'job.started', 'job.progress', 'job.completed', 'job.failed', 'job.cancelled'] as const;
export type JobEventType = (typeof JOB_EVENT_TYPES)[number];

/**
 * The signed-in user's live job events from `GET /api/v1/events` (Server-Sent Events, the session
 * cookie authenticates). EventSource reconnects by itself and resends the last event id, so the
 * server replays what was missed; `onopen` runs on every (re)connection so a page can also catch
 * up on what happened before the first one.
 */
export class JobEvents {
	connected = $state(false);
	#source: EventSource | null = null;

	connect(handlers: {
		onjob: (type: JobEventType, job: Job) => void;
		/** asset.ready / asset.failed: the asset's id (its thumbnails exist once ready). */
		onasset?: (type: 'asset.ready' | 'asset.failed', assetId: string) => void;
		onopen?: () => void;
	}): () => void {
		this.disconnect();
		const source = new EventSource('/api/v1/events');
		this.#source = source;
		source.onopen = () => {
			this.connected = true;
			handlers.onopen?.();
		};
		source.onerror = () => {
			this.connected = false;
		};
		for (const type of JOB_EVENT_TYPES) {
			source.addEventListener(type, (event) => {
				const job = parseJob((event as MessageEvent<string>).data);
				if (job) handlers.onjob(type, job);
			});
		}
		for (const type of ['asset.ready', 'asset.failed'] as const) {
			source.addEventListener(type, (event) => {
				const id = assetIdOf((event as MessageEvent<string>).data);
				if (id) handlers.onasset?.(type, id);
			});
		}
		return () => this.disconnect();
	}

	disconnect() {
		this.#source?.close();
		this.#source = null;
		this.connected = false;
	}
}

function parseJob(data: string): Job | null {
	try {
		const parsed = JSON.parse(data) as Partial<Job> | { data?: Partial<Job> };
		// The event's data is the job itself; tolerate an envelope `{ data: job }` too.
		const job = 'id' in parsed && 'status' in parsed ? parsed : (parsed as { data?: Partial<Job> }).data;
		return job && typeof job.id === 'string' && typeof job.status === 'string' ? (job as Job) : null;
	} catch {
		return null;
	}
}

function assetIdOf(data: string): string | null {
	try {
		const parsed = JSON.parse(data) as { id?: unknown; asset_id?: unknown };
		const id = parsed.asset_id ?? parsed.id;
		return typeof id === 'string' ? id : null;
	} catch {
		return null;
	}
}
