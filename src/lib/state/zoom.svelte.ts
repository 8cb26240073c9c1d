/**
 * Zoom and pan for the viewer's image. Click toggles between fitting and 2.5×, the wheel zooms
 * around the pointer, dragging pans while zoomed; the offset is kept inside the image's bounds.
 */
export class Zoom {
	scale = $state(1);
	x = $state(0);
	y = $state(0);
	static readonly MAX = 6;

	zoomed = $derived(this.scale > 1.01);
	transform = $derived(`translate(${this.x}px, ${this.y}px) scale(${this.scale})`);

	reset() {
		this.scale = 1;
		this.x = 0;
		this.y = 0;
	}

	/** Sets the scale keeping the point (px, py), relative to the stage's centre, in place. */
	zoomAt(scale: number, px = 0, py = 0, box?: { width: number; height: number }) {
		const next = Math.min(Zoom.MAX, Math.max(1, scale));
		const k = next / this.scale;
		this.x = px - (px - this.x) * k;
		this.y = py - (py - this.y) * k;
		this.scale = next;
		if (next === 1) this.reset();
		else if (box) this.clamp(box);
	}

	panBy(dx: number, dy: number, box: { width: number; height: number }) {
		if (!this.zoomed) return;
		this.x += dx;
		this.y += dy;
		this.clamp(box);
	}

	clamp(box: { width: number; height: number }) {
		const mx = (box.width * (this.scale - 1)) / 2;
		const my = (box.height * (this.scale - 1)) / 2;
		this.x = Math.min(mx, Math.max(-mx, this.x));
		this.y = Math.min(my, Math.max(-my, this.y));
	}
}
