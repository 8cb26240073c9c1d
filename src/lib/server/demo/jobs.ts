/**
 * Demo generation for a fresh embedded database: a few jobs for the demo administrator on the
 * `local` renderer (no account, no network), created through the jobs service like any user's, so
 * the worker started next renders them. Within a minute of the first start the jobs list has
 * completed jobs, their videos are in the gallery with lineage back to a demo image or to the
 * video they extend, and Remix has something to reopen; one job waits for its scheduled time.
 */
import type { Config } from '../config';
import type { Db } from '../db/client';
import type { Job, User } from '../db/schema';
import { ingestAsset } from '../ingest/service';
import { createJob, type CreateJobInput } from '../jobs/service';
import { PARENT_ASSET_AS } from '../jobs/children';
import { logger } from '../logger';
import type { PgBoss } from '../queue/boss';
import type { Storage } from '../storage/local';

/** The demo images the jobs animate; they are ingested here, before the worker runs. */
export const DEMO_JOB_INPUTS = ['sunrise-over-the-bay.jpg', 'night-city.jpg'] as const;
type DemoInput = (typeof DEMO_JOB_INPUTS)[number];

/** How far ahead the scheduled demo job waits: long enough to be seen waiting, short enough to run the same day. */
const SCHEDULED_AHEAD_MS = 60 * 60_000;

export interface DemoJobsDeps {
	db: Db;
	boss: PgBoss;
	storage: Storage;
	config: Config;
}

export interface DemoJobsMedia {
	/** Asset id of each uploaded demo file, by filename. */
	assetIds: ReadonlyMap<string, string>;
	/** Workspace id of each demo workspace, by name. */
	workspaceIds: ReadonlyMap<string, string>;
}

/** The created jobs by role, for the caller's log and the tests. */
export interface DemoJobs {
	textToVideo: Job;
	/** Chained to textToVideo: extends its result once it is ready. */
	extend: Job;
	imageToVideo: Job;
	/** Pending until SCHEDULED_AHEAD_MS after seeding. */
	scheduledTransition: Job;
}

export async function seedDemoJobs(deps: DemoJobsDeps, user: User, media: DemoJobsMedia): Promise<DemoJobs> {
	const input = (filename: DemoInput): string => {
		const id = media.assetIds.get(filename);
		if (!id) throw new Error(`The demo file ${filename} was not uploaded`);
		return id;
	};
	// The jobs service accepts only ready input assets, and the worker that would ingest the uploads
	// starts after seeding; ingesting these two here (a few hundred ms) lets the jobs be created now,
	// through the service, rather than by a step that waits for the worker.
	const ctx = { db: deps.db, storage: deps.storage, config: deps.config, log: logger.child({ demo: true }) };
	await Promise.all(
		DEMO_JOB_INPUTS.map(async (filename) => {
			const result = await ingestAsset(ctx, input(filename));
			if (result.outcome !== 'ready') throw new Error(`The demo image ${filename} could not be ingested: ${result.reason ?? result.outcome}`);
		})
	);

	const workspace = (name: string) => media.workspaceIds.get(name) ?? null;
	// A key per job: createJob answers the existing job for a key it has seen, so a repeated seed
	// (which seedDemo's empty-database check already prevents) could not double them either.
	const create = async (key: string, job: CreateJobInput) => (await createJob(deps.db, deps.boss, deps.config, user, job, { idempotencyKey: `demo:${key}` })).job;

	const textToVideo = await create('paper-boat', {
		operationType: 'text_to_video',
		providerId: 'local',
		name: 'Paper boat',
		params: { prompt: 'A paper boat drifting across a still lake at dawn', duration: 3, seed: 7, aspect_ratio: '16:9' },
		workspaceId: workspace('Motion tests')
	});
	// Waits (pending) for its parent, then takes the parent's video as its input.
	const extend = await create('paper-boat-extended', {
		operationType: 'video_extend',
		providerId: 'local',
		name: 'Paper boat, extended',
		params: { [PARENT_ASSET_AS]: 'video_asset_id', prompt: 'The boat drifts on as the light warms', duration: 2, seed: 7 },
		parentJobId: textToVideo.id,
		workspaceId: workspace('Motion tests')
	});
	const imageToVideo = await create('sunrise-pan', {
		operationType: 'image_to_video',
		providerId: 'local',
		params: { image_asset_id: input('sunrise-over-the-bay.jpg'), prompt: 'The sun climbs over the bay', duration: 3, seed: 3, aspect_ratio: '16:9' },
		// Ahead of the default 5, so the list shows a priority other than the default.
		priority: 3,
		workspaceId: workspace('Travel')
	});
	const scheduledTransition = await create('bay-to-city', {
		operationType: 'video_transition',
		providerId: 'local',
		name: 'Bay to city',
		params: {
			first_asset_id: input('sunrise-over-the-bay.jpg'),
			last_asset_id: input('night-city.jpg'),
			prompt: 'From sunrise over the bay to the city at night',
			duration: 3,
			aspect_ratio: '16:9'
		},
		scheduledAt: new Date(Date.now() + SCHEDULED_AHEAD_MS),
		workspaceId: workspace('Travel')
	});
	return { textToVideo, extend, imageToVideo, scheduledTransition };
}
