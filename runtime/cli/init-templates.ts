/** What `eddy init` writes: the files of a new function project, as text, keyed by their path in it. */
export interface ProjectTemplate {
  /** The function's name ([a-z0-9-]{1,63}), also the package's name and the source file's. */
  name: string;
  /** The npm spec of the `eddy` dependency: `file:/path/to/checkout` or `^0.1.0`. */
  eddySpec: string;
}

/**
 * The project's files, in the order `eddy init` prints them. The function is the README's
 * order-confirmation under the project's name, so the docs and a new project tell the same story.
 *
 * @example
 * projectFiles({ name: "billing", eddySpec: "^0.1.0" })["src/billing.ts"] // 'import { defineFunction, … } from "eddy/sdk"; …'
 */
export function projectFiles(template: ProjectTemplate): Record<string, string> {
  const { name } = template;
  return {
    "package.json": packageJson(template),
    "tsconfig.json": TSCONFIG,
    [`src/${name}.ts`]: functionSource(name),
    [`test/${name}.test.mjs`]: functionTest(name),
    "README.md": readme(template),
    ".gitignore": GITIGNORE,
  };
}

function packageJson({ name, eddySpec }: ProjectTemplate): string {
  const manifest = {
    name,
    version: "0.1.0",
    private: true,
    type: "module",
    scripts: {
      // isolated-vm (eddy/testing's isolate) needs Node 20's startup snapshot off; later Nodes accept the flag.
      test: "node --no-node-snapshot --test",
      deploy: `eddy deploy src/${name}.ts`,
    },
    dependencies: { eddy: eddySpec },
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

// For the editor and `tsc`: `eddy deploy` and eddy/testing bundle the source with esbuild and check no types.
// "bundler" resolution reads eddy's exports map, so `eddy/sdk` gets its .d.ts; no Node types, since the
// function runs in a V8 isolate, not in Node.
const TSCONFIG = `${JSON.stringify(
  {
    compilerOptions: {
      target: "ES2022",
      module: "ESNext",
      moduleResolution: "bundler",
      lib: ["ES2022"],
      types: [],
      strict: true,
      noUncheckedIndexedAccess: true,
      isolatedModules: true,
      skipLibCheck: true,
      noEmit: true,
    },
    include: ["src"],
  },
  null,
  2,
)}\n`;

function functionSource(name: string): string {
  return `import { defineFunction, NonRetriableError } from "eddy/sdk";

/** An order as it arrives on the \`orders\` topic, one JSON object per record. */
interface Order {
  id: string;
  email?: string;
}

/**
 * Asks for a confirmation email (on \`emails\`) for each order placed (on \`orders\`).
 * Make it yours: the topics, the types and the body. The contract is in Eddy's SPEC.md.
 */
export default defineFunction({
  name: "${name}",
  topics: ["orders"],
  async handle(event, ctx) {
    const order = event.json<Order | null>();
    // A retry cannot give an order an address: NonRetriableError sends the record to the
    // dead-letter topic (${name}.dlt) at once. Any other error is retried with backoff first.
    if (!order?.email) throw new NonRetriableError(\`order \${order?.id ?? "(no id)"} has no email\`);
    ctx.log.info("confirming order", order.id);
    await ctx.emit("emails", { to: order.email, orderId: order.id }, { key: event.key });
  },
});
`;
}

function functionTest(name: string): string {
  return `// Unit tests of src/${name}.ts: eddy/testing runs it in a real V8 isolate, as Eddy does, with no Kafka and no network.
// Plain JavaScript, so that \`node --test\` runs it as it is; testFunction bundles the TypeScript source itself.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { testFunction } from "eddy/testing";

const fn = await testFunction(fileURLToPath(new URL("../src/${name}.ts", import.meta.url)));
after(() => fn.dispose());

test("asks for a confirmation email for an order", async () => {
  const { outcomes, emitted, logs } = await fn.invoke([{ key: "o-1", value: { id: "o-1", email: "a@example.com" } }]);
  assert.deepEqual(outcomes, [{ status: "ok" }]);
  assert.equal(emitted.length, 1);
  assert.equal(emitted[0].topic, "emails");
  assert.equal(emitted[0].key, "o-1");
  assert.deepEqual(emitted[0].data, { to: "a@example.com", orderId: "o-1" });
  assert.ok(logs.some((line) => line.message === "confirming order o-1"));
});

test("dead-letters an order without an email, without retrying it", async () => {
  const { outcomes, emitted } = await fn.invoke([{ key: "o-2", value: { id: "o-2" } }]);
  assert.equal(outcomes[0].status, "failed");
  assert.equal(outcomes[0].error.name, "NonRetriableError");
  assert.equal(outcomes[0].error.retriable, false);
  assert.match(outcomes[0].error.message, /order o-2 has no email/);
  assert.deepEqual(emitted, []);
});
`;
}

function readme({ name, eddySpec }: ProjectTemplate): string {
  return `# ${name}

An Eddy function (serverless, on Apache Kafka): \`src/${name}.ts\` reads orders from the Kafka topic \`orders\` and asks for a confirmation email on \`emails\`; an order without an email goes to the dead-letter topic \`${name}.dlt\`.

## Install
\`\`\`sh
npm install
\`\`\`
\`eddy\` (\`${eddySpec}\`) is the one dependency: the SDK (\`eddy/sdk\`), the unit-test helper (\`eddy/testing\`) and the \`eddy\` command. It needs Node.js ≥ 20 and a C++ toolchain (isolated-vm compiles on install).

## Test
\`\`\`sh
npm test
\`\`\`
\`test/${name}.test.mjs\` runs the function in a real V8 isolate, the same sandbox and limits as in Eddy, with no Kafka and no network (\`node --test\`, with \`--no-node-snapshot\`, which isolated-vm needs on Node 20).

## Deploy
\`\`\`sh
npm run deploy          # eddy deploy src/${name}.ts
\`\`\`
\`eddy deploy\` bundles the file with this folder's \`node_modules\` and uploads it to the Eddy at \`EDDY_URL\` (default \`http://127.0.0.1:8080\`, where \`npx eddy start\` listens; \`--url\` and \`--token\` point elsewhere).

While you work on it, \`npx eddy dev src/${name}.ts\` deploys it, deploys again on every save and shows its logs and outcomes (and starts a local Eddy when none runs).
`;
}

const GITIGNORE = `node_modules/
# A local Eddy's data (eddy start, eddy dev): its broker's log and its token
.eddy/
`;
