import type { FunctionConfig } from "./function-config.js";

/** The dead-letter topic of a function, or null when it never dead-letters. */
export function deadLetterTopic(config: Pick<FunctionConfig, "name" | "deadLetter">): string | null {
  if (config.deadLetter.topic === false) return null;
  return config.deadLetter.topic ?? `${config.name}.dlt`;
}
