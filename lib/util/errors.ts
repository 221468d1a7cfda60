/**
 * Error classes thrown by Strata. Every error extends {@link StrataError}
 * and carries a stable string `code`, so callers can branch on the kind of
 * failure without parsing messages.
 *
 * @module
 */

/**
 * Base class of every error Strata throws on purpose.
 *
 * @example Branch on the error code
 * ```ts
 * import { StrataError } from "./errors.ts";
 * try {
 *   throw new StrataError("INTERNAL", "Something failed");
 * } catch (err) {
 *   if (err instanceof StrataError) console.log(err.code);
 * }
 * ```
 */
export class StrataError extends Error {
  /** Stable machine-readable code, such as `"CORRUPTION"`. */
  readonly code: string;

  /**
   * Creates the error.
   *
   * @param code Stable machine-readable code.
   * @param message Human-readable message.
   * @param options Standard error options (`cause`).
   */
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(`strata: ${message}`, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * A caller passed a value Strata cannot accept: a key of the wrong type or
 * size, an unknown option, an out-of-range number. The message quotes the
 * offending value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InvalidArgumentError } from "./errors.ts";
 * const err = new InvalidArgumentError('Invalid option "blockSize": 0');
 * assert(err.code === "INVALID_ARGUMENT");
 * ```
 */
export class InvalidArgumentError extends StrataError {
  /**
   * Creates the error.
   *
   * @param message What was wrong, naming the bad value.
   */
  constructor(message: string) {
    super("INVALID_ARGUMENT", message);
  }
}

/**
 * Bytes on disk failed a checksum or do not follow the format. The message
 * names the file and the offset of the bad bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CorruptionError } from "./errors.ts";
 * const err = new CorruptionError("000004.sst", 4096, "block checksum mismatch");
 * assert(err.file === "000004.sst" && err.offset === 4096);
 * ```
 */
export class CorruptionError extends StrataError {
  /** Path of the corrupt file. */
  readonly file: string;
  /** Byte offset in `file` where the problem was found. */
  readonly offset: number;

  /**
   * Creates the error.
   *
   * @param file Path of the corrupt file.
   * @param offset Byte offset of the bad bytes.
   * @param reason What is wrong with them.
   */
  constructor(file: string, offset: number, reason: string) {
    super(
      "CORRUPTION",
      `Corruption in "${file}" at offset ${offset}: ${reason}`,
    );
    this.file = file;
    this.offset = offset;
  }
}

/**
 * The database directory is held by another handle, in this process or
 * another one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LockedError } from "./errors.ts";
 * assert(new LockedError("Locked").code === "LOCKED");
 * ```
 */
export class LockedError extends StrataError {
  /**
   * Creates the error.
   *
   * @param message Which directory, and who holds it if known.
   */
  constructor(message: string) {
    super("LOCKED", message);
  }
}

/**
 * The database handle (or snapshot) was used after it was closed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ClosedError } from "./errors.ts";
 * assert(new ClosedError("Closed").code === "CLOSED");
 * ```
 */
export class ClosedError extends StrataError {
  /**
   * Creates the error.
   *
   * @param message What was used after close.
   */
  constructor(message: string) {
    super("CLOSED", message);
  }
}

/**
 * There is no database at the path and `createIfMissing` is false.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NotFoundError } from "./errors.ts";
 * assert(new NotFoundError("Missing").code === "NOT_FOUND");
 * ```
 */
export class NotFoundError extends StrataError {
  /**
   * Creates the error.
   *
   * @param message Which path holds no database.
   */
  constructor(message: string) {
    super("NOT_FOUND", message);
  }
}

/**
 * A database exists at the path and `errorIfExists` is true.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ExistsError } from "./errors.ts";
 * assert(new ExistsError("Exists").code === "EXISTS");
 * ```
 */
export class ExistsError extends StrataError {
  /**
   * Creates the error.
   *
   * @param message Which path already holds a database.
   */
  constructor(message: string) {
    super("EXISTS", message);
  }
}

/**
 * A filesystem call failed: a full disk (`ENOSPC`), an I/O error (`EIO`),
 * a permission refused. The message names the operation and the file;
 * `cause` is the error the filesystem threw. After a failed write or sync
 * the database refuses further writes (nobody can tell which bytes reached
 * the disk); reads go on, and a reopen recovers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { IOError } from "./errors.ts";
 * const err = new IOError("sync", "db/000005.log", new Error("Input/output error (os error 5)"));
 * assert(err.code === "IO_ERROR" && err.operation === "sync");
 * assert.match(err.message, /Cannot sync "db\/000005.log": Input\/output error/);
 * ```
 */
export class IOError extends StrataError {
  /** What was being done: `"write"`, `"sync"`, `"create"`, `"rename"`… */
  readonly operation: string;
  /** The file or directory it was done to. */
  readonly file: string;

  /**
   * Creates the error.
   *
   * @param operation What was being done.
   * @param file The file or directory.
   * @param cause What the filesystem threw.
   */
  constructor(operation: string, file: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super("IO_ERROR", `Cannot ${operation} "${file}": ${reason}`, { cause });
    this.operation = operation;
    this.file = file;
  }
}
