import { z } from 'zod';
import { OperationType } from './jobs';

export const ProviderJson = z
	.object({
		id: z.string(),
		label: z.string(),
		requires_credentials: z.boolean().describe('False for providers that run without an account (local).'),
		operations: z
			.partialRecord(
				OperationType,
				z.object({
					params_schema: z
						.record(z.string(), z.unknown())
						.describe('JSON Schema (draft 2020-12) of the params a job of this operation takes; fields with a default may be left out.')
				})
			)
			.describe('Only the operations this provider can do.')
	})
	.meta({ id: 'Provider' });

export const ProviderList = z.object({ items: z.array(ProviderJson) }).meta({ id: 'ProviderList' });
