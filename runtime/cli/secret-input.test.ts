import { describe, expect, it } from "vitest";
import { secretsFromOptions } from "./secret-input.js";

describe("secretsFromOptions", () => {
  it("takes NAME=value as given and a bare NAME from the environment", async () => {
    expect(await secretsFromOptions(["A=1=2", "B"], { B: "from env" })).toEqual({ A: "1=2", B: "from env" });
  });

  it("refuses a name that is not a variable name, naming the option", async () => {
    await expect(secretsFromOptions(["1BAD=x"], {})).rejects.toThrow("--secret: expected NAME=value or NAME (a variable name), got 1BAD");
    await expect(secretsFromOptions(["=x"], {})).rejects.toThrow("--secret");
  });
});
