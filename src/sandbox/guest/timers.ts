/**
 * setTimeout, setInterval, their clear functions, queueMicrotask and
 * performance, driven by the engine's loop: this module tells the host when the
 * earliest timer is due (`h('timer', due)`), and the engine calls the driver
 * back then. Timers fire in order of due time, then of creation, each followed
 * by the microtasks it queued. They live only as long as the run: when the
 * guest's top-level code settles the run ends and pending timers are dropped;
 * a timer due after the deadline makes the run time out at the deadline.
 */
import type { Intrinsics } from './types';

interface Timer {
  id: number;
  due: number;
  seq: number;
  /** Re-arm interval in ms for setInterval, else -1. */
  repeat: number;
  callback: (...args: unknown[]) => void;
  args: unknown[];
  /** Position in the heap, -1 once fired or cleared. */
  pos: number;
}

/** Longest delay a timer accepts (as in Node and browsers: a larger one becomes 1 ms). */
const MAX_DELAY = 2 ** 31 - 1;

export default function timersModule(I: Intrinsics): Record<string, unknown> {
  const { h, freeze, apply, then, fail, TypeError: TypeErr } = I;
  const heap: Timer[] = [];
  const byId: Record<number, Timer> = {};
  let nextId = 1;
  let seq = 0;
  let announced = -1;
  /**
   * Timers count whole milliseconds of the wall clock from the time the current
   * turn of the loop began, as Node's do (libuv caches it): two timers set in
   * one turn keep the order of their delays.
   */
  const dateNow = I.G.Date.now;
  let loopTime = dateNow();
  const now = (): number => loopTime;
  /** Sub-millisecond time since the run started, from the host. */
  const runTime = (): number => h('now') as number;

  const before = (a: Timer, b: Timer): boolean => a.due < b.due || (a.due === b.due && a.seq < b.seq);
  const place = (t: Timer, i: number): void => {
    heap[i] = t;
    t.pos = i;
  };
  const up = (i: number): void => {
    const t = heap[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(t, heap[parent])) break;
      place(heap[parent], i);
      i = parent;
    }
    place(t, i);
  };
  const down = (i: number): void => {
    const t = heap[i];
    const n = heap.length;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && before(heap[child + 1], heap[child])) child++;
      if (!before(heap[child], t)) break;
      place(heap[child], i);
      i = child;
    }
    place(t, i);
  };
  const remove = (t: Timer): void => {
    const i = t.pos;
    if (i < 0) return;
    t.pos = -1;
    const last = heap[heap.length - 1];
    heap.length--;
    if (last !== t) {
      place(last, i);
      up(i);
      down(last.pos);
    }
  };
  /**
   * Tells the engine when the earliest timer is due. The engine's figure may be
   * early (a timer cleared or fired since: the driver is called, finds nothing
   * due and announces again) but never late, so most changes need no message.
   */
  const announce = (): void => {
    const due = heap.length ? heap[0].due : -1;
    if (due !== announced) {
      announced = due;
      h('timer', due);
    }
  };
  const add = (t: Timer): void => {
    place(t, heap.length);
    up(t.pos);
    if (announced < 0 || t.due < announced) announce();
  };

  class Timeout {
    readonly #timer: Timer;
    constructor(timer: Timer) {
      this.#timer = timer;
    }
    ref(): this {
      return this;
    }
    unref(): this {
      return this;
    }
    hasRef(): boolean {
      return true;
    }
    refresh(): this {
      const t = this.#timer;
      if (t.pos >= 0) {
        remove(t);
        turn();
        t.due = now() + (t.repeat >= 0 ? t.repeat : 0);
        t.seq = ++seq;
        add(t);
      }
      return this;
    }
    close(): this {
      clear(this);
      return this;
    }
    [Symbol.toPrimitive](): number {
      return this.#timer.id;
    }
    static idOf(v: unknown): number {
      return v instanceof Timeout ? v.#timer.id : Number(v);
    }
  }

  const delayOf = (ms: unknown): number => {
    let d = Number(ms);
    if (!(d >= 1 && d <= MAX_DELAY)) d = d > MAX_DELAY ? 1 : 0;
    return d;
  };
  const schedule = (callback: unknown, ms: unknown, args: unknown[], repeat: boolean): Timeout => {
    if (typeof callback !== 'function') throw new TypeErr('The "callback" argument must be of type function. Received ' + (callback === null ? 'null' : typeof callback));
    const delay = delayOf(ms);
    const t: Timer = { id: nextId++, due: now() + delay, seq: ++seq, repeat: repeat ? (delay < 1 ? 1 : delay) : -1, callback: callback as Timer['callback'], args, pos: -1 };
    byId[t.id] = t;
    add(t);
    return new Timeout(t);
  };
  const clear = (handle: unknown): void => {
    if (handle === undefined || handle === null) return;
    const id = Timeout.idOf(handle);
    const t = byId[id];
    if (!t) return;
    delete byId[id];
    remove(t);
  };

  const turn = (): void => {
    loopTime = dateNow();
  };
  I.fire = (at: number): void => {
    loopTime = at;
    const t = heap[0];
    if (!t || t.due > at) return announce();
    remove(t);
    if (t.repeat >= 0) {
      t.due = at + t.repeat;
      t.seq = ++seq;
      place(t, heap.length);
      up(t.pos);
    } else delete byId[t.id];
    // The next timer already due needs no message: the engine's figure is due too.
    if (!heap.length || heap[0].due > at) announce();
    try {
      apply(t.callback, undefined, t.args);
    } catch (e) {
      fail(e);
    }
  };
  I.turn = turn;

  const resolved = new I.Promise<void>((res) => res());
  const queueMicrotask = (callback: unknown): void => {
    if (typeof callback !== 'function') throw new TypeErr('The "callback" argument must be of type function. Received ' + (callback === null ? 'null' : typeof callback));
    void apply(then, resolved, [
      () => {
        try {
          apply(callback as () => void, undefined, []);
        } catch (e) {
          fail(e);
        }
      },
    ]);
  };

  /** Coarsened to 0.1 ms (timing attacks gain little from finer clocks). */
  const coarse = (ms: number): number => Math.floor(ms * 10) / 10;
  const timeOrigin = coarse(dateNow() - runTime());
  const performance = freeze({
    timeOrigin,
    now: () => coarse(runTime()),
    toJSON: () => ({ timeOrigin }),
  });

  return {
    setTimeout: function setTimeout(callback: unknown, ms?: unknown, ...args: unknown[]) {
      return schedule(callback, ms, args, false);
    },
    setInterval: function setInterval(callback: unknown, ms?: unknown, ...args: unknown[]) {
      return schedule(callback, ms, args, true);
    },
    clearTimeout: function clearTimeout(handle?: unknown) {
      clear(handle);
    },
    clearInterval: function clearInterval(handle?: unknown) {
      clear(handle);
    },
    queueMicrotask,
    performance,
  };
}
