/** The HTTP API client: every call carries the bearer token, and errors arrive as `ApiError`s with the API's message. */

/** A failed call: `status` is 0 when the server could not be reached at all. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface ErrorBody {
  error?: { code?: string; message?: string; details?: { path: string; message: string }[] };
}

export class Api {
  /** Called on any 401, after which the caller's promise still rejects. */
  onUnauthorized: () => void = () => {};

  constructor(readonly token: string) {}

  get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return this.call<T>("GET", path, undefined, signal);
  }

  post<T>(path: string, body: unknown = {}, signal?: AbortSignal): Promise<T> {
    return this.call<T>("POST", path, body, signal);
  }

  /** A raw response, for the streamed log; errors are thrown as for `get`. */
  async stream(path: string, signal: AbortSignal): Promise<Response> {
    const response = await this.send("GET", path, undefined, signal);
    if (!response.ok) throw await this.failure(response);
    return response;
  }

  private async call<T>(method: string, path: string, body: unknown, signal?: AbortSignal): Promise<T> {
    const response = await this.send(method, path, body, signal);
    if (!response.ok) throw await this.failure(response);
    return (await response.json()) as T;
  }

  private async send(method: string, path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    try {
      return await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new ApiError(0, "NETWORK", `Eddy could not be reached (${error instanceof Error ? error.message : String(error)})`);
    }
  }

  private async failure(response: Response): Promise<ApiError> {
    if (response.status === 401) this.onUnauthorized();
    const body = (await response.json().catch(() => ({}))) as ErrorBody;
    const details = (body.error?.details ?? []).map((d) => `${d.path}: ${d.message}`);
    const message = [body.error?.message ?? `${response.status} ${response.statusText}`, ...details].join("; ");
    return new ApiError(response.status, body.error?.code ?? `HTTP_${response.status}`, message);
  }
}

/** A function's API path, with its name escaped. */
export function functionPath(name: string, rest = ""): string {
  return `/v1/functions/${encodeURIComponent(name)}${rest}`;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
