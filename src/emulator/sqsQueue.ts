import { createHash, randomUUID } from "node:crypto";
import type { Stats } from "./stats.js";

/** One message as a receiver gets it (ReceiveMessage's `Message`, before the wire). */
export interface ReceivedMessage {
  MessageId: string;
  /** New on every receive; only the latest one deletes the message. */
  ReceiptHandle: string;
  /** Hex MD5 of the UTF-8 body: the SDK checks it on every message it receives. */
  MD5OfBody: string;
  Body: string;
  /** The system attributes asked for (ApproximateReceiveCount, SentTimestamp, ...), as SQS spells them. */
  Attributes?: Record<string, string>;
}

/** Where a queue's messages go after `maxReceiveCount` receives (SQS's RedrivePolicy). */
export interface DeadLetterTarget {
  queue: SqsQueue;
  maxReceiveCount: number;
}

/** The outcome of acting on a receipt handle, as SQS decides it. */
export type HandleOutcome = "ok" | "invalid" | "notInFlight";

/** The system attributes a message can carry, for "All". */
const SYSTEM_ATTRIBUTES = ["SenderId", "SentTimestamp", "ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp", "DeadLetterQueueSourceArn"] as const;

/**
 * An SQS standard queue with SQS's delivery semantics, in memory:
 * - a received message is invisible for the visibility timeout (the queue's, or the receive's
 *   override) and comes back unless deleted; ChangeMessageVisibility moves that moment, 0 releases
 *   it at once;
 * - every receive gives a new receipt handle; deleting with an older one succeeds but leaves the
 *   message (SQS: "the request will succeed, but the message might not be deleted"); a handle the
 *   queue never issued is ReceiptHandleIsInvalid; deleting twice succeeds;
 * - a long poll waits up to its WaitTimeSeconds and answers as soon as a message is visible (sent,
 *   released or back from its timeout), with what is visible then;
 * - with a dead-letter target, a message received `maxReceiveCount` times moves there instead of
 *   being received again.
 * Messages are handed out oldest first (SQS does not promise an order; a fixed one keeps tests exact).
 * `close()` answers every waiting long poll empty at once.
 */
