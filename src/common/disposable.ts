/** Minimal disposable + event helpers shared by the pure core (shaped like VS Code's, no import of it). */
export interface Disposable {
  dispose(): void;
}

export type Listener<T> = (event: T) => void;

/** A tiny event emitter: `event(listener)` subscribes and returns a Disposable. */
export class Emitter<T> {
  private listeners = new Set<Listener<T>>();

  readonly event = (listener: Listener<T>): Disposable => {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  };

  fire(value: T): void {
    for (const l of [...this.listeners]) {
      try {
        l(value);
      } catch {
        // A listener's failure must not break the emitter or other listeners.
      }
    }
  }

  dispose(): void {
    this.listeners.clear();
  }
}
