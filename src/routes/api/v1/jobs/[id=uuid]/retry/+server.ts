import { z } from 'zod';
import { JobJson } from '$lib/schemas/jobs';
import { endpoint, operation } from '$lib/server/http/endpoint';
import { jobJson } from '$lib/server/jobs/json';
import { retryJob } from '$lib/server/jobs/service';
import { boss, db } from '$lib/server/runtime';

export const _operations = {
	POST: operation({
		summary: 'Retry a failed or cancelled job',
		description: 'Queues the same job again (retry_count + 1). It does not count against the daily job quota. Any other status: 409.',
		tags: ['jobs'],
		auth: 'user',
		params: z.object({ id: z.uuid() }),
		success: { status: 200, description: 'The job, queued again', schema: JobJson },
		errors: ['not_found', 'conflict']
	})
};

export const POST = endpoint(_operations.POST, async ({ user, params }) => jobJson(await retryJob(db(), boss(), user, params.id)));
