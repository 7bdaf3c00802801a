// typed.ts: a TypeScript script; surge strips the types with esbuild, as k6 does.
// setup() logs in once and every iteration sends its token.
//   BASE_URL=http://localhost:8000 surge run examples/k6/typed.ts
import http from "k6/http";
import { check } from "k6";

interface Item {
  id: number;
  name?: string;
}

interface SetupData {
  token: string;
}

const base: string = __ENV.BASE_URL || "http://localhost:8000";

export const options = { vus: 2, iterations: 10 };

export function setup(): SetupData {
  const r = http.post(`${base}/auth/login`, JSON.stringify({ username: "loadtest", password: "secret" }), {
    headers: { "Content-Type": "application/json" },
  });
  return { token: (r.json() as { access_token: string }).access_token };
}

export default function (data: SetupData): void {
  const res = http.get(`${base}/api/items`, {
    headers: { Authorization: `Bearer ${data.token}` },
  });
  const items = res.json() as Item[];
  check(items, { "items have ids": (xs: Item[]) => xs.every((x) => typeof x.id === "number") });
}
