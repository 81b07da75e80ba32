// Reading Kubernetes manifests: YAML or JSON files, several documents per file, `-` for stdin.
import { readFile } from "node:fs/promises";
import { parseAllDocuments } from "yaml";

export interface SourceDocument {
  /** The file name as given (`-` for stdin). */
  file: string;
  /** 1-based position of the document in its file. */
  index: number;
  /** The parsed value (plain JSON: objects, arrays, strings, numbers, booleans, null). */
  value: unknown;
}

export interface SourceError {
  file: string;
  /** 1-based line and column, when known. */
  line?: number;
  column?: number;
  message: string;
}

export interface ReadResult {
  documents: SourceDocument[];
  errors: SourceError[];
}

/** `FILE:LINE:COL: message` (or `FILE: message` without a position). */
export function formatSourceError(e: SourceError): string {
  const pos = e.line !== undefined ? `:${e.line}${e.column !== undefined ? `:${e.column}` : ""}` : "";
  return `${e.file}${pos}: ${e.message}`;
}

async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Parses the text of one file into documents. Empty documents (e.g. a trailing `---`) are dropped but
 * still counted, so `index` is the position a reader sees.
 */
export function parseDocuments(file: string, text: string): ReadResult {
  const documents: SourceDocument[] = [];
  const errors: SourceError[] = [];
  const parsed = parseAllDocuments(text, { merge: true, prettyErrors: true, uniqueKeys: true });
  const docs = Array.isArray(parsed) ? parsed : [];
  docs.forEach((doc, i) => {
    if (doc.errors.length > 0) {
      for (const err of doc.errors) {
        const pos = err.linePos?.[0];
        const message = (err.message.split("\n")[0] ?? err.message).replace(/ at line \d+, column \d+:?$/, "");
        errors.push({ file, line: pos?.line, column: pos?.col, message });
      }
      return;
    }
    if (doc.contents === null) return;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 1000 });
    } catch (err) {
      const range = doc.contents.range;
      const lc = range ? lineCol(text, range[0]) : undefined;
      errors.push({ file, line: lc?.line, column: lc?.column, message: (err as Error).message });
      return;
    }
    documents.push({ file, index: i + 1, value });
  });
  return { documents, errors };
}

function lineCol(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
}

/** Reads and parses each file in order (`-` reads stdin once). Unreadable files become errors. */
export async function readDocuments(
  files: readonly string[],
  stdin: NodeJS.ReadableStream = process.stdin,
): Promise<ReadResult> {
  const out: ReadResult = { documents: [], errors: [] };
  for (const file of files) {
    let text: string;
    try {
      text = file === "-" ? await readStdin(stdin) : await readFile(file, "utf8");
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const reason =
        e.code === "ENOENT"
          ? "no such file"
          : e.code === "EISDIR"
            ? "is a directory"
            : e.code === "EACCES"
              ? "permission denied"
              : e.message;
      out.errors.push({ file, message: `cannot read file: ${reason}` });
      continue;
    }
    const r = parseDocuments(file, text);
    out.documents.push(...r.documents);
    out.errors.push(...r.errors);
  }
  return out;
}
