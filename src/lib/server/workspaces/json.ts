import type { Workspace } from '../db/schema';

export function workspaceJson(w: Workspace) {
	return {
		id: w.id,
		name: w.name,
		description: w.description,
		created_at: w.createdAt.toISOString(),
		updated_at: w.updatedAt.toISOString()
	};
}
