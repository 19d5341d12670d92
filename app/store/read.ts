import { DeliverPolicy, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';

export interface ReadOptions {
  stream: string;
  filterSubjects: string[];
  /** `last` reads only the newest message of each subject (the tips). */
  mode: 'all' | 'last';
  /** Messages fetched per pull; large batches amortize round trips. */
  batch?: number;
}

/**
 * Reads a stream once, in order, to its current end, with an ordered
 * consumer: the server does the per-subject selection (one pass, no request
 * per subject) and only the filtered subjects are read.
 * Returns the number of messages read.
 */
export async function readStream(js: JetStreamClient, opts: ReadOptions, onMsg: (m: JsMsg) => void): Promise<number> {
  const consumer = await js.consumers.get(opts.stream, {
    filter_subjects: opts.filterSubjects,
    deliver_policy: opts.mode === 'last' ? DeliverPolicy.LastPerSubject : DeliverPolicy.All,
  });
  try {
    const info = await consumer.info(true);
    if (info.num_pending === 0) return 0;
    const iter = await consumer.consume({ max_messages: opts.batch ?? 10_000 });
    let n = 0;
    for await (const m of iter) {
      n++;
      onMsg(m);
      if (m.info.pending === 0) break;
    }
    return n;
  } finally {
    await consumer.delete().catch(() => undefined);
  }
}
