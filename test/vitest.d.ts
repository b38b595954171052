// What test/global-setup.ts provides to every test file through vitest's `inject`.
declare module "vitest" {
  export interface ProvidedContext {
    /** The Kafka bootstrap address of this test run, `host:port[,host:port…]`. */
    brokers: string;
  }
}

export {};
