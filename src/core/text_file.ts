/** Reading a text file the operator named (a config file, a key, a certificate), with one voice for failures. */
import { AppError, type ErrorKind, quote } from "./errors.ts";

/** How a failure to read is reported. */
export interface NamedFileOptions {
  kind: ErrorKind;
  code: string;
  /** Refuse text without a PEM block; the message starts with this name ("TLS key"). */
  pem?: string;
}

/**
 * Reads `path`; a failure throws `Cannot read WHAT "PATH": reason` with the given kind and
 * code (`what` may be empty). With `pem`, text that holds no PEM block is refused too.
 */
export async function readNamedFile(
  path: string,
  what: string,
  options: NamedFileOptions,
): Promise<string> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    throw new AppError(
      options.kind,
      options.code,
      `Cannot read ${what ? `${what} ` : ""}${quote(path)}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  if (options.pem !== undefined && !text.includes("-----BEGIN ")) {
    throw new AppError(options.kind, options.code, `${options.pem} ${quote(path)} is not PEM`);
  }
  return text;
}

/**
 * Reads a PEM file of CA certificates to trust; `what` names it in errors
 * ("upstream CA certificate", "sync.caCert").
 */
export function readCaCert(path: string, what: string): Promise<string> {
  return readNamedFile(path, what, {
    kind: "internal",
    code: "config_invalid",
    pem: `The ${what}`,
  });
}
