import { randomUUID } from 'node:crypto';
import { fail, redirect } from '@sveltejs/kit';
import { z } from 'zod';
import { pickableAsset, type JobFormValues, type PickableAsset, type ProviderOption } from '$lib/jobs/form-data';
import { isOperation } from '$lib/jobs/labels';
import { fieldsFromSchema, PARAM_PREFIX, paramsFromValues, valuesFromForm, valuesFromParams, type JsonSchema } from '$lib/jobs/params';
import { OperationType } from '$lib/schemas/jobs';
import { createFrameAsset } from '$lib/server/assets/frames';
import { assetJson } from '$lib/server/assets/json';
import { getAsset, listAssets, type AssetWithVariants } from '$lib/server/assets/service';
import { config } from '$lib/server/config';
import { AppError } from '$lib/server/errors';
import { failWith, parseForm } from '$lib/server/http/forms';
import { requireUser } from '$lib/server/http/pages';
import { jobJson, type JobJson } from '$lib/server/jobs/json';
import { createJob, getJob } from '$lib/server/jobs/service';
import { providerCatalog } from '$lib/server/providers/catalog';
import { boss, db, frameDeps } from '$lib/server/runtime';
import { workspaceJson } from '$lib/server/workspaces/json';
import { listWorkspaces } from '$lib/server/workspaces/service';
import type { User } from '$lib/server/db/schema';
import type { Actions } from './$types';

/** Every provider with the params JSON Schema of each operation it supports (what the form renders). */
function providerOptions(): ProviderOption[] {
	return providerCatalog().map((p) => ({
		id: p.id,
		label: p.label,
		operations: Object.fromEntries(Object.entries(p.operations).map(([op, o]) => [op, o.params_schema as JsonSchema]))
	}));
}

function pickable({ asset, variants }: AssetWithVariants): PickableAsset {
	return pickableAsset(assetJson(asset, variants));
}

/** A datetime-local value ("2026-11-23T20:30", read as UTC like every date the app shows) → ISO. */
const scheduleField = z
	.string()
	.trim()
	.transform((v, ctx) => {
		if (v === '') return null;
		const at = new Date(/[zZ]|[+-]\d\d:\d\d$/.test(v) ? v : `${v}Z`);
		if (Number.isNaN(at.getTime())) {
			ctx.addIssue({ code: 'custom', message: 'Enter a date and time.' });
			return z.NEVER;
		}
		return at.toISOString();
	});

const JobFormFields = z.object({
	operation_type: OperationType.or(z.literal('')).refine((v) => v !== '', 'Choose an operation.'),
	provider_id: z.string().trim().min(1, 'Choose a provider.'),
	name: z
		.string()
		.trim()
		.max(200, 'Name is too long (at most 200 characters).')
		.transform((v) => v || null),
	priority: z.coerce.number({ error: 'Priority runs from 0 to 10.' }).int('Priority is a whole number.').min(0, 'Priority runs from 0 to 10.').max(10, 'Priority runs from 0 to 10.'),
	scheduled_at: scheduleField,
	workspace_id: z.union([z.literal('').transform(() => null), z.uuid({ error: 'Choose a workspace.' })]),
	idempotency_key: z.string().max(100).optional()
});

const text = (form: FormData | URLSearchParams, key: string) => {
	const v = form.get(key);
	return typeof v === 'string' ? v : '';
};

/** The form's values from a submitted form or the URL (the no-JavaScript "Show fields" button). */
function valuesFrom(form: FormData | URLSearchParams, providers: ProviderOption[]): JobFormValues {
	const operation = text(form, 'operation_type');
	const providerId = text(form, 'provider_id');
	const schema = isOperation(operation) ? providers.find((p) => p.id === providerId)?.operations[operation] : undefined;
	return {
		operation_type: operation,
		provider_id: providerId,
		name: text(form, 'name'),
		priority: text(form, 'priority') || '5',
		scheduled_at: text(form, 'scheduled_at'),
		workspace_id: text(form, 'workspace_id'),
		params: valuesFromForm(fieldsFromSchema(schema), form)
	};
}

type SourceJob = JobJson;

/**
 * What a remix starts from: `?remix=<asset id>` (the asset, and the job that made it when it was
 * generated) or `?from_job=<job id>`.
 */
async function remixOf(user: User, url: URL): Promise<{ job: SourceJob | null; asset: PickableAsset | null; problem: string | null }> {
	const remix = z.uuid().safeParse(url.searchParams.get('remix'));
	const fromJob = z.uuid().safeParse(url.searchParams.get('from_job'));
	try {
		if (remix.success) {
			const found = await getAsset(db(), user, remix.data);
			const job = found.asset.sourceJobId ? jobJson((await getJob(db(), user, found.asset.sourceJobId)).job) : null;
			return { job, asset: pickable(found), problem: null };
		}
		if (fromJob.success) return { job: jobJson((await getJob(db(), user, fromJob.data)).job), asset: null, problem: null };
	} catch (err) {
		if (err instanceof AppError && err.status === 404) return { job: null, asset: null, problem: 'That asset or job no longer exists; start from an empty form.' };
		throw err;
	}
	return { job: null, asset: null, problem: null };
}

