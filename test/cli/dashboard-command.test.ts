import { describe, expect, it } from "vitest";
import { runEddy, tempDir } from "../helpers/eddy-process.js";

describe("eddy dashboard", () => {
  it("prints the dashboard's URL with the token in its fragment", async () => {
    const env = { EDDY_URL: "http://127.0.0.1:9999", EDDY_API_TOKEN: "a token/with+chars" };
    const plain = await runEddy(["dashboard", "--no-open"], env);
    expect(plain).toMatchObject({ code: 0, stderr: "" });
    expect(plain.stdout).toBe("http://127.0.0.1:9999/#token=a%20token%2Fwith%2Bchars\n");
    const json = await runEddy(["dashboard", "--json"], env);
    expect(JSON.parse(json.stdout)).toEqual({ url: "http://127.0.0.1:9999/#token=a%20token%2Fwith%2Bchars" });
  });

  it("says where a token comes from when there is none", async () => {
    const result = await runEddy(["dashboard", "--no-open", "--data-dir", await tempDir("eddy-no-token")], { EDDY_API_TOKEN: "" });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/no API token: pass --token, set EDDY_API_TOKEN, or run 'eddy start'/);
  });
});
