import { z } from 'zod';
import { isoDate, uuid } from './common';

const nameField = z
	.string({ error: 'Name the workspace.' })
	.trim()
	.min(1, 'Name the workspace.')
	.max(100, 'Name is too long (at most 100 characters).');
const descriptionField = z.string().trim().max(2000, 'Description is too long (at most 2000 characters).');

export const WorkspaceJson = z
	.object({
		id: uuid,
		name: z.string(),
		description: z.string(),
		created_at: isoDate,
		updated_at: isoDate
	})
	.meta({ id: 'Workspace' });

export const WorkspaceList = z.object({ items: z.array(WorkspaceJson) }).meta({ id: 'WorkspaceList' });

export const CreateWorkspaceRequest = z
	.object({ name: nameField, description: descriptionField.optional() })
	.meta({ id: 'CreateWorkspaceRequest' });

export const UpdateWorkspaceRequest = z
	.object({ name: nameField.optional(), description: descriptionField.optional() })
	.meta({ id: 'UpdateWorkspaceRequest' });
