/**
 * Windowing for a grid of square tiles: which rows are on screen (plus a little overscan), so the
 * DOM holds a few hundred tiles whether the list has sixty items or a hundred thousand.
 *
 * Columns and the row height follow from the container's width (a ResizeObserver) and a fixed
 * tile size; the scroll position comes from the window, read as the container's offset from the
 * top of the viewport, so anything above the grid (filters, banners) may change height freely.
 * Until the container is measured (server rendering, before hydration) `measured` is false and
 * callers show the first page as a plain grid.
 */
export interface VirtualGridOptions {
	/** Smallest tile edge in pixels; tiles grow to fill the row. */
	minTile: number;
	gap: number;
	/** Rows rendered beyond the viewport on each side. */
	overscanRows: number;
}

export class VirtualGrid {
	width = $state(0);
	/** The container's top relative to the viewport's top (negative once scrolled past). */
	top = $state(0);
	viewportHeight = $state(800);
	readonly options: VirtualGridOptions;
	readonly #countOf: () => number;

	/** `count` reads the number of items (reactively), e.g. `() => feed.items.length`. */
	constructor(count: () => number, options: Partial<VirtualGridOptions> = {}) {
		this.#countOf = count;
		this.options = { minTile: 168, gap: 8, overscanRows: 3, ...options };
	}

	count = $derived.by(() => this.#countOf());

	measured = $derived.by(() => this.width > 0);
	columns = $derived.by(() => Math.max(2, Math.floor((this.width + this.options.gap) / (this.options.minTile + this.options.gap))));
	tileSize = $derived.by(() => this.width > 0 ? (this.width - this.options.gap * (this.columns - 1)) / this.columns : this.options.minTile);
	rowHeight = $derived.by(() => this.tileSize + this.options.gap);
	rows = $derived.by(() => Math.ceil(this.count / this.columns));
	totalHeight = $derived.by(() => Math.max(0, this.rows * this.rowHeight - this.options.gap));

	firstRow = $derived.by(() => Math.max(0, Math.floor(-this.top / this.rowHeight) - this.options.overscanRows));
	lastRow = $derived.by(() => Math.min(this.rows - 1, Math.ceil((this.viewportHeight - this.top) / this.rowHeight) + this.options.overscanRows));
	/** Indices [start, end) of the items to render. */
	start = $derived(this.firstRow * this.columns);
	end = $derived(Math.min(this.count, (this.lastRow + 1) * this.columns));
	offsetY = $derived(this.firstRow * this.rowHeight);

	/**
	 * Svelte action for the grid's container: measures it and follows the window's scroll.
	 * Scroll and resize work is batched to one update per animation frame.
	 */
	attach = (node: HTMLElement) => {
		let frame = 0;
		const measure = () => {
			frame = 0;
			const rect = node.getBoundingClientRect();
			this.top = rect.top;
			this.width = rect.width;
			this.viewportHeight = window.innerHeight;
		};
		const schedule = () => {
			if (!frame) frame = requestAnimationFrame(measure);
		};
		measure();
		const observer = new ResizeObserver(schedule);
		observer.observe(node);
		window.addEventListener('scroll', schedule, { passive: true });
		window.addEventListener('resize', schedule);
		return {
			destroy() {
				if (frame) cancelAnimationFrame(frame);
				observer.disconnect();
				window.removeEventListener('scroll', schedule);
				window.removeEventListener('resize', schedule);
			}
		};
	};

	/** Scrolls the window just enough to show the item's row. */
	reveal(index: number, container: HTMLElement | undefined) {
		if (!container || !this.measured) return;
		const rowTop = container.getBoundingClientRect().top + window.scrollY + Math.floor(index / this.columns) * this.rowHeight;
		const header = 72; // the sticky app header
		if (rowTop < window.scrollY + header) window.scrollTo({ top: rowTop - header });
		else if (rowTop + this.tileSize > window.scrollY + window.innerHeight) window.scrollTo({ top: rowTop + this.tileSize - window.innerHeight + 8 });
		this.top = container.getBoundingClientRect().top;
	}

	/** True when the rendered window reaches within `rows` rows of the end of what is loaded. */
	nearEnd(rows = 4): boolean {
		return this.lastRow >= this.rows - 1 - rows;
	}
}
