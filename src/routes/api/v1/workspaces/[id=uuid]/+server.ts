import { z } from 'zod';
import { UpdateWorkspaceRequest, WorkspaceJson } from '$lib/schemas/workspaces';
import { endpoint, operation } from '$lib/server/http/endpoint';
import { db } from '$lib/server/runtime';
import { workspaceJson } from '$lib/server/workspaces/json';
import { deleteWorkspace, getWorkspace, updateWorkspace } from '$lib/server/workspaces/service';

const params = z.object({ id: z.uuid() });

export const _operations = {
	GET: operation({
		summary: 'A workspace of mine',
		tags: ['workspaces'],
		auth: 'user',
		params,
		success: { status: 200, description: 'The workspace', schema: WorkspaceJson },
		errors: ['not_found']
	}),
	PATCH: operation({
		summary: 'Rename a workspace or change its description',
		tags: ['workspaces'],
		auth: 'user',
		params,
		body: UpdateWorkspaceRequest,
		success: { status: 200, description: 'The updated workspace', schema: WorkspaceJson },
		errors: ['not_found', 'conflict']
	}),
	DELETE: operation({
		summary: 'Delete a workspace',
		description: 'Its assets are kept, with no workspace.',
		tags: ['workspaces'],
		auth: 'user',
		params,
		success: { status: 204, description: 'Deleted' },
		errors: ['not_found']
	})
};

export const GET = endpoint(_operations.GET, async ({ user, params }) => workspaceJson(await getWorkspace(db(), user, params.id)));

export const PATCH = endpoint(_operations.PATCH, async ({ user, params, body }) =>
	workspaceJson(await updateWorkspace(db(), user, params.id, body))
);

export const DELETE = endpoint(_operations.DELETE, async ({ user, params }) => {
	await deleteWorkspace(db(), user, params.id);
});
