import { describe, expect, it } from 'vitest';
import type { Job } from './job-events.svelte';
import { JobList, matchesFilters, mergeJob } from './job-list.svelte';

const noFilters = { status: '', operation_type: '', workspace_id: '', q: '' };

function job(overrides: Partial<Job> = {}): Job {
	return {
		id: crypto.randomUUID(),
		name: null,
		operation_type: 'text_to_video',
		provider_id: 'local',
		params: { prompt: 'A lighthouse at dusk' },
		status: 'queued',
		priority: 5,
		scheduled_at: null,
		parent_job_id: null,
		workspace_id: null,
		error_message: null,
		error_class: null,
		retry_count: 0,
		wait_reason: null,
		queue_position: null,
		progress: null,
		asset_id: null,
		account_id: null,
		created_at: '2026-11-23T19:00:00.000Z',
		queued_at: '2026-11-23T19:00:00.000Z',
		started_at: null,
		finished_at: null,
		...overrides
	};
}

describe('the live jobs list', () => {
	it('puts a new job on top, updates one it shows in place, and drops one that leaves the filter', () => {
		const older = job({ created_at: '2026-11-23T18:00:00.000Z' });
		const list = new JobList();
		list.reset([older], null, { ...noFilters, status: 'queued' });

		const fresh = job({ created_at: '2026-11-23T19:30:00.000Z' });
		list.apply('job.created', fresh);
		expect(list.items.map((j) => j.id)).toEqual([fresh.id, older.id]);

		list.apply('job.started', { ...older, status: 'processing', progress: 0.2 });
		expect(list.items.map((j) => j.id)).toEqual([fresh.id]);
	});

	it('shows progress as events bring it, and keeps the queue place events do not carry', () => {
		const queued = job({ queue_position: 3 });
		const list = new JobList();
		list.reset([queued], null, noFilters);
		list.apply('job.queued', { ...queued, wait_reason: 'No account with a free slot' });
		expect(list.items[0]).toMatchObject({ queue_position: 3, wait_reason: 'No account with a free slot' });
		list.apply('job.progress', { ...queued, status: 'processing', progress: 0.5 });
		expect(list.items[0]).toMatchObject({ status: 'processing', progress: 0.5, queue_position: null });
	});

	it('leaves an older job it has not loaded to its later page', () => {
		const list = new JobList();
		list.reset([job({ created_at: '2026-11-23T19:00:00.000Z' })], 'cursor', noFilters);
		list.apply('job.progress', job({ created_at: '2026-11-20T10:00:00.000Z', status: 'processing' }));
		expect(list.items).toHaveLength(1);
	});

	it('filters like the API: status, operation, workspace, and q over name and prompt', () => {
		const j = job({ name: 'Teaser', workspace_id: 'w1' });
		expect(matchesFilters(j, { ...noFilters, q: 'LIGHTHOUSE' })).toBe(true);
		expect(matchesFilters(j, { ...noFilters, q: 'teas' })).toBe(true);
		expect(matchesFilters(j, { ...noFilters, q: 'forest' })).toBe(false);
		expect(matchesFilters(j, { ...noFilters, operation_type: 'fusion' })).toBe(false);
		expect(matchesFilters(j, { ...noFilters, workspace_id: 'w2' })).toBe(false);
		expect(mergeJob(undefined, j)).toBe(j);
	});
});
