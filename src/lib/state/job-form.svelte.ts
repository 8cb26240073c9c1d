import type { JobFormValues, ProviderOption } from '$lib/jobs/form-data';
import { OPERATIONS, type Operation, isOperation } from '$lib/jobs/labels';
import { fieldsFromSchema, valuesFromParams, type ParamField, type ParamValues } from '$lib/jobs/params';

/**
 * The job form as someone fills it: the operation, then a provider that supports it, then the
 * fields of that provider's params schema. Values are kept by field name across switches, so a
 * prompt typed for text-to-video stays when the operation changes to image-to-video.
 */
export class JobForm {
	providers = $state.raw<ProviderOption[]>([]);
	operation = $state<Operation>('text_to_video');
	providerId = $state('');
	name = $state('');
	/** A number input's binding gives a number, or null while empty. */
	priority = $state<number | null>(5);
	scheduledAt = $state('');
	workspaceId = $state('');
	values = $state<ParamValues>({});
	/** An asset being remixed: put in the first empty asset field that takes its kind of media. */
	offered: { id: string; media_type: 'image' | 'video' } | null = null;

	providersForOperation = $derived(this.providers.filter((p) => p.operations[this.operation]));
	provider = $derived(this.providersForOperation.find((p) => p.id === this.providerId) ?? null);
	fields: ParamField[] = $derived(fieldsFromSchema(this.provider?.operations[this.operation]));
	/** Operations some provider offers (the others are listed, but disabled). */
	available = $derived(new Set(OPERATIONS.filter((op) => this.providers.some((p) => p.operations[op]))));

	constructor(providers: ProviderOption[], initial: JobFormValues, offered: { id: string; media_type: 'image' | 'video' } | null = null) {
		this.providers = providers;
		this.offered = offered;
		this.operation = isOperation(initial.operation_type) ? initial.operation_type : (OPERATIONS.find((op) => this.available.has(op)) ?? 'text_to_video');
		this.providerId = initial.provider_id;
		this.name = initial.name;
		this.priority = initial.priority === '' || Number.isNaN(Number(initial.priority)) ? 5 : Number(initial.priority);
		this.scheduledAt = initial.scheduled_at;
		this.workspaceId = initial.workspace_id;
		this.values = { ...initial.params };
		this.settle();
	}

	setOperation(op: Operation) {
		this.operation = op;
		this.settle();
	}

	setProvider(id: string) {
		this.providerId = id;
		this.settle();
	}

	/** Keeps the provider valid for the operation and gives every shown field a value (its default). */
	private settle() {
		if (!this.providersForOperation.some((p) => p.id === this.providerId)) this.providerId = this.providersForOperation[0]?.id ?? '';
		const defaults = valuesFromParams(this.fields);
		const next = { ...this.values };
		for (const field of this.fields) {
			const current = next[field.name];
			const empty = current === undefined || current === '' || (Array.isArray(current) && current.length === 0);
			if (empty) next[field.name] = defaults[field.name];
		}
		const offered = this.offered;
		if (offered) {
			// A video is not offered as an image input: the provider would refuse the job.
			const target = this.fields.find((f) => (f.kind === 'asset' || f.kind === 'assets') && (f.media === 'any' || f.media === offered.media_type));
			const current = target && next[target.name];
			if (target?.kind === 'assets' && Array.isArray(current) && current.length === 0) next[target.name] = [offered.id];
			else if (target?.kind === 'asset' && !current) next[target.name] = offered.id;
		}
		this.values = next;
	}
}
