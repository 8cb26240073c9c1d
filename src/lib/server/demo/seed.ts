/**
 * Demo data for a fresh embedded database, so a first start shows the app with something in it:
 * an administrator with a personal API token, and a regular user for the Users page to manage.
 * The administrator's gallery holds a few generated images and a short video, uploaded through the
 * upload service (so the worker ingests them like any upload), in two workspaces, one in the trash,
 * and a few generation jobs on the local renderer (demo/jobs.ts) that the worker renders.
 * Never runs against DATABASE_URL (the start script only calls it for the embedded server).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureBuiltinAccounts } from '../accounts/pool';
import type { Config } from '../config';
import { connect } from '../db/client';
import { registerUser } from '../auth/service';
import { createApiToken } from '../auth/api-tokens';
import { invalidateSession } from '../auth/sessions';
import { countUsers } from '../users/service';
import type { Db } from '../db/client';
import type { User } from '../db/schema';
import { resolveFfmpegPath, writeDemoMedia, type DemoFile } from '../media';
import { createBoss, ensureQueues } from '../queue/boss';
import { createLocalStorage } from '../storage/local';
import { uploadFromFile, type UploadDeps } from '../uploads/service';
import { createWorkspace } from '../workspaces/service';
import { trashAsset } from '../assets/service';
import { seedDemoJobs, type DemoJobsMedia } from './jobs';

export const DEMO_EMAIL = 'demo@pixsim7.local';
export const DEMO_MEMBER_EMAIL = 'alex@pixsim7.local';

export interface DemoCredentials {
	email: string;
	memberEmail: string;
	password: string;
	credentialsFile: string;
}

export async function seedDemo(url: string, cfg: Config): Promise<DemoCredentials | null> {
	const database = connect(url, { max: 2 });
	try {
		if ((await countUsers(database.db)) > 0) return null;
		const password = cfg.DEMO_PASSWORD ?? randomBytes(9).toString('base64url');
		const seedClient = { ipAddress: null, userAgent: 'pixsim7 demo seed' };
		// The first account becomes the administrator.
		const admin = await registerUser(database.db, { email: DEMO_EMAIL, username: 'demo', password }, seedClient, cfg);
		const member = await registerUser(database.db, { email: DEMO_MEMBER_EMAIL, username: 'alex', password }, seedClient, cfg);
		// Registration signs in; nobody is using these seed sessions.
		await invalidateSession(database.db, admin.session.id);
		await invalidateSession(database.db, member.session.id);
		await createApiToken(database.db, admin.user.id, { name: 'demo script' });
		await ensureBuiltinAccounts(database.db, cfg);
		await seedDemoContent(database.db, url, cfg, admin.user);

		const credentialsFile = path.join(cfg.dataDir, 'demo-credentials.txt');
		fs.mkdirSync(cfg.dataDir, { recursive: true });
		fs.writeFileSync(
			credentialsFile,
			`administrator: ${DEMO_EMAIL}\nuser: ${DEMO_MEMBER_EMAIL}\npassword (both): ${password}\n`,
			{ mode: 0o600 }
		);
		return { email: DEMO_EMAIL, memberEmail: DEMO_MEMBER_EMAIL, password, credentialsFile };
	} finally {
		await database.close();
	}
}

/** Which workspace each demo file lands in (by filename); the rest stay outside any workspace. */
const DEMO_WORKSPACES = [
	{ name: 'Travel', description: 'Landscapes for the travel reel', files: ['sunrise-over-the-bay.jpg', 'desert-panorama.webp', 'lighthouse-tall.jpg'] },
	{ name: 'Motion tests', description: 'Clips and stills for video experiments', files: ['test-pattern.mp4', 'night-city.jpg'] }
];
/** One asset starts in the trash, so the trash view has something to restore. */
const DEMO_TRASHED = 'forest-floor.png';

/** The administrator's media, then the jobs made from it, over one queue connection that only sends. */
async function seedDemoContent(db: Db, url: string, cfg: Config, user: User): Promise<void> {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixsim7-demo-media-'));
	// Only sends: the worker, started next, ingests the media and runs the jobs.
	const boss = createBoss(url, cfg.PGBOSS_SCHEMA, 'web');
	try {
		const [files] = await Promise.all([writeDemoMedia(dir, resolveFfmpegPath(cfg.FFMPEG_PATH)), boss.start().then(() => ensureQueues(boss))]);
		const deps = { db, boss, storage: createLocalStorage(cfg.mediaRoot), config: cfg };
		const media = await uploadDemoMedia(deps, user, files);
		await seedDemoJobs(deps, user, media);
	} finally {
		await boss.stop({ graceful: false, timeout: 5000 }).catch(() => {});
		fs.rmSync(dir, { recursive: true, force: true });
	}
}

async function uploadDemoMedia(deps: UploadDeps, user: User, files: DemoFile[]): Promise<DemoJobsMedia> {
	const workspaceIds = new Map<string, string>();
	const workspaceOf = new Map<string, string>();
	for (const spec of DEMO_WORKSPACES) {
		const workspace = await createWorkspace(deps.db, user, { name: spec.name, description: spec.description });
		workspaceIds.set(spec.name, workspace.id);
		for (const file of spec.files) workspaceOf.set(file, workspace.id);
	}
	const assetIds = new Map<string, string>();
	for (const file of files) {
		const result = await uploadFromFile(deps, user, {
			path: file.path,
			filename: file.filename,
			declaredMime: file.mime,
			workspaceId: workspaceOf.get(file.filename) ?? null
		});
		assetIds.set(file.filename, result.duplicate ? result.assetId : result.asset.id);
		if (file.filename === DEMO_TRASHED && !result.duplicate) await trashAsset(deps.db, user, result.asset.id);
	}
	return { assetIds, workspaceIds };
}
