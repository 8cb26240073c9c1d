import { CreateWorkspaceRequest, WorkspaceJson, WorkspaceList } from '$lib/schemas/workspaces';
import { endpoint, operation } from '$lib/server/http/endpoint';
import { db } from '$lib/server/runtime';
import { workspaceJson } from '$lib/server/workspaces/json';
import { createWorkspace, listWorkspaces } from '$lib/server/workspaces/service';

export const _operations = {
	GET: operation({
		summary: 'List my workspaces',
		tags: ['workspaces'],
		auth: 'user',
		success: { status: 200, description: 'My workspaces, by name', schema: WorkspaceList }
	}),
	POST: operation({
		summary: 'Create a workspace',
		description: 'Names are unique per user, ignoring case (409 otherwise).',
		tags: ['workspaces'],
		auth: 'user',
		body: CreateWorkspaceRequest,
		success: { status: 201, description: 'Created', schema: WorkspaceJson },
		errors: ['conflict']
	})
};

export const GET = endpoint(_operations.GET, async ({ user }) => ({
	items: (await listWorkspaces(db(), user)).map(workspaceJson)
}));

export const POST = endpoint(_operations.POST, async ({ user, body }) => workspaceJson(await createWorkspace(db(), user, body)));
