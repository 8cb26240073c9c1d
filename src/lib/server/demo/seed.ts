/**
 * Demo data for a fresh embedded database, so a first start shows the app with something in it.
 * Never runs against DATABASE_URL (the start script only calls it for the embedded server).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config';
import { connect } from '../db/client';
import { registerUser } from '../auth/service';
import { createApiToken } from '../auth/api-tokens';
import { countUsers } from '../users/service';

export const DEMO_EMAIL = 'demo@pixsim7.local';

export interface DemoCredentials {
	email: string;
	password: string;
	credentialsFile: string;
}

export async function seedDemo(url: string, cfg: Config): Promise<DemoCredentials | null> {
	const database = connect(url, { max: 2 });
	try {
		if ((await countUsers(database.db)) > 0) return null;
		const password = cfg.DEMO_PASSWORD ?? randomBytes(9).toString('base64url');
		const { user } = await registerUser(
			database.db,
			{ email: DEMO_EMAIL, username: 'demo', password },
			{ ipAddress: null, userAgent: 'pixsim7 demo seed' },
			cfg
		);
		await createApiToken(database.db, user.id, { name: 'demo script' });
		const credentialsFile = path.join(cfg.dataDir, 'demo-credentials.txt');
		fs.mkdirSync(cfg.dataDir, { recursive: true });
		fs.writeFileSync(credentialsFile, `email: ${DEMO_EMAIL}\npassword: ${password}\n`, { mode: 0o600 });
		return { email: DEMO_EMAIL, password, credentialsFile };
	} finally {
		await database.close();
	}
}
