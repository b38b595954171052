import { parseEgressEntry, type EgressRule } from "../config/egress.js";
import { invalidFunctionError } from "./errors.js";

const DEFAULT_PORTS: Record<string, number> = { "http:": 80, "https:": 443 };

/**
 * What a function's ctx.fetch may reach: http and https URLs whose host is listed in `egress`,
 * on the listed port when the entry has one. Checked on the host, for the first URL and for every
 * redirect; the isolate's own checks are only for early errors.
 */
export class EgressPolicy {
  readonly rules: readonly EgressRule[];
  readonly #entries: readonly string[];

  private constructor(entries: readonly string[], rules: EgressRule[]) {
    this.#entries = entries;
    this.rules = rules;
  }

  /** @throws EddyError EDDY_SANDBOX_INVALID_FUNCTION (userError) naming each entry that is not `host` or `host:port`. */
  static from(entries: readonly string[] = []): EgressPolicy {
    const rules: EgressRule[] = [];
    const problems: string[] = [];
    entries.forEach((entry, i) => {
      const parsed = parseEgressEntry(entry);
      if ("problem" in parsed) problems.push(`egress.${i}: ${parsed.problem}`);
      else rules.push(parsed);
    });
    if (problems.length > 0) throw invalidFunctionError(problems);
    return new EgressPolicy([...entries], rules);
  }

  /** Why `url` may not be fetched, or undefined when it may. */
  denial(url: URL): string | undefined {
    const port = url.port === "" ? DEFAULT_PORTS[url.protocol] : Number(url.port);
    if (port === undefined) return `only http: and https: URLs can be fetched, got ${url.protocol}`;
    const allowed = this.rules.some((rule) => rule.hostname === url.hostname && (rule.port === null || rule.port === port));
    if (allowed) return undefined;
    const listed = this.#entries.length === 0 ? "egress is empty" : `egress allows ${this.#entries.join(", ")}`;
    return `${url.hostname}:${port} is not in this function's egress (${listed}); add "${url.hostname}" or "${url.hostname}:${port}" to egress to allow it`;
  }
}
