// Calls to the gateway's public APIs with the signed-in credential; errors come back Anthropic-shaped.

export class ApiError extends Error {
  constructor(status, type, message) {
    super(message);
    this.status = status;
    this.type = type;
  }
}

export function createApi(credential, onUnauthorized) {
  async function call(method, path, { params, body } = {}) {
    const url = new URL(path, window.location.origin);
    for (const [name, value] of Object.entries(params || {})) {
      if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
    }
    const headers = { accept: "application/json", ...credential.headers() };
    if (body !== undefined) headers["content-type"] = "application/json";
    let response;
    try {
      response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch {
      throw new ApiError(0, "network_error", "The gateway cannot be reached.");
    }
    if (response.status === 204) return null;
    const payload = await response.json().catch(() => null);
    if (!response.ok) {
      const error = payload && payload.error ? payload.error : { type: "api_error", message: response.statusText };
      if (response.status === 401 && onUnauthorized) onUnauthorized(error.message);
      throw new ApiError(response.status, error.type, error.message);
    }
    return payload;
  }
  return {
    get: (path, params) => call("GET", path, { params }),
    post: (path, body) => call("POST", path, { body }),
    put: (path, body) => call("PUT", path, { body }),
    delete: (path) => call("DELETE", path),
  };
}
