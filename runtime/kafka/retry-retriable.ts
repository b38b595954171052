/**
 * Runs `work` again (up to `attempts` times, waiting 200 ms × attempt) while it fails with an error Kafka
 * marks retriable: a coordinator still loading or moving (NOT_COORDINATOR right after the broker first
 * creates `__consumer_offsets`), a partition without a leader yet after a topic was created. Anything
 * else is thrown at once.
 */
export async function retryRetriable<T>(work: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      if ((error as { retriable?: boolean }).retriable !== true || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}
