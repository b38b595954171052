import { Hono } from "hono";
import type { Admin } from "kafkajs";
import { z } from "zod";
import { formatIssues } from "../config/field-problems.js";
import { consumerGroupId, type FunctionRecord } from "../config/function-record.js";
import { groupLag } from "../kafka/topics.js";
import type { WorkerSupervisor } from "../worker/supervisor.js";
import type { DeployRequest, Deployer } from "./deployer.js";
import { httpError } from "./errors.js";
import type { FunctionRegistry } from "./registry.js";

export interface FunctionsRouteDeps {
  registry: FunctionRegistry;
  deployer: Deployer;
  supervisor: WorkerSupervisor;
  admin: Admin;
  topicPrefix: string;
}

const stringMap = z.record(z.string(), z.string({ error: "expected a string" }), { error: "expected an object of strings" });
const deployBody = z
  .object({
    source: z.string({ error: "expected a string" }).min(1, { error: "expected source code" }).optional(),
    filename: z.string({ error: "expected a string" }).optional(),
    files: stringMap.optional(),
    entry: z.string({ error: "expected a string" }).optional(),
    bundle: z.string({ error: "expected a string" }).min(1, { error: "expected a bundle" }).optional(),
    config: z.record(z.string(), z.unknown(), { error: "expected an object" }).optional(),
    env: stringMap.optional(),
  })
  .strict()
  .superRefine((body, ctx) => {
    const given = [body.source !== undefined, body.files !== undefined, body.bundle !== undefined].filter(Boolean).length;
    if (given !== 1) ctx.addIssue({ code: "custom", path: ["source"], message: "expected exactly one of source, files (with entry) or bundle" });
    if (body.files !== undefined && body.entry === undefined) ctx.addIssue({ code: "custom", path: ["entry"], message: "expected the entry file of files" });
  });

function toDeployRequest(body: z.output<typeof deployBody>): DeployRequest {
  const extras = { config: body.config, env: body.env };
  if (body.bundle !== undefined) return { bundle: body.bundle, ...extras };
  if (body.files !== undefined) return { files: body.files, entry: body.entry!, ...extras };
  return { source: body.source!, filename: body.filename, ...extras };
}

/** What every answer about a function shows; the bundle itself stays out. */
export function describeFunction(record: FunctionRecord) {
  return { name: record.name, version: record.version, handler: record.handler, deployedAt: record.deployedAt, config: record.config };
}

export function functionsRoutes(deps: FunctionsRouteDeps): Hono {
  const app = new Hono();

  app.post("/", async (c) => {
    const json: unknown = await c.req.json().catch(() => {
      throw httpError("EDDY_BAD_REQUEST", "the body is not valid JSON");
    });
    const parsed = deployBody.safeParse(json, { reportInput: true });
    if (!parsed.success) {
      const details = formatIssues(parsed.error.issues);
      throw httpError("EDDY_BAD_REQUEST", "invalid deploy request", details);
    }
    const { record, changed } = await deps.deployer.deploy(toDeployRequest(parsed.data));
    return c.json(describeFunction(record), changed ? 201 : 200);
  });

  app.get("/", (c) => c.json({ functions: deps.registry.list().map(describeFunction) }));

  app.get("/:name", async (c) => {
    const record = deps.registry.get(c.req.param("name"));
    if (!record) throw httpError("EDDY_NOT_FOUND", `no function named '${c.req.param("name")}'`);
    const replicas = deps.supervisor.status(record.name);
    const lag = await groupLag(deps.admin, consumerGroupId(deps.topicPrefix, record.name), record.config.topics);
    return c.json({
      ...describeFunction(record),
      state: replicas.ready > 0 ? "running" : replicas.restarts > 0 ? "failing" : "starting",
      replicas: { desired: replicas.desired, ready: replicas.ready },
      lag,
      circuit: replicas.circuit,
      stats: replicas.stats ?? { processed: 0, failed: 0, retried: 0, deadLettered: 0, p50Ms: 0, p99Ms: 0 },
    });
  });

  return app;
}
