import type { ContactEventInput, ContactEvents } from "./contactEvents.js";
import { MAX_TIMER_MS } from "./timers.js";

/** Live traffic: contacts played through their life while the emulator runs. */
export interface LiveTrafficOptions {
  /** New contacts per minute (arrivals 0.5–1.5× apart on average); 0 starts none (lives under way finish). */
  contactsPerMinute: number;
  /**
   * Typical seconds between two events of one contact. Each wait is this times the step's weight
   * (0.3 to reach the system, 0.6 to queue, 1.5 to reach an agent, 3 talking, 1 after-contact work)
   * times 0.5–1.5, so at the default 5 a contact lives about half a minute. Default 5.
   */
  stepSeconds?: number;
  /** The instance the contacts join. Default the data set's first (`DEMO.instanceId`). */
  instanceId?: string;
}

/** Step weights: multiples of `stepSeconds` between a contact's events. */
const WAIT = { toSystem: 0.3, toQueue: 0.6, toAgent: 1.5, update: 1, talk: 3, transfer: 2, handOver: 0.1, abandon: 2, afterWork: 1, close: 0.2 } as const;

/** Channels and first initiation methods of live contacts: ones that reach a queue (no MONITOR, no EXTERNAL_OUTBOUND). */
const LIVE_CHANNELS = [["VOICE", 50], ["CHAT", 30], ["TASK", 10], ["EMAIL", 10]] as const;
const LIVE_METHODS = {
  VOICE: [["INBOUND", 80], ["OUTBOUND", 10], ["API", 10]],
  CHAT: [["API", 90], ["INBOUND", 10]],
  TASK: [["API", 60], ["FLOW", 40]],
  EMAIL: [["INBOUND", 85], ["OUTBOUND", 15]],
} as const;

/** A contact ends in the queue, without an agent, this often. */
const ABANDON_RATE = 0.1;
/** A contact with an agent is transferred this often (at most `MAX_TRANSFERS` times in a chain). */
const TRANSFER_RATE = 0.25;
const MAX_TRANSFERS = 3;
/** A contact with an agent has its data updated (CONTACT_DATA_UPDATED) this often. */
const UPDATE_RATE = 0.2;

/**
 * The live traffic generator: at `contactsPerMinute`, a new contact starts and is played through its
 * life with contact events: INITIATED, CONNECTED_TO_SYSTEM (voice and chat), QUEUED on one of the
 * instance's queues, CONNECTED_TO_AGENT, sometimes CONTACT_DATA_UPDATED, then DISCONNECTED and
 * COMPLETED; some are abandoned in the queue; some are transferred (a new contact whose
 * PreviousContactId is this one is INITIATED, then this one is DISCONNECTED and COMPLETED, and the
 * new one lives on).
 *
 * Every decision is drawn from the contact events' seeded PRNG when a contact starts, and events run
 * on a schedule of planned times rather than on independent timers, so a seed replays the same
 * traffic in the same order even when the process runs late. One unref'd timer waits for the next
 * planned event; `close()` clears it.
 */
