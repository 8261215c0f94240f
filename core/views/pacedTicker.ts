/**
 * A periodic refresh for a view that re-reads its content on a change event, paced by its reads:
 * after a tick, the next one is armed only once the view has read again. VS Code's CodeLens
 * controller restarts its debounce on every change event, and that debounce is the average time of
 * its last provide calls (at least 250 ms). A fixed one-second interval therefore starves it
 * whenever providing takes a second or more, as on a busy machine: the lenses then stand still
 * through a whole run. Paced by reads, each tick is followed by one read however slow it is.
 */
export class PacedTicker {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;

  /** `fire` is the change event; it is called at most once per read, `periodMs` after it. */
  constructor(
    private readonly periodMs: number,
    private readonly fire: () => void,
  ) {}

  /** The view has read its content; `live` says whether what it shows changes with time. */
  read(live: boolean): void {
    if (!live || this.timer || this.disposed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.fire();
    }, this.periodMs);
  }

  /** Whether a tick is armed. */
  get armed(): boolean {
    return this.timer !== undefined;
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
