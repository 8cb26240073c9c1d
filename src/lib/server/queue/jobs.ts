/**
 * Every background job, declared once: its name, payload schema, queue options and, for
 * recurring jobs, its schedule. The worker registers a handler for each entry and refuses to
 * start if one is missing; senders get the payload type from here.
 */
import os from 'node:os';
import { z } from 'zod';

const cores = os.availableParallelism();
const assetJob = z.object({ asset_id: z.uuid() });
const generationJob = z.object({ job_id: z.uuid() });
const submissionJob = z.object({ submission_id: z.uuid() });

/**
 * `exclusive`: at most one job per singletonKey queued or running (a webhook delivery per event).
 * retryDelay (seconds) with pg-boss's backoff doubles per attempt, capped at retryDelayMax.
 */
export interface QueueOptions {
	policy?: 'standard' | 'stately' | 'exclusive';
	heartbeatSeconds?: number;
	notify?: boolean;
	retryDelay?: number;
	retryDelayMax?: number;
}

interface JobDefinition {
	payload: z.ZodType;
	/** Cron expression, evaluated in UTC. */
	cron?: string;
	retryLimit: number;
	/** pg-boss work options, set deliberately: its defaults fetch one job every two seconds. */
	work: { batchSize: number; pollingIntervalSeconds: number; localConcurrency: number; burstWhenBatchFull?: boolean; notifyPollingIntervalSeconds?: number };
	/**
	 * Queue options beyond retries. `stately` with a singletonKey allows one queued and one active
	 * job per key (one poller per submission). heartbeatSeconds: a job whose worker died (SIGKILL,
	 * power loss) is retried once its heartbeat is that stale, instead of after the 15-minute expiry.
	 */
	queue?: QueueOptions;
}

