/**
 * Event, CustomEvent, EventTarget, AbortController and AbortSignal (DOM
 * standard, without the tree: dispatch is at the target). A listener that
 * throws does not stop the dispatch: the error is printed to stderr as
 * `Uncaught …`, as browsers report it.
 */
import type { DOMExceptionClass } from './domexception';
import type { Intrinsics } from './types';

interface Listener {
  callback: unknown;
  capture: boolean;
  once: boolean;
  passive: boolean;
  removed: boolean;
}

export default function eventsModule(I: Intrinsics): Record<string, unknown> {
  const { TypeError: TypeErr } = I;
  const Str = I.String;
  const domException = (): DOMExceptionClass => I.need<{ DOMException: DOMExceptionClass }>('domexception').DOMException;
  const now = (): number => Math.floor((I.h('now') as number) * 10) / 10;

  interface EventState {
    type: string;
    bubbles: boolean;
    cancelable: boolean;
    composed: boolean;
    canceled: boolean;
    stop: boolean;
    stopImmediate: boolean;
    dispatching: boolean;
    inPassive: boolean;
    target: EventTarget | null;
    currentTarget: EventTarget | null;
    phase: number;
    timeStamp: number;
  }
  const events = new WeakMap<object, EventState>();
  const ev = (e: unknown): EventState => {
    const s = events.get(e as object);
    if (!s) throw new TypeErr('Illegal invocation: not an Event');
    return s;
  };

  class Event {
    static readonly NONE = 0;
    static readonly CAPTURING_PHASE = 1;
    static readonly AT_TARGET = 2;
    static readonly BUBBLING_PHASE = 3;
    constructor(type: unknown, init?: { bubbles?: unknown; cancelable?: unknown; composed?: unknown } | null) {
      if (arguments.length === 0) throw new TypeErr("Failed to construct 'Event': 1 argument required, but only 0 present.");
      const o = init ?? {};
      events.set(this, { type: Str(type), bubbles: !!o.bubbles, cancelable: !!o.cancelable, composed: !!o.composed, canceled: false, stop: false, stopImmediate: false, dispatching: false, inPassive: false, target: null, currentTarget: null, phase: 0, timeStamp: now() });
    }
    get type(): string {
      return ev(this).type;
    }
    get bubbles(): boolean {
      return ev(this).bubbles;
    }
    get cancelable(): boolean {
      return ev(this).cancelable;
    }
    get composed(): boolean {
      return ev(this).composed;
    }
    get defaultPrevented(): boolean {
      return ev(this).canceled;
    }
    get returnValue(): boolean {
      return !ev(this).canceled;
    }
    get target(): EventTarget | null {
      return ev(this).target;
    }
    get srcElement(): EventTarget | null {
      return ev(this).target;
    }
    get currentTarget(): EventTarget | null {
      return ev(this).currentTarget;
    }
    get eventPhase(): number {
      return ev(this).phase;
    }
    get timeStamp(): number {
      return ev(this).timeStamp;
    }
    get isTrusted(): boolean {
      return false;
    }
    get cancelBubble(): boolean {
      return ev(this).stop;
    }
    set cancelBubble(v: boolean) {
      if (v) ev(this).stop = true;
    }
    composedPath(): EventTarget[] {
      const s = ev(this);
      return s.dispatching && s.currentTarget ? [s.currentTarget] : [];
    }
    preventDefault(): void {
      const s = ev(this);
      if (s.cancelable && !s.inPassive) s.canceled = true;
    }
    stopPropagation(): void {
      ev(this).stop = true;
    }
    stopImmediatePropagation(): void {
      const s = ev(this);
      s.stop = s.stopImmediate = true;
    }
    get [Symbol.toStringTag](): string {
      return 'Event';
    }
  }

  class CustomEvent<T = unknown> extends Event {
    readonly #detail: T | null;
    constructor(type: unknown, init?: { bubbles?: unknown; cancelable?: unknown; composed?: unknown; detail?: T } | null) {
      if (arguments.length === 0) throw new TypeErr("Failed to construct 'CustomEvent': 1 argument required, but only 0 present.");
      super(type, init);
      this.#detail = init?.detail ?? null;
    }
    get detail(): T | null {
      return this.#detail;
    }
  }

  const targets = new WeakMap<object, Map<string, Listener[]>>();
  const listenersOf = (t: unknown): Map<string, Listener[]> => {
    const m = targets.get(t as object);
    if (!m) throw new TypeErr('Illegal invocation: not an EventTarget');
    return m;
  };
  const reportListenerError = (e: unknown): void => {
    try {
      // The guest's console as it stands; the runtime's own when none is installed (code that does
      // not name `console` gets none, and cannot have replaced it: see ../mentions.ts).
      type Console = { error: (...a: unknown[]) => void };
      const konsole = I.hasOwn(I.G, 'console') ? ((I.G as unknown as Record<string, unknown>).console as Console) : I.need<Console>('console');
      konsole.error('Uncaught', e);
    } catch {
      // Nothing more can be done for an error that cannot be printed.
    }
  };
  const flags = (options: unknown): { capture: boolean; once: boolean; passive: boolean; signal?: AbortSignal } => {
    if (typeof options === 'boolean') return { capture: options, once: false, passive: false };
    if (options === null || typeof options !== 'object') return { capture: false, once: false, passive: false };
    const o = options as { capture?: unknown; once?: unknown; passive?: unknown; signal?: unknown };
    if (o.signal !== undefined && !signals.has(o.signal as object)) throw new TypeErr("Failed to execute 'addEventListener' on 'EventTarget': member signal is not of type AbortSignal.");
    return { capture: !!o.capture, once: !!o.once, passive: !!o.passive, signal: o.signal as AbortSignal | undefined };
  };

  class EventTarget {
    constructor() {
      targets.set(this, new Map());
    }
    addEventListener(type: unknown, callback: unknown, options?: unknown): void {
      const m = listenersOf(this);
      if (callback === null || callback === undefined) return;
      if (typeof callback !== 'function' && typeof callback !== 'object') throw new TypeErr("Failed to execute 'addEventListener' on 'EventTarget': parameter 2 is not of type 'Object'.");
      const f = flags(options);
      if (f.signal?.aborted) return;
      const t = Str(type);
      let list = m.get(t);
      if (!list) m.set(t, (list = []));
      for (const l of list) if (l.callback === callback && l.capture === f.capture) return;
      const listener: Listener = { callback, capture: f.capture, once: f.once, passive: f.passive, removed: false };
      list.push(listener);
      f.signal?.addEventListener('abort', () => this.removeEventListener(t, callback, { capture: f.capture }));
    }
    removeEventListener(type: unknown, callback: unknown, options?: unknown): void {
      const list = listenersOf(this).get(Str(type));
      if (!list) return;
      const capture = typeof options === 'boolean' ? options : !!(options as { capture?: unknown } | null)?.capture;
      const i = list.findIndex((l) => l.callback === callback && l.capture === capture);
      if (i >= 0) {
        list[i].removed = true;
        list.splice(i, 1);
      }
    }
    dispatchEvent(event: Event): boolean {
      const s = events.get(event);
      if (!s) throw new TypeErr("Failed to execute 'dispatchEvent' on 'EventTarget': parameter 1 is not of type 'Event'.");
      if (s.dispatching) throw new (domException())('The event is already being dispatched.', 'InvalidStateError');
      s.dispatching = true;
      s.target = s.currentTarget = this;
      s.phase = 2;
      try {
        const list = listenersOf(this).get(s.type);
        const handler = (this as unknown as Record<string, unknown>)[`on${s.type}`];
        const snapshot = list ? list.slice() : [];
        if (typeof handler === 'function' && handlerTargets.has(this)) snapshot.unshift({ callback: handler, capture: false, once: false, passive: false, removed: false });
        for (const l of snapshot) {
          if (l.removed) continue;
          if (l.once) this.removeEventListener(s.type, l.callback, { capture: l.capture });
          s.inPassive = l.passive;
          try {
            if (typeof l.callback === 'function') I.apply(l.callback as (e: Event) => unknown, this, [event]);
            else {
              const handleEvent = (l.callback as { handleEvent?: unknown }).handleEvent;
              if (typeof handleEvent !== 'function') throw new TypeErr("The listener's handleEvent is not a function");
              I.apply(handleEvent as (e: Event) => unknown, l.callback, [event]);
            }
          } catch (e) {
            reportListenerError(e);
          }
          s.inPassive = false;
          if (s.stopImmediate) break;
        }
      } finally {
        s.dispatching = false;
        s.currentTarget = null;
        s.phase = 0;
        s.stop = s.stopImmediate = false;
      }
      return !s.canceled;
    }
  }

  /** Targets whose `on<type>` property is an event handler (AbortSignal's onabort). */
  const handlerTargets = new WeakSet<object>();
  const signals = new WeakMap<object, { aborted: boolean; reason: unknown }>();
  const sig = (s: unknown): { aborted: boolean; reason: unknown } => {
    const st = signals.get(s as object);
    if (!st) throw new TypeErr('Illegal invocation: not an AbortSignal');
    return st;
  };
  let constructing = false;
  const newSignal = (): AbortSignal => {
    constructing = true;
    try {
      return new AbortSignal();
    } finally {
      constructing = false;
    }
  };
  const abortSignal = (s: AbortSignal, reason: unknown): void => {
    const st = sig(s);
    if (st.aborted) return;
    st.aborted = true;
    st.reason = reason === undefined ? new (domException())('This operation was aborted', 'AbortError') : reason;
    s.dispatchEvent(new Event('abort'));
  };

  class AbortSignal extends EventTarget {
    onabort: ((this: AbortSignal, ev: Event) => unknown) | null = null;
    constructor() {
      if (!constructing) throw new TypeErr('Illegal constructor');
      super();
      signals.set(this, { aborted: false, reason: undefined });
      handlerTargets.add(this);
    }
    get aborted(): boolean {
      return sig(this).aborted;
    }
    get reason(): unknown {
      return sig(this).reason;
    }
    throwIfAborted(): void {
      const st = sig(this);
      if (st.aborted) throw st.reason;
    }
    static abort(reason?: unknown): AbortSignal {
      const s = newSignal();
      abortSignal(s, reason);
      return s;
    }
    static timeout(ms: unknown): AbortSignal {
      const delay = Number(ms);
      if (!(delay >= 0) || delay > Number.MAX_SAFE_INTEGER) throw new TypeErr(`AbortSignal.timeout: the delay must be a non-negative number (got ${Str(ms)})`);
      const s = newSignal();
      const timers = I.need<{ setTimeout: (f: () => void, ms: number) => unknown }>('timers');
      timers.setTimeout(() => abortSignal(s, new (domException())('The operation was aborted due to timeout', 'TimeoutError')), delay);
      return s;
    }
    static any(list: Iterable<unknown>): AbortSignal {
      const s = newSignal();
      const inputs = [...list];
      for (const input of inputs) if (!signals.has(input as object)) throw new TypeErr("Failed to execute 'any' on 'AbortSignal': each member must be an AbortSignal");
      for (const input of inputs as AbortSignal[]) {
        if (input.aborted) {
          abortSignal(s, input.reason);
          return s;
        }
      }
      for (const input of inputs as AbortSignal[]) input.addEventListener('abort', () => abortSignal(s, input.reason), { once: true });
      return s;
    }
    get [Symbol.toStringTag](): string {
      return 'AbortSignal';
    }
  }

  /** AbortController's brand, for structuredClone (its own state is a private field). */
  const controllers = new WeakSet<object>();
  class AbortController {
    readonly #signal = newSignal();
    constructor() {
      controllers.add(this);
    }
    get signal(): AbortSignal {
      return this.#signal;
    }
    abort(reason?: unknown): void {
      abortSignal(this.#signal, reason);
    }
  }

  (I.platform ??= []).push({ is: (v) => events.has(v) || targets.has(v) || controllers.has(v) });
  return { Event, CustomEvent, EventTarget, AbortController, AbortSignal };
}
