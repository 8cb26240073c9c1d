import { z } from 'zod';
import { SubmissionList } from '$lib/schemas/jobs';
import { endpoint, operation } from '$lib/server/http/endpoint';
import { submissionJson } from '$lib/server/jobs/json';
import { listSubmissions } from '$lib/server/jobs/service';
import { db } from '$lib/server/runtime';

export const _operations = {
	GET: operation({
		summary: "A job's submissions to its provider",
		description: 'The ledger, oldest first: what was sent (secret-looking keys redacted), what came back, on which account.',
		tags: ['jobs'],
		auth: 'user',
		params: z.object({ id: z.uuid() }),
		success: { status: 200, description: 'The submissions', schema: SubmissionList },
		errors: ['not_found']
	})
};

export const GET = endpoint(_operations.GET, async ({ user, params }) => ({
	items: (await listSubmissions(db(), user, params.id)).map((r) => submissionJson(r.submission, r.accountLabel))
}));
