/** A user's workspaces. Every query is scoped to the owner: another user's id is simply not found. */
import { and, asc, eq, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { uniqueViolation } from '../db/errors';
import { workspaces, type User, type Workspace } from '../db/schema';
import { ConflictError, NotFoundError } from '../errors';

export interface WorkspaceInput {
	name?: string;
	description?: string;
}

function nameTaken(err: unknown): ConflictError | null {
	return uniqueViolation(err) === 'workspaces_owner_name_key'
		? new ConflictError('You already have a workspace with that name.', { name: ['You already have a workspace with that name.'] })
		: null;
}

export async function listWorkspaces(db: DbOrTx, user: User): Promise<Workspace[]> {
	return db
		.select()
		.from(workspaces)
		.where(eq(workspaces.ownerId, user.id))
		.orderBy(asc(sql`lower(${workspaces.name})`), asc(workspaces.id));
}

export async function getWorkspace(db: DbOrTx, user: User, id: string): Promise<Workspace> {
	const [row] = await db
		.select()
		.from(workspaces)
		.where(and(eq(workspaces.id, id), eq(workspaces.ownerId, user.id)));
	if (!row) throw new NotFoundError('Workspace');
	return row;
}

/** Throws NotFoundError unless the workspace exists and is the user's. */
export async function assertOwnWorkspace(db: DbOrTx, userId: string, id: string): Promise<void> {
	const [row] = await db
		.select({ id: workspaces.id })
		.from(workspaces)
		.where(and(eq(workspaces.id, id), eq(workspaces.ownerId, userId)));
	if (!row) throw new NotFoundError('Workspace');
}

export async function createWorkspace(db: DbOrTx, user: User, input: WorkspaceInput & { name: string }): Promise<Workspace> {
	try {
		const [row] = await db
			.insert(workspaces)
			.values({ ownerId: user.id, name: input.name, description: input.description ?? '' })
			.returning();
		return row;
	} catch (err) {
		throw nameTaken(err) ?? err;
	}
}

export async function updateWorkspace(db: DbOrTx, user: User, id: string, input: WorkspaceInput): Promise<Workspace> {
	const changes: Partial<typeof workspaces.$inferInsert> = { updatedAt: new Date() };
	if (input.name !== undefined) changes.name = input.name;
	if (input.description !== undefined) changes.description = input.description;
	try {
		const [row] = await db
			.update(workspaces)
			.set(changes)
			.where(and(eq(workspaces.id, id), eq(workspaces.ownerId, user.id)))
			.returning();
		if (!row) throw new NotFoundError('Workspace');
		return row;
	} catch (err) {
		throw nameTaken(err) ?? err;
	}
}

/** Deletes the workspace; its assets stay, with no workspace (the foreign key sets it null). */
export async function deleteWorkspace(db: DbOrTx, user: User, id: string): Promise<void> {
	const deleted = await db
		.delete(workspaces)
		.where(and(eq(workspaces.id, id), eq(workspaces.ownerId, user.id)))
		.returning({ id: workspaces.id });
	if (deleted.length === 0) throw new NotFoundError('Workspace');
}
