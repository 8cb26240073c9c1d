/**
 * Every background job, declared once: its name, payload schema, queue options and, for
 * recurring jobs, its schedule. The worker registers a handler for each entry and refuses to
 * start if one is missing; senders get the payload type from here.
 */
import { z } from 'zod';

interface JobDefinition {
	payload: z.ZodType;
	/** Cron expression, evaluated in UTC. */
	cron?: string;
	retryLimit: number;
	/** pg-boss work options, set deliberately: its defaults fetch one job every two seconds. */
	work: { batchSize: number; pollingIntervalSeconds: number; localConcurrency: number };
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
	}
} satisfies Record<string, JobDefinition>;

export type JobName = keyof typeof jobDefinitions;
export type JobPayload<N extends JobName> = z.infer<(typeof jobDefinitions)[N]['payload']>;

export const jobNames = Object.keys(jobDefinitions) as JobName[];
