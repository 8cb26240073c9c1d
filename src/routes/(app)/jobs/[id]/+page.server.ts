import { error, fail } from '@sveltejs/kit';
import { z } from 'zod';
import { assetJson } from '$lib/server/assets/json';
import { getAsset } from '$lib/server/assets/service';
import { AppError } from '$lib/server/errors';
import { failWith } from '$lib/server/http/forms';
import { requireUser } from '$lib/server/http/pages';
import { jobJson, submissionJson } from '$lib/server/jobs/json';
import { cancelJob, getJob, listSubmissions, retryJob } from '$lib/server/jobs/service';
import { boss, db } from '$lib/server/runtime';
import type { Actions } from './$types';

const JobId = z.uuid();

export const load = async (event) => {
	const { user } = requireUser(event);
	const id = JobId.safeParse(event.params.id);
	if (!id.success) error(404, { message: 'Job not found.', code: 'not_found' });
	try {
		const { job, queuePosition } = await getJob(db(), user, id.data);
		const [submissions, asset] = await Promise.all([
			listSubmissions(db(), user, job.id),
			// A result moved to the trash and purged is simply gone.
			job.assetId ? getAsset(db(), user, job.assetId).then((a) => assetJson(a.asset, a.variants), () => null) : null
		]);
		return {
			job: jobJson(job, queuePosition),
			submissions: submissions.map((s) => submissionJson(s.submission, s.accountLabel)),
			asset
		};
	} catch (err) {
		if (err instanceof AppError && err.status === 404) error(404, { message: 'Job not found.', code: 'not_found' });
		throw err;
	}
};

async function act(event: Parameters<Actions[string]>[0], run: typeof cancelJob) {
	const { user } = requireUser(event);
	const id = JobId.safeParse(event.params.id);
	if (!id.success) return fail(404, { errors: { _: ['Job not found.'] } });
	try {
		return { job: jobJson(await run(db(), boss(), user, id.data)) };
	} catch (err) {
		return failWith(err, {});
	}
}

export const actions = {
	cancel: (event) => act(event, cancelJob),
	retry: (event) => act(event, retryJob)
} satisfies Actions;
