// What test/global-setup.ts provides to every test file through vitest's `inject`.
declare module "vitest" {
  export interface ProvidedContext {
    /** The Kafka bootstrap address of this test run, `host:port[,host:port…]`. */
    brokers: string;
    /** The data dir of the local Kafka the run started (its nodes are managed with it), null with KAFKA_BROKERS. */
    kafkaDataDir: string | null;
  }
}

export {};
