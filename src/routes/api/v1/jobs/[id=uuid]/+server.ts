import { z } from 'zod';
import { JobJson } from '$lib/schemas/jobs';
import { endpoint, operation } from '$lib/server/http/endpoint';
import { jobJson } from '$lib/server/jobs/json';
import { getJob } from '$lib/server/jobs/service';
import { db } from '$lib/server/runtime';

export const _operations = {
	GET: operation({
		summary: 'A job of mine',
		description: 'While queued, queue_position is its 1-based place among all queued jobs.',
		tags: ['jobs'],
		auth: 'user',
		params: z.object({ id: z.uuid() }),
		success: { status: 200, description: 'The job', schema: JobJson },
		errors: ['not_found']
	})
};

export const GET = endpoint(_operations.GET, async ({ user, params }) => {
	const { job, queuePosition } = await getJob(db(), user, params.id);
	return jobJson(job, queuePosition);
});
