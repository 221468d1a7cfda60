/**
 * The limits of the Deno KV API: Deno KV's own by default (denoland/deno
 * `ext/kv/config.rs`, with the same error messages), so that code written
 * against Strata also runs on Deno Deploy, or Strata's, far larger, when
 * `openKv(path, { limits: "strata" })` asks for them.
 *
 * @module
 */

/** Every limit the Deno KV API checks. */
export interface KvLimits {
  /** Largest encoded key written (set, delete, check). */
  maxWriteKeyBytes: number;
  /** Largest encoded bound of a read. */
  maxReadKeyBytes: number;
  /** Largest value (V8 bytes, raw bytes, or 8 for a u64). */
  maxValueBytes: number;
  /** Keys of one `getMany`. */
  maxReadRanges: number;
  /** Entries one list batch may ask for. */
  maxReadEntries: number;
  /** Checks of one atomic operation. */
  maxChecks: number;
  /** Mutations and enqueues of one atomic operation. */
  maxMutations: number;
  /** Keys of one `watch`. */
  maxWatchedKeys: number;
  /** Bytes of keys and values one atomic operation writes. */
  maxTotalMutationBytes: number;
  /** Bytes of keys one atomic operation writes. */
  maxTotalKeyBytes: number;
}

/** Deno KV's limits (Deno 2.9). */
export const DENO_KV_LIMITS: Readonly<KvLimits> = Object.freeze({
  maxWriteKeyBytes: 2048,
  maxReadKeyBytes: 2049,
  maxValueBytes: 65536,
  maxReadRanges: 10,
  maxReadEntries: 1000,
  maxChecks: 100,
  maxMutations: 1000,
  maxWatchedKeys: 10,
  maxTotalMutationBytes: 800 * 1024,
  maxTotalKeyBytes: 80 * 1024,
});

/**
 * Strata's limits: values up to what the engine stores (256 MiB, less the
 * entry's header), keys up to the engine's 64 KiB, atomics of 100,000
 * mutations and watches of 1,000 keys.
 */
export const STRATA_LIMITS: Readonly<KvLimits> = Object.freeze({
  maxWriteKeyBytes: 65535 - 1, // the engine's key, less the space byte
  maxReadKeyBytes: 65535,
  maxValueBytes: 256 * 1024 * 1024 - 64,
  maxReadRanges: 1000,
  maxReadEntries: 100_000,
  maxChecks: 100_000,
  maxMutations: 100_000,
  maxWatchedKeys: 1000,
  maxTotalMutationBytes: 1024 * 1024 * 1024,
  maxTotalKeyBytes: 256 * 1024 * 1024,
});
