import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tokenCreated, tokenList } from "../../runtime/control/api-schemas.js";
import { EddyProcess, runEddy, tempDir } from "../helpers/eddy-process.js";
import { echo } from "./sources.js";

const PREFIX = "tok.";

describe("scoped tokens on a real Eddy", () => {
  let dataDir: string;
  let eddy: EddyProcess;
  const env = () => ({ EDDY_DATA_DIR: dataDir, EDDY_TOPIC_PREFIX: PREFIX, EDDY_METRICS_AUTH: "token" });
  const eddyCli = (...args: string[]) => runEddy(args, eddy.env);
  const as = (token: string, method: string, route: string, body?: unknown) => eddy.api(method, route, body, { authorization: `Bearer ${token}` });
  const metrics = (token?: string) => fetch(`${eddy.url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} }).then((r) => r.status);

  beforeAll(async () => {
    dataDir = await tempDir("eddy-tokens");
    eddy = await EddyProcess.start(env());
  });
  afterAll(async () => {
    await eddy?.stop();
  });

  it("creates, uses and revokes tokens, and keeps them across a restart", async () => {
    // Made with the CLI: the secret alone on stdout, shown this once.
    const created = await eddyCli("token", "create", "--scope", "read", "--name", "dashboards");
    expect(created.code, created.stderr).toBe(0);
    const readToken = created.stdout.trim();
    expect(readToken).toMatch(/^eddy_\S+$/);
    expect(created.stderr).toMatch(/created token [0-9a-f]{16}: read\. Store it now/);

    // Made over the API: a deploy token limited to tok-a-*.
    const deployAnswer = await eddy.api("POST", "/v1/tokens", { scope: "deploy", functions: "tok-a-*", name: "team a" });
    expect(deployAnswer.status).toBe(201);
    const deployToken = tokenCreated.parse(deployAnswer.body);

    const listed = await eddyCli("token", "ls", "--json");
    expect(listed.code).toBe(0);
    expect(listed.stdout).not.toContain(readToken);
    expect(listed.stdout).not.toContain(deployToken.token);
    const tokens = tokenList.shape.tokens.parse(JSON.parse(listed.stdout));
    expect(tokens.map((t) => [t.scope, t.name, t.functions])).toEqual([
      ["read", "dashboards", undefined],
      ["deploy", "team a", "tok-a-*"],
    ]);
    const readId = tokens[0]!.id;
    expect((await eddyCli("token", "ls")).stdout).toContain(`${deployToken.id}\tdeploy (functions tok-a-*)\tteam a\t`);

    // The read token reads, and nothing else.
    expect((await as(readToken, "GET", "/v1/functions")).status).toBe(200);
    const readDeploy = await as(readToken, "POST", "/v1/functions", { source: echo("tok-a-echo", "tok-in", "tok-out", "r") });
    expect(readDeploy.status).toBe(403);
    expect(readDeploy.body.error).toMatchObject({ code: "EDDY_FORBIDDEN", message: "this call needs the deploy scope; the token has read" });
    const cliWithRead = await runEddy(["token", "ls", "--token", readToken], eddy.env);
    expect(cliWithRead.code).toBe(1);
    expect(cliWithRead.stderr.trim()).toBe("eddy: this call needs the admin scope; the token has read");

    // The deploy token deploys functions matching its pattern, and only those: the refused one is never written.
    const deployedA = await as(deployToken.token, "POST", "/v1/functions", { source: echo("tok-a-echo", "tok-in", "tok-out", "a") });
    expect(deployedA.status).toBe(201);
    const deployedB = await as(deployToken.token, "POST", "/v1/functions", { source: echo("tok-b-echo", "tok-in", "tok-out", "b") });
    expect(deployedB.status).toBe(403);
    expect(deployedB.body.error.message).toBe("this call needs the deploy scope for function 'tok-b-echo'; the token has deploy for functions matching 'tok-a-*'");
    expect((await eddy.api("GET", "/v1/functions/tok-b-echo")).status).toBe(404);
    expect((await as(deployToken.token, "POST", "/v1/functions/tok-a-echo/pause")).status).toBe(200);
    expect((await as(deployToken.token, "DELETE", "/v1/functions/tok-a-echo")).status).toBe(403);

    // /metrics (EDDY_METRICS_AUTH=token): 401 without a token, 200 with a read token.
    expect(await metrics()).toBe(401);
    expect(await metrics("eddy_wrong")).toBe(401);
    expect(await metrics(readToken)).toBe(200);

    const revoked = await eddyCli("token", "revoke", readId);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toBe(`revoked ${readId}\n`);
    expect((await as(readToken, "GET", "/v1/functions")).status).toBe(401);
    expect(await metrics(readToken)).toBe(401);
    const again = await eddyCli("token", "revoke", readId);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`eddy: no token with id '${readId}'`);

    // A restart on the same data dir and prefix rebuilds the tokens from their topic.
    expect(await eddy.stop()).toBe(0);
    eddy = await EddyProcess.start(env());
    expect((await as(deployToken.token, "GET", "/v1/functions/tok-a-echo")).status).toBe(200);
    expect((await as(deployToken.token, "POST", "/v1/functions/tok-a-echo/resume")).status).toBe(200);
    expect((await as(deployToken.token, "POST", "/v1/functions/tok-b-echo/pause")).status).toBe(403);
    expect((await as(readToken, "GET", "/v1/functions")).status).toBe(401);
    expect((await eddy.api("GET", "/v1/tokens")).body.tokens.map((t: { id: string }) => t.id)).toEqual([deployToken.id]);

    expect((await eddy.api("DELETE", "/v1/functions/tok-a-echo")).status).toBe(204);
  });

  it("refuses a bad --scope in one line", async () => {
    const result = await eddyCli("token", "create", "--scope", "root");
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("eddy: --scope: expected read, deploy or admin, got root\n");
  });
});
