import { SvelteSet } from 'svelte/reactivity';

/**
 * Which assets are selected in the gallery. A plain toggle, a shift range from the last toggled
 * item (the anchor) over the order the grid shows, and "all loaded". Ids, not indices, are kept,
 * so the selection survives more pages arriving.
 */
export class Selection {
	readonly ids = new SvelteSet<string>();
	anchor = $state<string | null>(null);

	size = $derived(this.ids.size);
	active = $derived(this.ids.size > 0);

	has(id: string): boolean {
		return this.ids.has(id);
	}

	toggle(id: string) {
		if (this.ids.has(id)) this.ids.delete(id);
		else this.ids.add(id);
		this.anchor = id;
	}

	/** Selects everything between the anchor and `id` in `order` (inclusive); without an anchor, just `id`. */
	selectRange(id: string, order: readonly string[]) {
		const from = this.anchor ? order.indexOf(this.anchor) : -1;
		const to = order.indexOf(id);
		if (from < 0 || to < 0) {
			this.toggle(id);
			return;
		}
		const [a, b] = from < to ? [from, to] : [to, from];
		for (let i = a; i <= b; i++) this.ids.add(order[i]);
		this.anchor = id;
	}

	selectAll(order: readonly string[]) {
		for (const id of order) this.ids.add(id);
	}

	/** Forgets ids that left the view (trashed, purged, filtered out). */
	retain(order: readonly string[]) {
		const present = new Set(order);
		for (const id of [...this.ids]) if (!present.has(id)) this.ids.delete(id);
		if (this.anchor && !present.has(this.anchor)) this.anchor = null;
	}

	clear() {
		this.ids.clear();
		this.anchor = null;
	}

	list(): string[] {
		return [...this.ids];
	}
}
