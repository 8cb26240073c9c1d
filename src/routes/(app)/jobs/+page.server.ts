import { fail } from '@sveltejs/kit';
import { z } from 'zod';
import { ListJobsQuery } from '$lib/schemas/jobs';
import { failWith, parseForm } from '$lib/server/http/forms';
import { requireUser } from '$lib/server/http/pages';
import { jobJson } from '$lib/server/jobs/json';
import { cancelJob, getJob, listJobs, retryJob } from '$lib/server/jobs/service';
import { boss, db } from '$lib/server/runtime';
import { workspaceJson } from '$lib/server/workspaces/json';
import { listWorkspaces } from '$lib/server/workspaces/service';
import type { Actions } from './$types';

const JOB_FILTER_KEYS = ['status', 'operation_type', 'workspace_id', 'q'] as const;

export const load = async (event) => {
	const { user } = requireUser(event);
	// A malformed filter is dropped rather than answered with an error page.
	const raw = Object.fromEntries(JOB_FILTER_KEYS.map((k) => [k, event.url.searchParams.get(k) ?? '']));
	const given = Object.fromEntries(
		Object.entries(raw).filter(([k, v]) => v !== '' && ListJobsQuery.shape[k as (typeof JOB_FILTER_KEYS)[number]].safeParse(v).success)
	);
	const query = ListJobsQuery.parse(given);
	const workspaces = await listWorkspaces(db(), user);
	const workspaceId = workspaces.some((w) => w.id === query.workspace_id) ? query.workspace_id : undefined;
	const page = await listJobs(db(), user, {
		status: query.status,
		operationType: query.operation_type,
		workspaceId,
		q: query.q || undefined,
		limit: query.limit
	});
	// The list query does not compute queue places; the queued jobs on this page get theirs.
	const positions = new Map(
		await Promise.all(
			page.items
				.filter((j) => j.status === 'queued')
				.slice(0, 20)
				.map(async (j) => [j.id, (await getJob(db(), user, j.id)).queuePosition] as const)
		)
	);
	return {
		items: page.items.map((j) => jobJson(j, positions.get(j.id) ?? null)),
		nextCursor: page.nextCursor,
		workspaces: workspaces.map(workspaceJson),
		filters: {
			status: query.status ?? '',
			operation_type: query.operation_type ?? '',
			workspace_id: workspaceId ?? '',
			q: query.q ?? ''
		}
	};
};

const JobIdForm = z.object({ id: z.uuid({ error: 'Unknown job.' }) });

// Cancel and retry answer the changed job, so the list updates it in place (the page with
// JavaScript) or reloads (without).
export const actions = {
	cancel: async (event) => {
		const { user } = requireUser(event);
		const parsed = parseForm(JobIdForm, await event.request.formData());
		if (!parsed.ok) return fail(400, { errors: parsed.errors });
		try {
			return { job: jobJson(await cancelJob(db(), boss(), user, parsed.data.id)) };
		} catch (err) {
			return failWith(err, {});
		}
	},
	retry: async (event) => {
		const { user } = requireUser(event);
		const parsed = parseForm(JobIdForm, await event.request.formData());
		if (!parsed.ok) return fail(400, { errors: parsed.errors });
		try {
			return { job: jobJson(await retryJob(db(), boss(), user, parsed.data.id)) };
		} catch (err) {
			return failWith(err, {});
		}
	}
} satisfies Actions;
