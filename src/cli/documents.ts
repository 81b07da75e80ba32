// Reading Kubernetes manifests: YAML or JSON files, several documents per file, `-` for stdin. Each
// document can say where in its file a field is, so that problems are reported as FILE:LINE:COL.
import { readFile } from "node:fs/promises";
import { isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments } from "yaml";

/** 1-based line and column in a file. */
export interface Position {
  line: number;
  column: number;
}

export interface SourceDocument {
  /** The file name as given (`-` for stdin). */
  file: string;
  /** 1-based position of the document in its file. */
  index: number;
  /** The parsed value (plain JSON: objects, arrays, strings, numbers, booleans, null). */
  value: unknown;
  /** Where the document's content starts. */
  start: Position;
  /**
   * Where a field is, given its Kubernetes field path (`spec.replicatedJobs[0].replicas`,
   * `metadata.labels[example.com/key]`): the value of the deepest part of the path the file has (a problem
   * about a missing or defaulted field points at the nearest enclosing one), else the document's start.
   */
  locate(fieldPath: string): Position;
}

/**
 * The steps of a Kubernetes field path: names between dots, `[N]` list indices (numbers) and `[key]` map
 * keys (strings, which may hold dots).
 */
export function fieldPathSteps(path: string): (string | number)[] {
  const steps: (string | number)[] = [];
  let i = 0;
  while (i < path.length) {
    if (path[i] === "[") {
      const end = path.indexOf("]", i);
      if (end < 0) break;
      const inner = path.slice(i + 1, end);
      steps.push(/^\d+$/.test(inner) ? Number(inner) : inner);
      i = end + 1;
    } else {
      let end = i;
      while (end < path.length && path[end] !== "." && path[end] !== "[") end++;
      if (end > i) steps.push(path.slice(i, end));
      i = end;
    }
    if (path[i] === ".") i++;
  }
  return steps;
}

/** The deepest node along `steps` from `root` (a YAML AST node), and its source offset. */
function deepestOffset(root: unknown, steps: (string | number)[]): number | undefined {
  let node = root;
  let offset = rangeStart(root);
  for (const step of steps) {
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && String(isScalar(p.key) ? p.key.value : p.key) === String(step));
      if (!pair) break;
      // `key:` with nothing (or null) after it: the key is the place
      next = pair.value === null || (isScalar(pair.value) && pair.value.value === null) ? pair.key : pair.value;
    } else if (isSeq(node) && typeof step === "number") {
      next = node.items[step];
    }
    const at = rangeStart(next);
    if (next === undefined || next === null || at === undefined) break;
    node = next;
    offset = at;
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
  return range?.[0];
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

/** `FILE:LINE:COL`: where the CLI says a problem or a document is. */
export function at(file: string, p: Position): string {
  return `${file}:${p.line}:${p.column}`;
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
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { merge: true, prettyErrors: true, uniqueKeys: true, lineCounter });
  const docs = Array.isArray(parsed) ? parsed : [];
  const position = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
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
      const at = rangeStart(doc.contents);
      const lc = at === undefined ? undefined : position(at);
      errors.push({ file, line: lc?.line, column: lc?.column, message: (err as Error).message });
      return;
    }
    const contents = doc.contents;
    const start = position(rangeStart(contents) ?? 0);
    documents.push({
      file,
      index: i + 1,
      value,
      start,
      locate: (fieldPath) => {
        const at = deepestOffset(contents, fieldPathSteps(fieldPath));
        return at === undefined ? start : position(at);
      },
    });
  });
  return { documents, errors };
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
