import { z } from 'zod';
import { JobJson } from '$lib/schemas/jobs';
import { endpoint, operation } from '$lib/server/http/endpoint';
import { jobJson } from '$lib/server/jobs/json';
import { cancelJob } from '$lib/server/jobs/service';
import { boss, db } from '$lib/server/runtime';

export const _operations = {
	POST: operation({
		summary: 'Cancel a job',
		description:
			'Pending or queued: it never runs. Processing: the provider is asked to stop where it can. Its waiting child jobs are cancelled too. A finished job: 409.',
		tags: ['jobs'],
		auth: 'user',
		params: z.object({ id: z.uuid() }),
		success: { status: 200, description: 'The cancelled job', schema: JobJson },
		errors: ['not_found', 'conflict']
	})
};

export const POST = endpoint(_operations.POST, async ({ user, params }) => jobJson(await cancelJob(db(), boss(), user, params.id)));
