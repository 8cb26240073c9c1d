import type { SubmitFunction } from '@sveltejs/kit';

/**
 * Tracks whether a progressively enhanced form is being submitted, so its button can say so:
 * `<form use:enhance={submitting.enhance}>` and `disabled={submitting.active}`.
 */
export class Submitting {
	active = $state(false);

	enhance: SubmitFunction = () => {
		this.active = true;
		return async ({ update }) => {
			await update();
			this.active = false;
		};
	};
}
