/**
 * Demo data for a fresh embedded database, so a first start shows the app with something in it:
 * an administrator with a personal API token, and a regular user for the Users page to manage.
 * Never runs against DATABASE_URL (the start script only calls it for the embedded server).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config';
import { connect } from '../db/client';
import { registerUser } from '../auth/service';
import { createApiToken } from '../auth/api-tokens';
import { invalidateSession } from '../auth/sessions';
import { countUsers } from '../users/service';

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
