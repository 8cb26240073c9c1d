import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/lib/server/config';
import { apiTokens, sessions, users } from '../../src/lib/server/db/schema';
import { DEMO_EMAIL, DEMO_MEMBER_EMAIL, seedDemo } from '../../src/lib/server/demo/seed';
import { loginUser, LoginLimiter } from '../../src/lib/server/auth/service';
import { createTestDatabase, type TestDatabase } from '../support/database';

let t: TestDatabase;
let dataDir: string;
beforeAll(async () => {
	t = await createTestDatabase();
	dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixsim7-demo-'));
});
afterAll(async () => {
	await t.destroy();
	fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('seedDemo', () => {
	it('creates an admin with an API token and a regular user, both able to sign in, and no stray sessions', async () => {
		const cfg = loadConfig({ DATA_DIR: dataDir, DEMO_PASSWORD: 'demo-secret-1' });
		const demo = await seedDemo(t.url, cfg);
		expect(demo).toMatchObject({ email: DEMO_EMAIL, memberEmail: DEMO_MEMBER_EMAIL, password: 'demo-secret-1' });

		const rows = await t.db.select().from(users);
		expect(rows.map((u) => [u.email, u.role]).sort()).toEqual([
			[DEMO_MEMBER_EMAIL, 'user'],
			[DEMO_EMAIL, 'admin']
		]);
		expect(await t.db.select().from(sessions)).toHaveLength(0);
		expect((await t.db.select().from(apiTokens)).map((r) => r.name)).toEqual(['demo script']);
		expect(fs.readFileSync(demo!.credentialsFile, 'utf8')).toContain('demo-secret-1');

		const limiter = new LoginLimiter(cfg);
		const signedIn = await loginUser(t.db, { email: DEMO_EMAIL, password: 'demo-secret-1' }, {}, cfg, limiter);
		expect(signedIn.user.role).toBe('admin');
	});

	it('does nothing once the database has users', async () => {
		expect(await seedDemo(t.url, loadConfig({ DATA_DIR: dataDir }))).toBeNull();
		expect(await t.db.select().from(users)).toHaveLength(2);
	});
});