export class LiveTraffic {
  private options: Required<LiveTrafficOptions>;
  /** Planned actions, by time then by the order they were planned. */
  private agenda: { at: number; seq: number; run: (at: number) => void }[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private nextArrival: { at: number; seq: number } | undefined;
  private closed = false;

  constructor(
    private readonly events: ContactEvents,
    options: LiveTrafficOptions,
  ) {
    this.options = { stepSeconds: 5, instanceId: events.defaultInstanceId, ...options };
    this.scheduleArrival(Date.now(), true);
  }

  /** The options in force. */
  get current(): Required<LiveTrafficOptions> {
    return { ...this.options };
  }

  /** Changes the rate or the pace; the next arrival is planned again from now (lives under way keep their plan). */
  set(options: Partial<LiveTrafficOptions>): void {
    this.options = { ...this.options, ...options };
    if (this.nextArrival) this.agenda = this.agenda.filter((a) => a.seq !== this.nextArrival!.seq);
    this.nextArrival = undefined;
    this.scheduleArrival(Date.now(), true);
  }

  /** Stops everything: no further event is emitted. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.agenda = [];
  }

  // Private: the arrival process. The first contact comes within a few seconds, so a person sees traffic at once.
  private scheduleArrival(from: number, first = false): void {
    if (this.closed || this.options.contactsPerMinute <= 0) return;
    const mean = 60_000 / this.options.contactsPerMinute;
    const at = from + (first ? Math.min(mean, 2000) : mean) * this.events.rng.between(0.5, 1.5);
    const seq = this.plan(at, (now) => {
      this.nextArrival = undefined;
      this.play(now, undefined, 0);
      this.scheduleArrival(now);
    });
    this.nextArrival = { at, seq };
  }

  // Private: one contact's life, decided now and planned step by step; `previous` makes it a transfer.
  private play(now: number, previous: { contactId: string } | undefined, transfers: number): void {
    const rng = this.events.rng;
    const emit = (input: Omit<ContactEventInput, "instanceId" | "time">, at: number) => this.events.emit({ ...input, instanceId: this.options.instanceId, time: at });
    const initiated = emit(
      previous
        ? { eventType: "INITIATED", previousContactId: previous.contactId, initiationMethod: rng.weighted([["TRANSFER", 70], ["QUEUE_TRANSFER", 30]] as const) }
        : this.firstContact(),
      now,
    );
    const contactId = initiated.detail.contactId;
    const steps: [weight: number, action: (at: number) => void][] = [];
    const event = (eventType: string, extra: Partial<ContactEventInput> = {}) => (at: number) => void emit({ eventType, contactId, ...extra }, at);
    const reachesSystem = !previous && (initiated.detail.channel === "VOICE" || initiated.detail.channel === "CHAT");
    if (reachesSystem) steps.push([WAIT.toSystem, event("CONNECTED_TO_SYSTEM")]);
    steps.push([WAIT.toQueue, event("QUEUED")]);
    if (rng.chance(ABANDON_RATE)) {
      steps.push([WAIT.abandon, event("DISCONNECTED", { disconnectReason: "CUSTOMER_DISCONNECT" })], [WAIT.close, event("COMPLETED")]);
    } else {
      steps.push([WAIT.toAgent, event("CONNECTED_TO_AGENT")]);
      if (rng.chance(UPDATE_RATE)) steps.push([WAIT.update, event("CONTACT_DATA_UPDATED", { attributes: { caseNumber: `CS-${rng.digits(6)}` } })]);
      if (transfers < MAX_TRANSFERS && rng.chance(TRANSFER_RATE)) {
        steps.push(
          [WAIT.transfer, (at) => this.play(at, { contactId }, transfers + 1)],
          [WAIT.handOver, event("DISCONNECTED", { disconnectReason: "AGENT_DISCONNECT" })],
          [WAIT.afterWork, event("COMPLETED")],
        );
      } else {
        steps.push([WAIT.talk, event("DISCONNECTED")], [WAIT.afterWork, event("COMPLETED")]);
      }
    }
    let at = now;
    for (const [weight, action] of steps) {
      at += weight * this.options.stepSeconds * 1000 * rng.between(0.5, 1.5);
      this.plan(at, action);
    }
  }

  // Private: a new chain's first contact: its channel and how it starts.
  private firstContact(): Omit<ContactEventInput, "instanceId" | "time"> {
    const rng = this.events.rng;
    const channel = rng.weighted(LIVE_CHANNELS);
    return { eventType: "INITIATED", channel, initiationMethod: rng.weighted<string>(LIVE_METHODS[channel]) };
  }

  // Private: the agenda. Actions run in planned order; each runs with its planned time as "now".
  private plan(at: number, run: (at: number) => void): number {
    const entry = { at, seq: this.seq++, run };
    let i = this.agenda.length;
    while (i > 0 && this.agenda[i - 1]!.at > at) i--;
    this.agenda.splice(i, 0, entry);
    this.arm();
    return entry.seq;
  }

  private arm(): void {
    clearTimeout(this.timer);
    const head = this.agenda[0];
    if (this.closed || !head) return;
    // Wakes no later than Node's longest delay (a longer one would run after 1 ms, a wake-up every
    // millisecond at EMULATOR_LIVE_CONTACTS_PER_MINUTE=0.00001); runDue runs only what is due and re-arms.
    this.timer = setTimeout(() => this.runDue(), Math.min(Math.max(0, head.at - Date.now()), MAX_TIMER_MS));
    this.timer.unref();
  }

  private runDue(): void {
    const now = Date.now();
    while (!this.closed && this.agenda.length > 0 && this.agenda[0]!.at <= now) {
      const entry = this.agenda.shift()!;
      entry.run(entry.at);
    }
    this.arm();
  }
}
