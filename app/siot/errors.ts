// Errors of the pure SIOT layer. A `code` lets callers branch (e.g. reply
// "bad subject" to a client) without matching on message text.

/** Codes used by this folder. Open-ended so callers may add their own. */
export type SiotErrorCode = 'bad-subject' | 'bad-point' | 'decode' | (string & {});

export class SiotError extends Error {
  readonly code: SiotErrorCode;

  constructor(code: SiotErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SiotError';
    this.code = code;
  }
}

/** A binary `Points` buffer could not be decoded. */
export class PointsDecodeError extends SiotError {
  /** Byte offset into the input where decoding failed. */
  readonly offset: number;

  constructor(message: string, offset: number, options?: ErrorOptions) {
    super('decode', message, options);
    this.name = 'PointsDecodeError';
    this.offset = offset;
  }
}
