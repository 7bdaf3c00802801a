// typed.ts: a TypeScript script; surge strips the types with esbuild, as k6 does.
//   BASE_URL=http://localhost:8000 surge run examples/k6/typed.ts
import http from "k6/http";
import { check } from "k6";

interface Item {
  id: number;
  name?: string;
}

const base: string = __ENV.BASE_URL || "http://localhost:8000";

export const options = { vus: 2, iterations: 10 };

export default function (): void {
  const res = http.get(`${base}/api/items`);
  const items = res.json() as Item[];
  check(items, { "items have ids": (xs: Item[]) => xs.every((x) => typeof x.id === "number") });
}