export class SqsQueue {
  readonly arn: string;
  /** The queue URL's path: `/{accountId}/{name}`. */
  readonly path: string;
  deadLetter: DeadLetterTarget | undefined;
  private readonly messages = new Map<string, StoredMessage>();
  private readonly waiters = new Set<Waiter>();
  private wakeTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly name: string,
    readonly accountId: string,
    region: string,
    /** Seconds a received message stays invisible unless the receive says otherwise (SQS's default is 30). */
    readonly visibilityTimeoutSeconds: number,
    private readonly stats: Stats,
    private readonly now: () => number = Date.now,
  ) {
    this.arn = `arn:aws:sqs:${region}:${accountId}:${name}`;
    this.path = `/${accountId}/${name}`;
  }

  /** Puts a message on the queue (visible after `delaySeconds`); wakes a waiting long poll. */
  send(body: string, delaySeconds = 0): { MessageId: string; MD5OfMessageBody: string } {
    const message: StoredMessage = { id: randomUUID(), body, md5: md5Hex(body), sentAt: this.now(), receiveCount: 0, visibleAt: this.now() + delaySeconds * 1000 };
    this.enqueue(message);
    this.stats.sqs.messagesSent++;
    return { MessageId: message.id, MD5OfMessageBody: message.md5 };
  }

  /**
   * Receives up to `max` visible messages, waiting up to `waitSeconds` for one to become visible;
   * `signal` ends the wait (the caller went away) with nothing received.
   */
  async receive(request: { max: number; visibilitySeconds?: number | undefined; waitSeconds: number; attributeNames: readonly string[]; signal?: AbortSignal }): Promise<ReceivedMessage[]> {
    const take = () => this.take(request.max, request.visibilitySeconds ?? this.visibilityTimeoutSeconds, request.attributeNames);
    const now = take();
    if (now.length > 0 || request.waitSeconds <= 0 || this.closed || request.signal?.aborted) return now;
    return new Promise((resolve) => {
      const waiter: Waiter = {
        take,
        resolve: (messages) => {
          clearTimeout(timer);
          request.signal?.removeEventListener("abort", onAbort);
          this.waiters.delete(waiter);
          this.scheduleWake();
          resolve(messages);
        },
      };
      const onAbort = () => waiter.resolve([]);
      const timer = setTimeout(onAbort, request.waitSeconds * 1000);
      timer.unref();
      request.signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.add(waiter);
      this.scheduleWake();
    });
  }

  /** DeleteMessage: "ok" also for a handle already used or superseded (SQS succeeds then too). */
  delete(receiptHandle: string): HandleOutcome {
    const id = messageIdOf(receiptHandle);
    if (id === undefined) return "invalid";
    const message = this.messages.get(id);
    if (message && message.receipt === receiptHandle) {
      this.messages.delete(id);
      this.stats.sqs.messagesDeleted++;
      this.scheduleWake();
    }
    return "ok";
  }

  /** ChangeMessageVisibility: only the latest handle of a message in flight moves its visibility. */
  changeVisibility(receiptHandle: string, seconds: number): HandleOutcome {
    const id = messageIdOf(receiptHandle);
    if (id === undefined) return "invalid";
    const message = this.messages.get(id);
    const now = this.now();
    if (!message || message.receipt !== receiptHandle || message.visibleAt <= now) return "notInFlight";
    message.visibleAt = now + seconds * 1000;
    if (seconds === 0) this.serveWaiters();
    this.scheduleWake();
    return "ok";
  }

  /** Messages receivable now, and messages received and not yet visible again. */
  depth(): { visible: number; inFlight: number; delayed: number } {
    const now = this.now();
    let visible = 0;
    let inFlight = 0;
    let delayed = 0;
    for (const m of this.messages.values()) {
      if (m.visibleAt <= now) visible++;
      else if (m.receiveCount > 0) inFlight++;
      else delayed++;
    }
    return { visible, inFlight, delayed };
  }

  /** Answers every waiting long poll with no message, now and from now on; drops the wake timer. */
  close(): void {
    this.closed = true;
    for (const waiter of [...this.waiters]) waiter.resolve([]);
    clearTimeout(this.wakeTimer);
  }

  // Private: adds a message (a new one, or one moved here as the dead-letter queue) and serves waiters.
  private enqueue(message: StoredMessage): void {
    this.messages.set(message.id, message);
    this.serveWaiters();
    this.scheduleWake();
  }

  // Private: takes up to `max` visible messages, oldest first, redriving those received too often.
  private take(max: number, visibilitySeconds: number, attributeNames: readonly string[]): ReceivedMessage[] {
    const now = this.now();
    const out: ReceivedMessage[] = [];
    for (const message of this.messages.values()) {
      if (out.length >= max) break;
      if (message.visibleAt > now) continue;
      if (this.deadLetter && message.receiveCount >= this.deadLetter.maxReceiveCount) {
        this.messages.delete(message.id);
        this.stats.sqs.movedToDeadLetterQueue++;
        this.deadLetter.queue.enqueue({ ...message, receiveCount: 0, firstReceiveAt: undefined, receipt: undefined, visibleAt: now, deadLetterSourceArn: this.arn });
        continue;
      }
      message.receiveCount++;
      message.firstReceiveAt ??= now;
      message.visibleAt = now + visibilitySeconds * 1000;
      message.receipt = receiptHandleFor(message.id);
      this.stats.sqs.messagesReceived++;
      out.push({ MessageId: message.id, ReceiptHandle: message.receipt, MD5OfBody: message.md5, Body: message.body, ...attributesOf(message, attributeNames) });
    }
    return out;
  }

  // Private: hands visible messages to waiting long polls, first come first served.
  private serveWaiters(): void {
    for (const waiter of [...this.waiters]) {
      const messages = waiter.take();
      if (messages.length === 0) return;
      waiter.resolve(messages);
    }
  }

  // Private: while long polls wait, a timer fires when the next invisible message becomes visible,
  // or at once for a message already visible. A timer can fire a little before the clock reaches
  // the message's time (Node's timers run on the event loop's cached time), so the wake finds it
  // still invisible; by the time it schedules the next wake the clock may have reached it. Counting
  // only messages still invisible then left the long poll waiting out its WaitTimeSeconds with a
  // visible message on the queue.
  private scheduleWake(): void {
    clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    if (this.waiters.size === 0 || this.closed) return;
    const now = this.now();
    let next = Infinity;
    for (const m of this.messages.values()) if (m.visibleAt < next) next = m.visibleAt;
    if (next === Infinity) return;
    this.wakeTimer = setTimeout(() => {
      this.serveWaiters();
      this.scheduleWake();
    }, Math.max(0, next - now));
    this.wakeTimer.unref();
  }
}

// Private: messages, handles and attributes.

interface StoredMessage {
  id: string;
  body: string;
  md5: string;
  sentAt: number;
  receiveCount: number;
  firstReceiveAt?: number | undefined;
  /** Epoch ms from which the message is visible (in the past: visible now). */
  visibleAt: number;
  /** The latest receipt handle. */
  receipt?: string | undefined;
  deadLetterSourceArn?: string | undefined;
}

interface Waiter {
  take(): ReceivedMessage[];
  resolve(messages: ReceivedMessage[]): void;
}

function md5Hex(body: string): string {
  return createHash("md5").update(body, "utf8").digest("hex");
}

/** A receipt handle: opaque to clients, names the message and the receive. */
function receiptHandleFor(messageId: string): string {
  return Buffer.from(JSON.stringify({ m: messageId, r: randomUUID() })).toString("base64url");
}

/** The message id a handle of this emulator names, or undefined for anything else. */
function messageIdOf(handle: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(handle, "base64url").toString("utf8"));
    const m = parsed !== null && typeof parsed === "object" ? (parsed as { m?: unknown }).m : undefined;
    return typeof m === "string" ? m : undefined;
  } catch {
    return undefined;
  }
}

function attributesOf(message: StoredMessage, names: readonly string[]): { Attributes?: Record<string, string> } {
  if (names.length === 0) return {};
  const all = names.includes("All");
  const values: Record<string, string | undefined> = {
    SenderId: "AIDAEMULATOREVENTBRIDGE",
    SentTimestamp: String(message.sentAt),
    ApproximateReceiveCount: String(message.receiveCount),
    ApproximateFirstReceiveTimestamp: message.firstReceiveAt === undefined ? undefined : String(message.firstReceiveAt),
    DeadLetterQueueSourceArn: message.deadLetterSourceArn,
  };
  const attributes: Record<string, string> = {};
  for (const name of SYSTEM_ATTRIBUTES) {
    const value = values[name];
    if ((all || names.includes(name)) && value !== undefined) attributes[name] = value;
  }
  return Object.keys(attributes).length > 0 ? { Attributes: attributes } : {};
}
