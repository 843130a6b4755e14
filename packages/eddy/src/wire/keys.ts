/** An API key as listed: never its secret. */
export interface ApiKeyView {
  id: string;
  name: string;
  scopes: string[];
  createdAt: number;
  expiresAt?: number;
}

/** `POST /v1/keys` body. */
export interface CreateKeyRequest {
  /** 1-100 printable characters. */
  name: string;
  scopes: string[];
  /** "90d" or ms; absent: never expires. */
  expiresIn?: string | number;
}

/** `POST /v1/keys` answer (201): the token is shown this once. */
export interface CreatedKey {
  key: ApiKeyView;
  token: string;
}

/** `GET /v1/keys` answer. */
export interface KeysResponse {
  keys: ApiKeyView[];
}