export const load = async (event) => {
	const { user } = requireUser(event);
	const providers = providerOptions();
	const [workspaces, recent, remix] = await Promise.all([
		listWorkspaces(db(), user),
		listAssets(db(), user, { status: 'ready', limit: 120 }),
		remixOf(user, event.url)
	]);
	const assets = recent.items.map(pickable);
	const { job: source, asset: remixAsset } = remix;

	let initial: JobFormValues;
	if (event.url.searchParams.has('operation_type')) initial = valuesFrom(event.url.searchParams, providers);
	else if (source) {
		// The job's settings; its name and schedule were about that run, so they start empty.
		const schema = providers.find((p) => p.id === source.provider_id)?.operations[source.operation_type];
		initial = {
			operation_type: source.operation_type,
			provider_id: source.provider_id,
			name: '',
			priority: String(source.priority),
			scheduled_at: '',
			workspace_id: source.workspace_id ?? '',
			params: valuesFromParams(fieldsFromSchema(schema), source.params)
		};
	} else {
		// An upload "remixed" starts with the operation that takes its kind of media.
		const operation = remixAsset ? (remixAsset.media_type === 'video' ? 'video_extend' : 'image_to_video') : '';
		initial = { operation_type: operation, provider_id: '', name: '', priority: '5', scheduled_at: '', workspace_id: '', params: {} };
	}

	// Inputs the prefilled job used may be older than the recent assets listed: add them.
	const wanted = new Set(Object.values(initial.params).flat().filter((v) => /^[0-9a-f-]{36}$/i.test(v)));
	if (remixAsset) wanted.add(remixAsset.id);
	const known = new Set(assets.map((a) => a.id));
	const extra = await Promise.all(
		[...wanted].filter((id) => !known.has(id)).map((id) => getAsset(db(), user, id).then(pickable, () => null))
	);
	return {
		providers,
		assets: [...extra.filter((a): a is PickableAsset => a !== null), ...assets],
		workspaces: workspaces.map(workspaceJson),
		initial,
		sourceJobId: source?.id ?? null,
		remixAsset,
		problem: remix.problem,
		// One key per rendering of the form: a double submit makes one job.
		idempotencyKey: randomUUID()
	};
};

/** How long the no-JavaScript "Use a frame" waits for the frame's ingest (usually under a second). */
const FRAME_READY_WAIT_MS = 15_000;

/**
 * "Use a frame of this video" without JavaScript: the button submits the whole form here (named
 * `frame_for`, valued with the asset field to fill), so nothing typed is lost. The frame becomes an
 * asset and fills that field; the form comes back for the person to finish. The answer waits for
 * the frame's ingest, as the script does in the browser, because a job refuses an input still
 * processing.
 */
async function useFrame(user: User, form: FormData, values: JobFormValues, fieldKey: string) {
	const again = { idempotency_key: randomUUID() };
	const field = fieldKey.slice(PARAM_PREFIX.length);
	const video = z.uuid().safeParse(text(form, 'remix'));
	const atText = text(form, 'frame_at').trim();
	const atSec = atText === '' ? undefined : Number(atText);
	if (!video.success || !fieldKey.startsWith(PARAM_PREFIX) || (atSec !== undefined && !Number.isFinite(atSec))) {
		const message = !video.success ? 'There is no video to take a frame from.' : 'Enter the second to take the frame at, or leave it empty.';
		return fail(400, { ...again, values, errors: { [fieldKey]: [message] } });
	}
	try {
		const { asset } = await createFrameAsset(frameDeps(), user, video.data, { atSec });
		const found = await untilProcessed(user, asset.id);
		const current = values.params[field];
		// A multi-image field gets the frame added; a single one gets it instead of what was there.
		const next = Array.isArray(current) ? [...current.filter((id) => id !== asset.id), asset.id] : asset.id;
		return { ...again, values: { ...values, params: { ...values.params, [field]: next } }, frame: pickable(found) };
	} catch (err) {
		if (!(err instanceof AppError)) throw err;
		// Whatever field the service named (at_sec, asset_id), the message belongs beside the picker.
		return fail(err.status, { ...again, values, errors: { [fieldKey]: [err.message] } });
	}
}

async function untilProcessed(user: User, assetId: string): Promise<AssetWithVariants> {
	const deadline = Date.now() + FRAME_READY_WAIT_MS;
	for (;;) {
		const found = await getAsset(db(), user, assetId);
		if (found.asset.status !== 'processing' || Date.now() > deadline) return found;
		await new Promise((r) => setTimeout(r, 250));
	}
}

export const actions = {
	default: async (event) => {
		const { user } = requireUser(event);
		const form = await event.request.formData();
		const providers = providerOptions();
		const values = valuesFrom(form, providers);
		const frameFor = text(form, 'frame_for');
		if (frameFor) return useFrame(user, form, values, frameFor);
		// A failed attempt gets a fresh key: the corrected form is a different request.
		const failure = { values, idempotency_key: randomUUID() };
		const parsed = parseForm(JobFormFields, form);
		if (!parsed.ok) return fail(400, { ...failure, errors: parsed.errors });
		const { operation_type, provider_id, name, priority, scheduled_at, workspace_id, idempotency_key } = parsed.data;
		const schema = isOperation(operation_type) ? providers.find((p) => p.id === provider_id)?.operations[operation_type] : undefined;
		const params = paramsFromValues(fieldsFromSchema(schema), values.params);
		let jobId: string;
		try {
			const { job } = await createJob(
				db(),
				boss(),
				config(),
				user,
				{
					operationType: operation_type as z.infer<typeof OperationType>,
					providerId: provider_id,
					params,
					name,
					priority,
					scheduledAt: scheduled_at ? new Date(scheduled_at) : null,
					workspaceId: workspace_id
				},
				{ idempotencyKey: idempotency_key || undefined }
			);
			jobId = job.id;
		} catch (err) {
			return failWith(err, failure);
		}
		redirect(303, `/jobs/${jobId}`);
	}
} satisfies Actions;
