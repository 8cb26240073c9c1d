import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assets } from '../../src/lib/server/db/schema';
import { ConflictError, NotFoundError } from '../../src/lib/server/errors';
import {
	createWorkspace,
	deleteWorkspace,
	getWorkspace,
	listWorkspaces,
	updateWorkspace
} from '../../src/lib/server/workspaces/service';
import { makeAsset } from '../support/asset-rows';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeUser } from '../support/factories';

let t: TestDatabase;
beforeAll(async () => {
	t = await createTestDatabase();
});
afterAll(async () => {
	await t.destroy();
});

describe('workspaces', () => {
	it('creates, lists by name, renames and describes a user’s workspaces', async () => {
		const { user } = await makeUser(t.db);
		const b = await createWorkspace(t.db, user, { name: 'beta' });
		const a = await createWorkspace(t.db, user, { name: 'Alpha', description: 'first' });
		expect((await listWorkspaces(t.db, user)).map((w) => w.name)).toEqual(['Alpha', 'beta']);
		const renamed = await updateWorkspace(t.db, user, b.id, { name: 'Gamma', description: 'renamed' });
		expect(renamed).toMatchObject({ name: 'Gamma', description: 'renamed' });
		expect(renamed.updatedAt.getTime()).toBeGreaterThanOrEqual(b.updatedAt.getTime());
		expect(await getWorkspace(t.db, user, a.id)).toMatchObject({ name: 'Alpha', description: 'first' });
	});

	it('refuses a second workspace of the same name (ignoring case) for one user, not across users', async () => {
		const { user } = await makeUser(t.db);
		const { user: other } = await makeUser(t.db);
		const first = await createWorkspace(t.db, user, { name: 'Trips' });
		await expect(createWorkspace(t.db, user, { name: 'trips' })).rejects.toBeInstanceOf(ConflictError);
		const second = await createWorkspace(t.db, user, { name: 'Other' });
		await expect(updateWorkspace(t.db, user, second.id, { name: 'TRIPS' })).rejects.toBeInstanceOf(ConflictError);
		await expect(createWorkspace(t.db, other, { name: 'Trips' })).resolves.toMatchObject({ name: 'Trips' });
		// Renaming to its own name in another case is fine.
		await expect(updateWorkspace(t.db, user, first.id, { name: 'TRIPS' })).resolves.toMatchObject({ name: 'TRIPS' });
	});

	it('treats another user’s workspace as not found', async () => {
		const { user: owner } = await makeUser(t.db);
		const { user: mallory } = await makeUser(t.db);
		const w = await createWorkspace(t.db, owner, { name: 'Private' });
		await expect(getWorkspace(t.db, mallory, w.id)).rejects.toBeInstanceOf(NotFoundError);
		await expect(updateWorkspace(t.db, mallory, w.id, { name: 'Mine' })).rejects.toBeInstanceOf(NotFoundError);
		await expect(deleteWorkspace(t.db, mallory, w.id)).rejects.toBeInstanceOf(NotFoundError);
		expect(await listWorkspaces(t.db, mallory)).toEqual([]);
		expect(await getWorkspace(t.db, owner, w.id)).toMatchObject({ name: 'Private' });
	});

	it('deleting a workspace keeps its assets, with no workspace', async () => {
		const { user } = await makeUser(t.db);
		const w = await createWorkspace(t.db, user, { name: 'Doomed' });
		const asset = await makeAsset(t.db, user.id, { workspaceId: w.id });
		await deleteWorkspace(t.db, user, w.id);
		const [row] = await t.db.select().from(assets).where(eq(assets.id, asset.id));
		expect(row.workspaceId).toBeNull();
		await expect(getWorkspace(t.db, user, w.id)).rejects.toBeInstanceOf(NotFoundError);
		await expect(deleteWorkspace(t.db, user, w.id)).rejects.toBeInstanceOf(NotFoundError);
	});
});
