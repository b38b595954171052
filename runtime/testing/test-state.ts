/**
 * ctx.state for a function under test: JSON values per partition and key, in memory. Seed it before an
 * invocation with `set`, read what the function wrote with `get`; a key with no value reads undefined.
 *
 * @example
 * ```ts
 * fn.state.set("acct-1", { balance: 10 });
 * await fn.invoke([{ key: "acct-1", value: { type: "withdrawn", amount: 4 } }]);
 * expect(fn.state.get("acct-1")).toEqual({ balance: 6 });
 * ```
 */
export class TestState {
  readonly #partitions = new Map<number, Map<string, string>>();

  get<T = unknown>(key: string, partition = 0): T | undefined {
    const json = this.json(key, partition);
    return json === undefined ? undefined : (JSON.parse(json) as T);
  }

  set(key: string, value: unknown, partition = 0): void {
    const json = JSON.stringify(value);
    if (json === undefined) throw new TypeError(`state.set: ${String(value)} is not a JSON value (use delete)`);
    this.write(key, json, partition);
  }

  delete(key: string, partition = 0): void {
    this.write(key, null, partition);
  }

  /** Every key and value of `partition`. */
  entries<T = unknown>(partition = 0): [string, T][] {
    return [...(this.#partitions.get(partition) ?? new Map<string, string>())].map(([key, json]) => [key, JSON.parse(json) as T]);
  }

  /** @internal The JSON text the sandbox reads. */
  json(key: string, partition: number): string | undefined {
    return this.#partitions.get(partition)?.get(key);
  }

  /** @internal A write of the function's (null: a delete). */
  write(key: string, json: string | null, partition: number): void {
    let values = this.#partitions.get(partition);
    if (values === undefined) this.#partitions.set(partition, (values = new Map()));
    if (json === null) values.delete(key);
    else values.set(key, json);
  }
}
