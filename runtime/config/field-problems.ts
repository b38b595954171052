import type { z } from "zod";

/** One problem with one field of some input, named by its dotted path. */
export interface FieldProblem {
  path: string;
  message: string;
}

function describeInput(input: unknown): string {
  if (input === undefined) return "nothing";
  try {
    const text = JSON.stringify(input);
    return text.length > 60 ? `${text.slice(0, 57)}...` : text;
  } catch {
    // A BigInt or a cycle; or nesting deep enough to run out of stack, where String() throws too.
    try {
      return String(input);
    } catch {
      return typeof input;
    }
  }
}

/** Turns zod issues into "path: expected …, got …" problems, one per issue. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): FieldProblem[] {
  return issues.map((issue) => {
    const path = issue.path.map(String).join(".");
    if (issue.code === "unrecognized_keys") {
      const keys = issue.keys.map((key) => (path ? `${path}.${key}` : key));
      return { path: keys.join(", "), message: `unknown field${keys.length > 1 ? "s" : ""}` };
    }
    const got = "input" in issue ? `, got ${describeInput(issue.input)}` : "";
    return { path: path || "(body)", message: `${issue.message}${got}` };
  });
}

/** "batch.maxSize: expected an integer from 1 to 10000, got 0", one problem a line. */
export function problemsToText(problems: FieldProblem[]): string {
  return problems.map((p) => `${p.path}: ${p.message}`).join("\n");
}
