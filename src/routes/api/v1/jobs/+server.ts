import { json } from '@sveltejs/kit';
import { z } from 'zod';
import { CreateJobRequest, JobJson, JobPage, ListJobsQuery } from '$lib/schemas/jobs';
import { config } from '$lib/server/config';
import { ValidationError } from '$lib/server/errors';
import { endpoint, operation } from '$lib/server/http/endpoint';
import { jobJson } from '$lib/server/jobs/json';
import { createJob, listJobs } from '$lib/server/jobs/service';
import { boss, db } from '$lib/server/runtime';

const IdempotencyHeaders = z.object({
	'idempotency-key': z
		.string()
		.max(200)
		.optional()
		.describe('Same key and same body answer the job made the first time (200); same key with another body: 409')
});

export const _operations = {
	GET: operation({
		summary: 'List my jobs',
		description: 'Newest first; keyset pages (pass next_cursor back as cursor).',
		tags: ['jobs'],
		auth: 'user',
		query: ListJobsQuery,
		success: { status: 200, description: 'A page of jobs', schema: JobPage }
	}),
	POST: operation({
		summary: 'Create a generation job',
		description:
			'operation_type is explicit. params are checked against the provider\'s schema for that operation (errors keyed `params.<field>`); input assets must be your own, ready and not trashed (not ready: 409). A parent_job_id makes the job wait for that job (pending); `params.parent_asset_as` names the param that receives its result. scheduled_at in the future: pending until then. Counts against the daily job quota (429 quota_exceeded).',
		tags: ['jobs'],
		auth: 'user',
		body: CreateJobRequest,
		headers: IdempotencyHeaders,
		success: { status: 201, description: 'Created (200 with the same job for a repeated Idempotency-Key)', schema: JobJson },
		otherResponses: [{ status: 200, description: 'The job an earlier request with this Idempotency-Key created', schema: JobJson }],
		errors: ['not_found', 'conflict', 'quota_exceeded']
	})
};

export const GET = endpoint(_operations.GET, async ({ user, query }) => {
	const page = await listJobs(db(), user, {
		status: query.status,
		workspaceId: query.workspace_id,
		operationType: query.operation_type,
		providerId: query.provider_id,
		q: query.q || undefined,
		cursor: query.cursor,
		limit: query.limit
	});
	return { items: page.items.map((j) => jobJson(j, page.queuePositions.get(j.id) ?? null)), next_cursor: page.nextCursor };
});

export const POST = endpoint(_operations.POST, async ({ user, body, event }) => {
	const key = event.request.headers.get('idempotency-key');
	if (key !== null && (key.trim() === '' || key.length > 200)) {
		throw new ValidationError('The Idempotency-Key header must be 1 to 200 characters.', { 'Idempotency-Key': ['Use 1 to 200 characters.'] });
	}
	const { job, created } = await createJob(
		db(),
		boss(),
		config(),
		user,
		{
			operationType: body.operation_type,
			providerId: body.provider_id,
			params: body.params,
			workspaceId: body.workspace_id,
			name: body.name,
			priority: body.priority,
			scheduledAt: body.scheduled_at ? new Date(body.scheduled_at) : null,
			parentJobId: body.parent_job_id
		},
		{ idempotencyKey: key ?? undefined }
	);
	return json(jobJson(job), { status: created ? 201 : 200 });
});