export const jobDefinitions = {
	'sessions.purge': {
		payload: z.object({}),
		cron: '0 * * * *',
		retryLimit: 3,
		work: { batchSize: 1, pollingIntervalSeconds: 1, localConcurrency: 1 }
	},
	'usage.rollover': {
		payload: z.object({}),
		cron: '0 0 * * *',
		retryLimit: 5,
		work: { batchSize: 1, pollingIntervalSeconds: 1, localConcurrency: 1 }
	},
	// Fresh uploads and downloads. Thumbnailing is CPU-bound: one lane per core, polled often so a
	// thumbnail appears within a second of the upload completing. Each lane takes two jobs at a time
	// and, while its fetches come back full (a backlog), fetches again at once: with one job per
	// fetch pg-boss cannot burst, and a lane waited out the poll after every short job (measured:
	// 400-800 px images 3.7/s against raw sharp's 5.5/s). Ingest is idempotent, so a job re-run
	// because its batch-mate failed only finds itself ready.
	'assets.ingest': {
		payload: assetJob,
		retryLimit: 4,
		work: { batchSize: 2, burstWhenBatchFull: true, pollingIntervalSeconds: 0.5, localConcurrency: cores }
	},
	// Bulk re-processing (new thumbnail sizes, repairs): its own queue, at most half the cores and
	// a lazier poll, so a backlog here never delays a fresh upload's thumbnails.
	'assets.reprocess': {
		payload: assetJob,
		retryLimit: 4,
		work: { batchSize: 1, pollingIntervalSeconds: 5, localConcurrency: Math.max(1, Math.floor(cores / 2)) }
	},
	/** Assets in the trash longer than TRASH_DAYS: files removed, storage released. */
	'assets.purge-trash': {
		payload: z.object({}),
		cron: '30 3 * * *',
		retryLimit: 3,
		work: { batchSize: 1, pollingIntervalSeconds: 1, localConcurrency: 1 }
	},
	/** Resumable uploads left unfinished past their expiry (a day): their files removed. */
	'uploads.expire-tus': {
		payload: z.object({}),
		cron: '15 * * * *',
		retryLimit: 3,
		work: { batchSize: 1, pollingIntervalSeconds: 1, localConcurrency: 1 }
	},
	// Generation (generation/): each stage is its own queue, so a slow download never holds a
	// submit or poll lane. Each fetch takes up to 32 messages, which the stage's batch handler moves
	// together with a few statements (generation/batch-*.ts). Two lanes per process for each stage:
	// a batch holds its lane until its slowest provider call returns (a submit Pixverse is slow to
	// answer, up to PIXVERSE_TIMEOUT_MS; a stalled result download), and the other lane keeps the
	// rest of the process's jobs moving whatever their provider (a test in
	// tests/worker/generation-pixverse.test.ts fails with one submit lane, although one measured
	// faster still in bench:jobs). Poll had four: every idle lane of a queue wakes on each NOTIFY
	// and fetches, and the stately queues' fetch (poll, download: a probe per candidate for an
	// active twin) costs 2-3 ms of the database's time a call. bench:jobs (2 workers, 2 cores,
	// 2026-12-05), alternating runs: two poll lanes and one download lane against four and two,
	// 4 of 4 pairs faster (79-105 against 71-92 jobs/s, +9%, a slow phase of the machine); then two
	// download lanes against one, no difference (106-116 against 103-114, four pairs). Eight lanes
	// of eight spent more polling for work than doing it. Idle workers poll often: at 100 jobs/s a
	// 2-second default poll would be the whole latency budget.
	// Heartbeats: a killed worker's stage is retried ~10 s later, not after pg-boss's 15 minutes.
	// notify: sending a stage wakes an idle worker at once (LISTEN/NOTIFY) instead of at its next
	// poll: a job passes three stages while it holds an account slot, so each hand-off's wait is
	// slot time. Its idle poll stays 0.5 s (pg-boss would relax it to 30 s): deferred sends (the
	// next poll, a waiting job's retry) NOTIFY when sent, not when due. burstWhenBatchFull: after a full batch fetch again at once; pg-boss otherwise waits
	// the polling interval even with a backlog (8 lanes × 8 jobs per 0.5 s capped a queue at 128/s).
	'generation.submit': {
		payload: generationJob,
		retryLimit: 8,
		work: { batchSize: 32, burstWhenBatchFull: true, pollingIntervalSeconds: 0.5, notifyPollingIntervalSeconds: 0.5, localConcurrency: 2 },
		queue: { heartbeatSeconds: 10, notify: true }
	},
	// One poller per submission: sent with singletonKey = submission id into a stately queue, so a
	// re-drive from the sweep never doubles the polling of a task.
	'generation.poll': {
		payload: submissionJob,
		retryLimit: 8,
		work: { batchSize: 32, burstWhenBatchFull: true, pollingIntervalSeconds: 0.5, notifyPollingIntervalSeconds: 0.5, localConcurrency: 2 },
		queue: { policy: 'stately', heartbeatSeconds: 10, notify: true }
	},
	// Results, a batch at a time: downloaded side by side and completed in one transaction.
	'generation.download': {
		payload: submissionJob,
		retryLimit: 6,
		work: { batchSize: 32, burstWhenBatchFull: true, pollingIntervalSeconds: 0.5, notifyPollingIntervalSeconds: 0.5, localConcurrency: 2 },
		queue: { policy: 'stately', heartbeatSeconds: 10, notify: true }
	},
	/** Asks the provider to stop a running task whose job was cancelled. */
	'generation.cancel': {
		payload: submissionJob,
		retryLimit: 3,
		work: { batchSize: 1, pollingIntervalSeconds: 1, localConcurrency: 1 }
	},
	// Webhooks (webhooks/): the dispatcher reads new events from the events table (the outbox) and
	// sends one delivery per (webhook, event). It runs every minute as a backstop and is woken by
	// the worker's LISTEN on the events channel (webhooks/wake.ts) when an event's owner has a
	// webhook, so deliveries leave within a second and users without webhooks cost no reads.
	// stately with no key: one queued and one running at most, so a burst of wake-ups is one run
	// (plus one after it, which sees what committed during the first). notify: a wake-up starts it
	// at once instead of at the next poll.
	'webhooks.dispatch': {
		payload: z.object({}),
		cron: '* * * * *',
		retryLimit: 2,
		work: { batchSize: 1, pollingIntervalSeconds: 1, notifyPollingIntervalSeconds: 5, localConcurrency: 1 },
		queue: { policy: 'stately', notify: true }
	},
	// One POST per job: batchSize 1, because a failed batch fails (and re-runs) its batch-mates,
	// which here would deliver twice. Deliveries wait on other people's servers (10 s timeout), not
	// our CPU, so several lanes per core. exclusive + singletonKey (webhook:event): a dispatcher
	// re-run cannot queue a second delivery of one event. Retries back off from 5-10 s, doubling
	// (with jitter), capped at an hour: 12 retries over 3.5-4.5 hours, then it gives up. Retries
	// are deferred and do not NOTIFY when due, so the idle poll stays 2 s, not pg-boss's relaxed 30 s.
	'webhooks.deliver': {
		payload: z.object({
			webhook_id: z.uuid(),
			delivery_id: z.uuid(),
			event: z.object({ id: z.string(), type: z.string(), created_at: z.string(), data: z.record(z.string(), z.unknown()) })
		}),
		retryLimit: 12,
		work: { batchSize: 1, pollingIntervalSeconds: 2, notifyPollingIntervalSeconds: 2, localConcurrency: cores * 2 },
		queue: { policy: 'exclusive', notify: true, retryDelay: 5, retryDelayMax: 3600 }
	},
	/** Crash repair: recount slots, re-drive jobs whose queue message was lost, prune old events. */
	'generation.sweep': {
		payload: z.object({}),
		cron: '* * * * *',
		retryLimit: 1,
		work: { batchSize: 1, pollingIntervalSeconds: 1, localConcurrency: 1 }
	}
} satisfies Record<string, JobDefinition>;

export type JobName = keyof typeof jobDefinitions;
export type JobPayload<N extends JobName> = z.infer<(typeof jobDefinitions)[N]['payload']>;

export const jobNames = Object.keys(jobDefinitions) as JobName[];
